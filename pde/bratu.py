"""P6: the Bratu problem ``u'' + lam exp(u) = 0`` on ``(0, 1)``, ``u(0) = u(1) = 0``: a fold.

Two branches of solutions exist for ``0 < lam < lam_c = 3.513830719125162``
and none above. Natural continuation in ``lam`` stops at the fold;
pseudo-arclength (``continuation.trace(..., method="arclength")``) goes round
it onto the upper branch. Two discretisations share the exact solution:

* :class:`BratuFD`: the state is the vector of grid values (classic
  continuation), second-order central differences, analytic Jacobian.
* :class:`BratuNetwork`: ``u = x (1 - x) N_theta(x)`` with an MLP (hard
  boundary conditions), residual at collocation points.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
from torch import Tensor

from continuation import PointwiseResidual, ResidualMap
from models import MLP

from .base import NetworkProblem, device_of, relative_l2
from .calculus import laplacian

__all__ = ["LAMBDA_CRITICAL", "bratu_exact", "bratu_parameter", "BratuFD", "BratuNetwork"]

_T_CRITICAL = 4.0 * 1.1996786402577338  # (t/4) tanh(t/4) = 1
LAMBDA_CRITICAL = 3.513830719125162
"""The fold of the Bratu problem."""


def bratu_parameter(lam: float, branch: str) -> float:
    """The root ``t`` of ``t = sqrt(2 lam) cosh(t / 4)`` on a branch ("lower" or "upper").

    Examples
    --------
    >>> t = bratu_parameter(1.0, "lower")
    >>> round(t - math.sqrt(2.0) * math.cosh(t / 4), 12)
    0.0
    """
    if not 0 < lam <= LAMBDA_CRITICAL:
        raise ValueError(f"lam must be in (0, {LAMBDA_CRITICAL}], got {lam!r}")
    if branch not in ("lower", "upper"):
        raise ValueError(f"branch must be 'lower' or 'upper', got {branch!r}")

    def f(t: float) -> float:
        return t - math.sqrt(2 * lam) * math.cosh(t / 4)

    lo, hi = (0.0, _T_CRITICAL) if branch == "lower" else (_T_CRITICAL, 60.0)
    for _ in range(200):  # bisection: f changes sign on each bracket
        mid = 0.5 * (lo + hi)
        if (f(mid) > 0) == (f(lo) > 0):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def bratu_exact(x: Tensor, lam: float, branch: str) -> Tensor:
    """``u(x) = -2 ln( cosh((x - 1/2) t / 2) / cosh(t / 4) )`` on a branch.

    Examples
    --------
    >>> import torch
    >>> round(float(bratu_exact(torch.tensor([0.5]), LAMBDA_CRITICAL, "lower")), 5)
    1.18684
    """
    t = bratu_parameter(lam, branch)
    return -2.0 * torch.log(torch.cosh((x - 0.5) * t / 2) / math.cosh(t / 4))


class BratuFD(ResidualMap):
    """Finite differences on ``n`` interior points: ``H_i = (u_{i-1} - 2 u_i + u_{i+1}) / h^2 + lam e^{u_i}``.

    The state ``theta`` is the vector of interior grid values; the Jacobian
    ``D2 + lam diag(e^u)`` and ``dH/dlam = e^u`` are supplied directly.

    Parameters
    ----------
    n
        Interior grid points; ``h = 1 / (n + 1)``.

    Examples
    --------
    >>> import torch
    >>> H = BratuFD(50)
    >>> u = bratu_exact(H.x, 1.0, "lower")
    >>> float(H(u, torch.tensor(1.0, dtype=torch.float64)).abs().max()) < 1e-3  # O(h^2)
    True
    """

    def __init__(self, n: int = 200, dtype: torch.dtype = torch.float64):
        if not isinstance(n, int) or n < 3:
            raise ValueError(f"n must be an integer >= 3, got {n!r}")
        self.n, self.h = n, 1.0 / (n + 1)
        self.x = torch.linspace(0, 1, n + 2, dtype=dtype)[1:-1]
        main = torch.full((n,), -2.0, dtype=dtype)
        off = torch.ones(n - 1, dtype=dtype)
        self.second_difference = (torch.diag(main) + torch.diag(off, 1) + torch.diag(off, -1)) / self.h**2

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.second_difference @ theta + eps * torch.exp(theta)

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.second_difference + torch.diag(eps * torch.exp(theta))

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return torch.exp(theta)

    def midpoint(self, theta: Tensor) -> float:
        """``u(1/2)``, interpolated linearly on the grid."""
        return float(np.interp(0.5, self.x.numpy(), theta.detach().numpy()))


class BratuNetwork(NetworkProblem):
    """``u = x (1 - x) N_theta(x)``; residual ``u'' + lam e^u`` at collocation points.

    Parameters
    ----------
    model
        Default MLP 1-20-20-1, tanh.
    n_points
        Interior collocation points (uniform).
    n_test
        Points of the uniform test grid.

    Examples
    --------
    >>> import torch
    >>> problem = BratuNetwork(n_points=20)
    >>> problem.residual_map(problem.model.init(seed=0), torch.tensor(1.0, dtype=torch.float64)).shape
    torch.Size([20])
    """

    def __init__(self, model: Optional[MLP] = None, n_points: int = 100, n_test: int = 1001):
        self.model = model if model is not None else MLP([1, 20, 20, 1])
        on = {"dtype": self.model.dtype, "device": device_of(self.model)}
        self.points = torch.linspace(0, 1, n_points + 2, **on)[1:-1, None]
        self.test_points = torch.linspace(0, 1, n_test, **on)[:, None]
        self.residual_map = PointwiseResidual(self.interior_residual, self.points, outputs=self.outputs)

    def u(self, theta: Tensor, x: Tensor) -> Tensor:
        """The network with the boundary conditions built in, at one point ``x`` of shape ``(1,)``."""
        return x[0] * (1 - x[0]) * self.model.apply(theta, x)[0]

    def interior_residual(self, theta: Tensor, x: Tensor, lam: Tensor) -> Tensor:
        """``u'' + lam e^u`` at one point."""
        return laplacian(lambda y: self.u(theta, y))(x) + lam * torch.exp(self.u(theta, x))

    def predict(self, theta: Tensor, x: Tensor) -> Tensor:
        return x[:, 0] * (1 - x[:, 0]) * self.model.apply(theta, x)[:, 0]

    def branch_of(self, theta: Tensor, lam: float) -> str:
        """The exact branch nearest to the network at ``lam`` (by ``u(1/2)``)."""
        mid = float(self.predict(theta, torch.tensor([[0.5]], dtype=theta.dtype, device=theta.device))[0])
        lower, upper = (float(bratu_exact(torch.tensor([0.5]), lam, b)[0]) for b in ("lower", "upper"))
        return "lower" if abs(mid - lower) <= abs(mid - upper) else "upper"

    def exact(self, x: Tensor, eps: float, branch: str = "lower") -> Tensor:
        return bratu_exact(x[:, 0], eps, branch)

    def l2re(self, theta: Tensor, eps: float, branch: Optional[str] = None) -> float:
        """Relative L2 error against the exact solution on ``branch`` (default: the nearest)."""
        branch = branch or self.branch_of(theta, eps)
        with torch.no_grad():
            return relative_l2(self.predict(theta, self.test_points), self.exact(self.test_points, eps, branch))
