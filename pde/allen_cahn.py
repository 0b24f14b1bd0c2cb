"""P1: steady 1D Allen-Cahn, ``eps^2 u'' + u - u^3 = 0`` on ``(-1, 1)``."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual, StackedResidual
from models import MLP

from .base import NetworkProblem, device_of, farthest_root

__all__ = ["AllenCahn1D", "default_points_1d"]


def default_points_1d(eps: float) -> int:
    """Collocation count for an interface of width ~``eps``: ``max(200, 10 / eps)``.

    Examples
    --------
    >>> default_points_1d(0.01)
    1000
    """
    return max(200, math.ceil(10.0 / eps))


class AllenCahn1D(NetworkProblem):
    """P1, with Dirichlet data ``u(+-1) = +-tanh(1 / (sqrt(2) eps))`` moving with ``eps``.

    Exact solution ``u(x) = tanh(x / (sqrt(2) eps))``; the interface is at 0.
    The residual has an interior block at ``n_points`` uniform interior
    points and a boundary block at ``x = -1, 1``, each scaled by
    ``1/sqrt(count)`` (the boundary block also by ``boundary_weight``).

    Parameters
    ----------
    model
        A network with ``apply(theta, x)``; default MLP 1-30-30-30-1, tanh.
    eps_min
        The smallest ``eps`` to be traced, which sets the default point count.
    n_points
        Interior collocation points (default :func:`default_points_1d`).
    boundary_weight
        Weight of the boundary block.
    n_test
        Points of the uniform test grid used by :meth:`l2re`.

    Examples
    --------
    >>> import torch
    >>> problem = AllenCahn1D(eps_min=0.1)
    >>> theta = problem.model.init(seed=0)
    >>> problem.residual_map(theta, torch.tensor(0.1, dtype=torch.float64)).shape
    torch.Size([202])
    """

    def __init__(
        self,
        model: Optional[MLP] = None,
        eps_min: float = 0.01,
        n_points: Optional[int] = None,
        boundary_weight: float = 1.0,
        n_test: int = 10_001,
    ):
        self.model = model if model is not None else MLP([1, 30, 30, 30, 1])
        n_points = n_points if n_points is not None else default_points_1d(eps_min)
        on = {"dtype": self.model.dtype, "device": device_of(self.model)}
        self.points = torch.linspace(-1.0, 1.0, n_points + 2, **on)[1:-1, None]
        self.boundary_points = torch.tensor([[-1.0], [1.0]], **on)
        self.test_points = torch.linspace(-1.0, 1.0, n_test, **on)[:, None]
        self.residual_map = StackedResidual(
            [
                PointwiseResidual(self.interior_residual, self.points),
                PointwiseResidual(self.boundary_residual, self.boundary_points, boundary_weight),
            ],
            outputs=self.outputs,
        )

    def interior_residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``eps^2 u'' + u - u^3`` at one point."""
        u, u_xx = self.u_and_laplacian(theta, x)
        return eps**2 * u_xx + u - u**3

    def boundary_residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``u - u_exact`` at one boundary point."""
        return self.u(theta, x) - self.exact(x[None], eps)[0]

    @staticmethod
    def exact(x: Tensor, eps) -> Tensor:
        """``tanh(x / (sqrt(2) eps))`` at points of shape ``(N, 1)``."""
        return torch.tanh(x[:, 0] / (math.sqrt(2.0) * eps))

    def interface(self, theta: Tensor) -> float:
        """The root of ``u_theta`` on the test grid farthest from the exact interface 0.

        Roots are located by sign changes and linear interpolation; with
        several roots the worst one is reported; ``nan`` if there is none.
        """
        with torch.no_grad():
            return farthest_root(self.test_points[:, 0], self.predict(theta, self.test_points), 0.0)
