"""Chafee-Infante: ``eps^2 u'' + u - u^3 = 0`` on ``(0, 1)``, a problem with many solutions.

Its structure is known exactly. ``u = 0`` solves it for every ``eps`` (and
``u = +-1`` too with Neumann conditions); the linearisation at ``u = 0``,
``eps^2 v'' + v = 0``, is singular at ``eps_k = 1 / (k pi)``, where a pair of
branches with ``k`` interfaces (``+-``, the symmetry ``u -> -u``) bifurcates
from ``u = 0`` (mode ``cos(k pi x)`` for Neumann, ``sin(k pi x)`` for
Dirichlet) and exists for every ``eps < eps_k``. At ``eps = 0.1``
(``eps_3 > 0.1 > eps_4``) there are nine Neumann solutions and seven
Dirichlet ones.

* :class:`ChafeeInfanteFD`: the state is the vector of grid values,
  second-order differences (cell-centred for Neumann, ``h = 1 / n``;
  interior nodes for Dirichlet, ``h = 1 / (n + 1)``), analytic Jacobian. Its
  discrete branch points are exact: :meth:`ChafeeInfanteFD.branch_points`.
* :class:`ChafeeInfanteNetwork`: a network with the boundary conditions built
  in (Neumann ``u = N(cos(pi x))``, whose derivative vanishes at 0 and 1;
  Dirichlet ``u = x (1 - x) N(x)``), residual at collocation points.
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

__all__ = ["BOUNDARY_CONDITIONS", "branch_point", "solution_count", "ChafeeInfanteFD", "ChafeeInfanteNetwork"]

BOUNDARY_CONDITIONS = ("neumann", "dirichlet")


def _check_boundary(boundary: str) -> None:
    if boundary not in BOUNDARY_CONDITIONS:
        raise ValueError(f"boundary must be one of {BOUNDARY_CONDITIONS}, got {boundary!r}")


def branch_point(k: int) -> float:
    """``eps_k = 1 / (k pi)``, where the branches with ``k`` interfaces leave ``u = 0``.

    Examples
    --------
    >>> round(branch_point(1), 6)
    0.31831
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return 1.0 / (k * math.pi)


def solution_count(eps: float, boundary: str = "neumann") -> int:
    """How many solutions there are at ``eps`` (not at a branch point itself).

    ``1 + 2 K`` with ``K = #{k >= 1 : eps_k > eps}``, plus ``u = +-1`` for Neumann.

    Examples
    --------
    >>> solution_count(0.1), solution_count(0.1, "dirichlet")
    (9, 7)
    """
    _check_boundary(boundary)
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    modes = math.ceil(1.0 / (math.pi * eps)) - 1
    return 1 + 2 * modes + (2 if boundary == "neumann" else 0)


class ChafeeInfanteFD(ResidualMap):
    """Finite differences: ``H_i = eps^2 (D2 u)_i + u_i - u_i^3`` on ``n`` grid values.

    Neumann: cell centres ``x_i = (i + 1/2) h``, ``h = 1 / n``, a ghost value
    equal to the first (last) one at each end. Dirichlet: interior nodes
    ``x_i = i h``, ``h = 1 / (n + 1)``, zero beyond. In both cases ``-D2`` has
    the eigenvalues ``(4 / h^2) sin^2(k pi h / 2)`` (``k = 0, 1, ...`` Neumann,
    ``k = 1, 2, ...`` Dirichlet), so the discrete branch points are
    ``h / (2 sin(k pi h / 2))`` (:meth:`branch_points`), above the exact
    ``1 / (k pi)`` by about ``(k pi h)^2 / 24``.

    Parameters
    ----------
    n
        Grid values.
    boundary
        ``"neumann"`` or ``"dirichlet"``.

    Examples
    --------
    >>> import torch
    >>> H = ChafeeInfanteFD(50)
    >>> float(H(torch.ones(50, dtype=torch.float64), torch.tensor(0.2, dtype=torch.float64)).abs().max())
    0.0
    >>> round(H.branch_points(1)[0] / branch_point(1) - 1, 6)  # the grid's error
    0.000165
    """

    def __init__(self, n: int = 200, boundary: str = "neumann", dtype: torch.dtype = torch.float64):
        if isinstance(n, bool) or not isinstance(n, int) or n < 3:
            raise ValueError(f"n must be an integer >= 3, got {n!r}")
        _check_boundary(boundary)
        self.n, self.boundary = n, boundary
        if boundary == "neumann":
            self.h = 1.0 / n
            self.x = (torch.arange(n, dtype=dtype) + 0.5) * self.h
        else:
            self.h = 1.0 / (n + 1)
            self.x = torch.arange(1, n + 1, dtype=dtype) * self.h
        main = torch.full((n,), -2.0, dtype=dtype)
        if boundary == "neumann":
            main[0] = main[-1] = -1.0
        off = torch.ones(n - 1, dtype=dtype)
        self.second_difference = (torch.diag(main) + torch.diag(off, 1) + torch.diag(off, -1)) / self.h**2

    def branch_points(self, k_max: int) -> list[float]:
        """The discrete branch points of ``u = 0``, ``k = 1 .. k_max``: ``h / (2 sin(k pi h / 2))``."""
        return [self.h / (2 * math.sin(k * math.pi * self.h / 2)) for k in range(1, k_max + 1)]

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return eps**2 * (self.second_difference @ theta) + theta - theta**3

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        return eps**2 * self.second_difference + torch.diag(1 - 3 * theta**2)

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return 2 * eps * (self.second_difference @ theta)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        return self(theta, eps), self.jacobian(theta, eps)

    def interpolate(self, theta: Tensor, x: Tensor) -> Tensor:
        """The grid function at the points ``x`` (1-D), linear between grid values, even (Neumann) or zero
        (Dirichlet) beyond the ends."""
        nodes, values = self.x.numpy(), theta.detach().numpy()
        if self.boundary == "dirichlet":
            nodes, values = np.r_[0.0, nodes, 1.0], np.r_[0.0, values, 0.0]
        return torch.as_tensor(np.interp(x.numpy(), nodes, values), dtype=theta.dtype)


