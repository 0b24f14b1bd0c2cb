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

from .linalg import MatrixFreeLeastSquares, pinv_solve
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
    """The homotopy-dynamics velocity ``v = -J^+ dH/deps`` (truncated SVD, or matrix-free).

    Parameters
    ----------
    rcond
        Singular values below ``rcond * s_max`` are dropped.
    linear_solver, sketch_rank, cg_tol, cg_maxiter
        ``"dense"``: the truncated SVD of the formed Jacobian. ``"cg"``:
        never forms ``J``; ``v`` solves ``(J^T J + lam I) v = -J^T dH/deps``
        by preconditioned conjugate gradients with ``lam = (rcond s_max)^2``
        (``s_max`` from the Nystrom sketch): Tikhonov's filter
        ``s^2 / (s^2 + lam)`` in place of the sharp cut-off, equal to it on
        the singular values far from ``rcond s_max``.

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps**2)
    >>> theta, eps = torch.tensor([0.25], dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    >>> EulerPredictor(rcond=1e-12).velocity(H, theta, eps, None)  # d(eps^2)/deps
    tensor([1.], dtype=torch.float64)
    >>> EulerPredictor(rcond=1e-12, linear_solver="cg").velocity(H, theta, eps, None)
    tensor([1.], dtype=torch.float64)
    """

    def __init__(self, rcond: float = 1e-4, linear_solver: str = "dense", sketch_rank: int = 50,
                 cg_tol: float = 1e-10, cg_maxiter: int = 500):
        if linear_solver not in ("dense", "cg"):
            raise ValueError(f"linear_solver must be 'dense' or 'cg', got {linear_solver!r}")
        self.rcond, self.linear_solver = rcond, linear_solver
        self.sketch_rank, self.cg_tol, self.cg_maxiter = sketch_rank, cg_tol, cg_maxiter
        self.linear_iterations = 0

    @classmethod
    def from_options(cls, options) -> "EulerPredictor":
        """The predictor with the ``rcond`` and linear solver of ``options``."""
        return cls(options.rcond, options.linear_solver, options.sketch_rank, options.cg_tol, options.cg_maxiter)

    def velocity(self, problem: ResidualMap, theta: Tensor, eps: Tensor, previous) -> Tensor:
        if self.linear_solver == "dense":
            jacobian = problem.jacobian(theta, eps)
            return -pinv_solve(jacobian, problem.eps_derivative(theta, eps), self.rcond)
        _, jvp, vjp = problem.products(theta, eps)
        solver = MatrixFreeLeastSquares(jvp, vjp, problem.eps_derivative(theta, eps), theta.numel(),
                                        self.sketch_rank, self.cg_tol, self.cg_maxiter)
        velocity = solver.step((self.rcond**2) * solver.preconditioner.largest)
        self.linear_iterations += solver.iterations
        return velocity


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
