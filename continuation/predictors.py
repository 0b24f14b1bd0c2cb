"""Predictors: the velocity ``dtheta/deps`` along the path.

A predictor maps the last accepted point to a velocity ``v``; the engine
predicts ``theta + deps * v`` for the next value of ``eps``. The velocities of
two consecutive accepted points also give the Lipschitz estimate of the step
rule (Theorem 2 of the seed).

Any object with a ``velocity(problem, theta, eps, previous)`` method returning
a tensor (or ``None`` for "stay where you are") is a predictor.
"""

from __future__ import annotations

from typing import Optional, Protocol, runtime_checkable

from torch import Tensor

from .linalg import pinv_solve
from .residual import ResidualMap

__all__ = ["Predictor", "NoPredictor", "EulerPredictor", "SecantPredictor", "PREDICTORS"]


@runtime_checkable
class Predictor(Protocol):
    """The predictor protocol."""

    def velocity(
        self,
        problem: ResidualMap,
        theta: Tensor,
        eps: Tensor,
        previous: Optional[tuple[Tensor, Tensor]],
    ) -> Optional[Tensor]:
        """``dtheta/deps`` at ``(theta, eps)``; ``previous`` is the accepted
        point before it, ``(theta, eps)``, or ``None`` at the start."""
        ...


class NoPredictor:
    """Warm start: the next corrector starts from the last accepted state.

    This is the seed's Strategy 2 when combined with an ``adam`` corrector.

    Examples
    --------
    >>> NoPredictor().velocity(None, None, None, None) is None
    True
    """

    def velocity(self, problem, theta, eps, previous) -> None:
        return None


class EulerPredictor:
    """The homotopy-dynamics velocity ``v = -J^+ dH/deps`` (truncated SVD).

    Parameters
    ----------
    rcond
        Singular values below ``rcond * s_max`` are dropped.

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps**2)
    >>> theta, eps = torch.tensor([0.25], dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    >>> EulerPredictor(rcond=1e-12).velocity(H, theta, eps, None)  # d(eps^2)/deps
    tensor([1.], dtype=torch.float64)
    """

    def __init__(self, rcond: float = 1e-4):
        self.rcond = rcond

    def velocity(self, problem: ResidualMap, theta: Tensor, eps: Tensor, previous) -> Tensor:
        jacobian = problem.jacobian(theta, eps)
        return -pinv_solve(jacobian, problem.eps_derivative(theta, eps), self.rcond)


class SecantPredictor:
    """The difference quotient of the last two accepted points.

    At the first step, with only one point known, it predicts no change.

    Examples
    --------
    >>> import torch
    >>> one = torch.tensor(1.0)
    >>> SecantPredictor().velocity(None, 3 * one, one, (one, 0 * one))
    tensor(2.)
    """

    def velocity(self, problem, theta: Tensor, eps: Tensor, previous) -> Optional[Tensor]:
        if previous is None:
            return None
        theta_prev, eps_prev = previous
        return (theta - theta_prev) / (eps - eps_prev)


PREDICTORS = {"none": NoPredictor, "euler": EulerPredictor, "secant": SecantPredictor}
"""Predictors by name; each is built with the ``rcond`` of the options where it takes one."""
