"""P4: high-frequency function fitting, ``H = u_theta(x_j) - sin(pi x_j / eps)``."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual
from models import MLP

from .base import NetworkProblem, device_of

__all__ = ["HighFrequencyFit"]


class HighFrequencyFit(NetworkProblem):
    """P4: fit ``sin(pi x / eps)`` on ``[-1, 1]``, as a residual map ``H(theta, eps)``.

    ``H_j = (u_theta(x_j) - sin(pi x_j / eps)) / sqrt(N)`` at ``N`` uniform
    random points ``x_j`` of ``[-1, 1]``, so ``||H||^2`` (:meth:`loss`) is the
    mean-squared loss. The homotopy runs ``eps`` from 1 down to the target.
    :meth:`l2re` uses a dense uniform grid, separate from the fitting points.

    Parameters
    ----------
    model
        A network with ``apply(theta, x)``; default MLP 1-30-30-30-1, tanh.
    n_points
        Number of fitting points.
    seed
        Seed of the generator of the fitting points.
    n_test
        Points of the uniform test grid.

    Examples
    --------
    >>> import torch
    >>> problem = HighFrequencyFit(n_points=100)
    >>> theta = problem.model.init(seed=0)
    >>> problem.residual_map(theta, torch.tensor(0.1, dtype=torch.float64)).shape
    torch.Size([100])
    """

    parameter_name = "eps"
    parameter_start = 1.0

    def __init__(
        self,
        model: Optional[MLP] = None,
        n_points: int = 2000,
        seed: int = 0,
        n_test: int = 10_001,
    ):
        self.model = model if model is not None else MLP([1, 30, 30, 30, 1])
        dtype, device = self.model.dtype, device_of(self.model)
        generator = torch.Generator().manual_seed(seed)  # drawn on the CPU: the same points on every device
        self.points = (2.0 * torch.rand(n_points, 1, generator=generator, dtype=dtype) - 1.0).to(device)
        self.test_points = torch.linspace(-1.0, 1.0, n_test, dtype=dtype, device=device)[:, None]
        self.residual_map = PointwiseResidual(self.residual, self.points, outputs=self.outputs)

    @staticmethod
    def exact(x: Tensor, eps) -> Tensor:
        """``sin(pi x / eps)`` at points of shape ``(..., 1)``.

        Examples
        --------
        >>> import torch
        >>> float(HighFrequencyFit.exact(torch.tensor([[0.25]]), 0.5))
        1.0
        """
        return torch.sin(math.pi * x[..., 0] / eps)

    def residual(self, theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """``u_theta(x) - sin(pi x / eps)`` at one point ``x`` of shape ``(1,)``."""
        return self.model.apply(theta, x)[0] - self.exact(x, eps)

    def mean_squared_loss(self, theta: Tensor, eps: float) -> float:
        """``mean_j (u_theta(x_j) - sin(pi x_j / eps))^2`` over the fitting points (:meth:`loss`)."""
        return self.loss(theta, eps)