class ChafeeInfanteNetwork(NetworkProblem):
    """A network with the boundary conditions built in; residual ``eps^2 u'' + u - u^3`` at collocation points.

    Neumann: ``u(x) = N_theta(cos(pi x))`` (``u'(0) = u'(1) = 0`` for every
    ``theta``); Dirichlet: ``u(x) = x (1 - x) N_theta(x)``.

    Parameters
    ----------
    boundary
        ``"neumann"`` or ``"dirichlet"``.
    model
        Default MLP 1-20-20-1, tanh.
    n_points
        Collocation points (uniform, interior).
    n_test
        Points of the uniform test grid.

    Examples
    --------
    >>> import torch
    >>> problem = ChafeeInfanteNetwork(n_points=20)
    >>> problem.residual_map(problem.model.init(seed=0), torch.tensor(0.3, dtype=torch.float64)).shape
    torch.Size([20])
    """

    def __init__(self, boundary: str = "neumann", model: Optional[MLP] = None, n_points: int = 200,
                 n_test: int = 1001):
        _check_boundary(boundary)
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
            raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}")
        self.boundary = boundary
        self.model = model if model is not None else MLP([1, 20, 20, 1])
        on = {"dtype": self.model.dtype, "device": device_of(self.model)}
        self.points = torch.linspace(0, 1, n_points + 2, **on)[1:-1, None]
        self.test_points = torch.linspace(0, 1, n_test, **on)[:, None]
        self.residual_map = PointwiseResidual(self.interior_residual, self.points, outputs=self.outputs)

    def u(self, theta: Tensor, x: Tensor) -> Tensor:
        """The network with the boundary conditions built in, at one point ``x`` of shape ``(1,)``."""
        if self.boundary == "neumann":
            return self.model.apply(theta, torch.cos(math.pi * x))[0]
        return x[0] * (1 - x[0]) * self.model.apply(theta, x)[0]

    def interior_residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``eps^2 u'' + u - u^3`` at one point."""
        u = self.u(theta, x)
        return eps**2 * laplacian(lambda y: self.u(theta, y))(x) + u - u**3

    def predict(self, theta: Tensor, x: Tensor) -> Tensor:
        if self.boundary == "neumann":
            return self.model.apply(theta, torch.cos(math.pi * x))[:, 0]
        return x[:, 0] * (1 - x[:, 0]) * self.model.apply(theta, x)[:, 0]

    def mirror(self, theta: Tensor) -> Tensor:
        """The weights of ``-u_theta``, a solution whenever ``u_theta`` is one (the residual is odd in ``u``):
        the symmetry for :func:`continuation.deflated_continuation`'s ``symmetries``."""
        return self.model.negated(theta)

    def l2re_against(self, theta: Tensor, reference: ChafeeInfanteFD, state: Tensor) -> float:
        """Relative L2 error on the test grid against a finite-difference solution ``state`` of ``reference``
        (interpolated); against ``u = 0`` the absolute L2 error is returned."""
        x = self.test_points[:, 0]
        with torch.no_grad():
            exact = reference.interpolate(state, x)
            predicted = self.predict(theta, self.test_points)
        if float(torch.linalg.vector_norm(exact)) == 0.0:
            return float(torch.linalg.vector_norm(predicted) / math.sqrt(x.numel()))
        return relative_l2(predicted, exact)
