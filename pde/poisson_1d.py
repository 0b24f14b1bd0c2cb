"""The 1D Poisson problem ``u'' = f`` on ``(-1, 1)``, with ``u''`` by automatic differentiation or finite differences.

The first setting of Chen, Yang, Xiang and Hao (arXiv:2405.14099, seed
``ad-vs-fd-truncated-entropy``): exact solution ``u = sin(pi x)``,
``f = -pi^2 sin(pi x)``, homogeneous Dirichlet conditions. The same residual
is built twice, with the second derivative of the network taken by autograd
(``derivative="ad"``) or by the central difference
``(u(x + h) - 2 u(x) + u(x - h)) / h^2`` (``derivative="fd"``); their
Jacobians are the matrices ``A_AD`` and ``A_FD`` the seed compares.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual, StackedResidual

from .base import NetworkProblem, device_of
from .calculus import laplacian

__all__ = ["Poisson1D"]

DERIVATIVES = ("ad", "fd")


class Poisson1D(NetworkProblem):
    """``u'' = -pi^2 sin(pi x)`` on ``(-1, 1)``, ``u(+-1) = 0``; exact ``u = sin(pi x)``.

    Interior residual ``u''(x_i) - f(x_i)`` at ``n_points`` uniform interior
    points ``x_i = -1 + i h_grid``, ``h_grid = 2 / (n_points + 1)``, and
    boundary residual ``u(+-1)``; each block scaled by ``1/sqrt(count)`` as
    in every problem of the catalogue (``||H||^2`` is the mean-squared PINN
    loss). The parameter ``eps`` of the residual map is ignored (there is no
    homotopy): diagnostics and correctors are called with any value.

    Parameters
    ----------
    model
        A model with ``apply(theta, x)``, ``num_weights`` and ``init`` (an
        :class:`~models.MLP` or a :class:`~models.RandomFeatures`).
    n_points
        Interior collocation points.
    derivative
        ``"ad"``: ``u''`` by forward-over-reverse autograd;
        ``"fd"``: by the second-order central difference with step ``step``.
    step
        The difference step ``h`` (``"fd"`` only); default ``h_grid``, so that
        the stencil of each point is its two neighbours (the end points at the
        boundary).
    n_test
        Points of the uniform test grid of :meth:`l2re`.

    Examples
    --------
    >>> import math, torch
    >>> from models import RandomFeatures
    >>> problem = Poisson1D(RandomFeatures(1, 8, scale=3.0), n_points=8, derivative="fd")
    >>> problem.step == 2 / 9
    True
    >>> problem.residual_map.jacobian(problem.model.init(), torch.tensor(0.0, dtype=torch.float64)).shape
    torch.Size([10, 8])
    """

    def __init__(
        self,
        model,
        n_points: int = 100,
        derivative: str = "ad",
        step: Optional[float] = None,
        n_test: int = 2_001,
    ):
        if not isinstance(n_points, int) or isinstance(n_points, bool) or n_points < 1:
            raise ValueError(f"n_points must be a positive integer, got {n_points!r}")
        if derivative not in DERIVATIVES:
            raise ValueError(f"derivative must be one of {DERIVATIVES}, got {derivative!r}")
        if step is not None and derivative != "fd":
            raise ValueError(f"step applies to derivative='fd' only, got step={step!r} with {derivative!r}")
        grid_step = 2.0 / (n_points + 1)
        step = grid_step if step is None else step
        if not (isinstance(step, (int, float)) and 0 < float(step) < float("inf")):
            raise ValueError(f"step must be a positive finite number, got {step!r}")
        self.model = model
        self.derivative = derivative
        self.step = float(step) if derivative == "fd" else None
        on = {"dtype": model.dtype, "device": device_of(model)}
        self.points = torch.linspace(-1.0, 1.0, n_points + 2, **on)[1:-1, None]
        self.boundary_points = torch.tensor([[-1.0], [1.0]], **on)
        self.test_points = torch.linspace(-1.0, 1.0, n_test, **on)[:, None]
        interior = self.interior_residual_ad if derivative == "ad" else self.interior_residual_fd
        self.interior = PointwiseResidual(interior, self.points)
        self.residual_map = StackedResidual(
            [self.interior, PointwiseResidual(self.boundary_residual, self.boundary_points)], outputs=self.outputs
        )

    @staticmethod
    def source(x: Tensor) -> Tensor:
        """``f = -pi^2 sin(pi x)`` at one point ``(1,)`` (a scalar) or points ``(N, 1)`` (shape ``(N,)``)."""
        return -(math.pi**2) * torch.sin(math.pi * x[..., 0])

    def interior_residual_ad(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``u''(x) - f(x)`` with ``u''`` by autograd."""
        return laplacian(lambda y: self.u(theta, y))(x) - self.source(x)

    def interior_residual_fd(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``(u(x + h) - 2 u(x) + u(x - h)) / h^2 - f(x)``."""
        h = self.step
        second = (self.u(theta, x + h) - 2 * self.u(theta, x) + self.u(theta, x - h)) / h**2
        return second - self.source(x)

    def boundary_residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``u(x)`` at a boundary point (the exact solution vanishes there)."""
        return self.u(theta, x)

    @staticmethod
    def exact(x: Tensor, eps: float = 0.0) -> Tensor:
        """``sin(pi x)`` at points of shape ``(N, 1)``."""
        return torch.sin(math.pi * x[:, 0])

    def pde_residual_norm(self, theta: Tensor) -> float:
        """The relative PDE residual ``||u'' - f|| / ||f||`` over the interior points (``u''`` as built here)."""
        with torch.no_grad():
            residual = self.interior(theta, torch.zeros((), dtype=theta.dtype))
            source = self.interior.scale * self.source(self.points)
            return float(torch.linalg.vector_norm(residual) / torch.linalg.vector_norm(source))
