"""Steady viscous Burgers with a source as operator learning, ``f -> u``, physics-informed.

``nu u'' - u u' = f(x)`` on ``(-1, 1)`` with ``u(-1) = a``, ``u(1) = b``
(default ``a = b = 0``) has exactly one solution for every continuous ``f``:
integrated once it is the Riccati equation ``nu u' = u^2 / 2 + F(x) + c``
(``F' = f``), whose value at ``x = 1`` increases strictly with the constant
``c``. Unlike P5 (:mod:`pde.burgers`), whose steady state forgets its input,
the solution depends on the whole of ``f``: at small ``nu`` it has boundary
layers and interior fronts whose positions move with ``f``. The sources are
Gaussian random fields (:func:`pde.burgers.sample_random_field`); a DeepONet
``u_theta(f)(x)`` learns the map from the residual alone, and the viscosity
homotopy (``nu`` from 1 down to the target) is :meth:`SourceBurgersOperator.residual_map`
with ``eps = nu``. The reference and timing baseline is the batched Newton
solver :func:`pde.burgers_fd.newton_steady` with ``source=``.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual, StackedResidual
from models import DeepONet

from .burgers import OperatorProblem, RandomField, _check_positive, steady_residual, value_and_derivatives

__all__ = ["SourceBurgersOperator"]


class SourceBurgersOperator(OperatorProblem):
    """A DeepONet ``f -> u`` for ``nu u'' - u u' = f``, ``u(-1) = a``, ``u(1) = b``, trained on the residual.

    One residual row per (source, point) pair (:meth:`OperatorProblem.pairs`):
    ``nu u_xx - u u_x - f(x)`` inside, ``u - a`` at ``x = -1`` and ``u - b``
    at ``x = 1``; the interior block is scaled by ``1 / sqrt(F N)``, the
    boundary block by ``boundary_weight / sqrt(2 F)``, so ``||H||^2`` is a
    mean-squared loss.

    Parameters
    ----------
    nu
        The target viscosity.
    model, boundary_weight, n_test
        See :class:`~pde.burgers.OperatorProblem`.
    boundary
        The Dirichlet values ``(a, b)``.

    Examples
    --------
    >>> import torch
    >>> from pde.burgers import sample_random_field
    >>> problem = SourceBurgersOperator(nu=0.1)
    >>> f = sample_random_field(3, length_scale=0.5, amplitude=1.0)
    >>> H = problem.residual_map(f, problem.collocation_points(20))   # eps is nu
    >>> theta = problem.model.init(seed=0)
    >>> H(theta, torch.tensor(1.0, dtype=torch.float64)).shape   # 3 x 20 interior, 3 x 2 boundary
    torch.Size([66])
    """

    def __init__(
        self,
        nu: float,
        model: Optional[DeepONet] = None,
        boundary_weight: float = 1.0,
        n_test: int = 1000,
        boundary: tuple[float, float] = (0.0, 0.0),
    ):
        self.nu = _check_positive("nu", nu)
        if len(boundary) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in boundary
        ):
            raise ValueError(f"boundary must be two finite numbers (u(-1), u(1)), got {boundary!r}")
        self.boundary = (float(boundary[0]), float(boundary[1]))
        super().__init__(model, boundary_weight, n_test)

    @staticmethod
    def residual(field: Callable[[Tensor], Tensor], x: Tensor, f_x: Tensor, nu) -> Tensor:
        """``nu u'' - u u' - f(x)`` of any scalar field ``u = field(y)`` at one point ``x`` of shape ``(1,)``.

        Examples
        --------
        >>> import torch
        >>> x = torch.tensor([0.5], dtype=torch.float64)
        >>> u = lambda y: 1 - y[0] ** 2               # solves u'' - u u' = -2 + 2 x (1 - x^2)
        >>> float(SourceBurgersOperator.residual(u, x, -2 + 2 * x[0] * (1 - x[0] ** 2), 1.0))
        0.0
        """
        u, u_x, u_xx = value_and_derivatives(field, x)
        return steady_residual(u, u_x, u_xx, nu) - f_x

    def interior_residual(self, theta: Tensor, pair: Tensor, nu: Tensor) -> Tensor:
        """:meth:`residual` of the network at one row of :meth:`~pde.burgers.OperatorProblem.pairs`."""
        sensors, x, f_x = self.split_pair(pair)
        return self.residual(lambda y: self.model.apply_one(theta, sensors, y), x, f_x, nu)

    def boundary_residual(self, theta: Tensor, pair: Tensor, nu: Tensor) -> Tensor:
        """``u - a`` at ``x = -1``, ``u - b`` at ``x = 1``, at one boundary row."""
        sensors, x, _ = self.split_pair(pair)
        left, right = self.boundary
        return self.model.apply_one(theta, sensors, x) - (left + (right - left) * (x[0] + 1) / 2)

    def residual_map(self, sources: RandomField, x: Tensor) -> StackedResidual:
        """The residual map ``H(theta, nu)`` on the pairs ``sources x x``: ``eps`` is the viscosity.

        Parameters
        ----------
        sources
            The training sources ``f``.
        x
            Interior collocation points inside ``(-1, 1)``: shared, shape
            ``(N,)``, or one row per source, shape ``(F, N)``
            (:meth:`~pde.burgers.OperatorProblem.random_points`).
        """
        self.check_points(sources, x)
        ends = torch.tensor([-1.0, 1.0], dtype=self.model.dtype, device=self.model.device)
        return StackedResidual([
            PointwiseResidual(self.interior_residual, self.pairs(sources, x)),
            PointwiseResidual(self.boundary_residual, self.pairs(sources, ends), self.boundary_weight),
        ])
