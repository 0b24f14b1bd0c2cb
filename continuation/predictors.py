"""Predictors: the velocity ``dtheta/deps`` along the path.

A predictor maps the last accepted point to a velocity ``v``; the engine
predicts ``theta + deps * v`` for the next value of ``eps``. The velocities of
two consecutive accepted points also give the Lipschitz estimate of the step
rule (Theorem 2 of the seed).

Any object with a ``velocity(problem, theta, eps, previous)`` method returning
a tensor (or ``None`` for "stay where you are") is a predictor.
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional, Protocol, runtime_checkable

import torch
from torch import Tensor

from .linalg import MatrixFreeLeastSquares, SketchRank, pinv_solve
from .residual import ResidualMap, output_jacobian

__all__ = ["Predictor", "NoPredictor", "EulerPredictor", "SecantPredictor", "PREDICTORS", "largest_singular_value"]

MAX_PLAIN_OUTPUTS = 4096
"""Outputs without a ``jacobian()`` of their own are differentiated (one reverse pass per value) up to this
many values; above, the velocity stays in weight space."""

FUNCTION_RCOND = 1e-10
"""Directions along which the function moves by less than this, relative, are not weighted (rounding)."""

POWER_ITERATIONS = 30
"""Power iterations of :func:`largest_singular_value` (a scale, wanted to a few per cent)."""


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

    With the function the state represents (``outputs``, ``u(theta)``) and a
    positive ``function_weight``, the dense velocity is judged on the
    function as well:

    .. math::

        v = \\arg\\min_v \\|J v + \\partial_\\varepsilon H\\|^2 + w^2 \\|U v\\|^2,
        \\qquad U = \\frac{\\partial u}{\\partial \\theta},\\quad
        w = \\texttt{function\\_weight}\\,\\frac{s_{\\max}(J)}{s_{\\max}(U)},

    solved as one truncated least-squares problem on the stacked matrix
    ``[J; w U]``. A direction whose residual changes by less than ``w`` per
    unit change of the function (an interface that the equations pin only
    by terms of order ``exp(-c / eps)``) is damped by the Tikhonov factor
    ``s^2 / (s^2 + w^2 |U v|^2)`` instead of being followed with the
    amplification ``1 / s``, which turns the least-squares floor of the
    current point into a slide of the predicted function. Directions the
    equations do pin keep their velocity up to a relative bias of order
    ``w^2 |U v|^2 / s^2``.

    Parameters
    ----------
    rcond
        Singular values below ``rcond * s_max`` are dropped.
    linear_solver, sketch_rank, cg_tol, cg_maxiter, sketch_rank_max
        ``"dense"``: the truncated SVD of the formed Jacobian. ``"cg"``:
        never forms ``J``; ``v`` solves ``(J^T J + lam I) v = -J^T dH/deps``
        by preconditioned conjugate gradients with ``lam = (rcond s_max)^2``
        (``s_max`` from the Nystrom sketch, its rank set by a
        :class:`~continuation.linalg.SketchRank`): Tikhonov's filter
        ``s^2 / (s^2 + lam)`` in place of the sharp cut-off, equal to it on
        the singular values far from ``rcond s_max``. The matrix-free
        velocity is measured in weight space only.
    function_weight
        ``w`` relative to ``s_max(J) / s_max(U)``; ``0``: weight space only.
    outputs
        ``theta -> Tensor``: the function the state represents (``None``:
        weight space only). ``U`` comes from :func:`~continuation.output_jacobian`:
        the outputs' own ``jacobian(theta)`` when they have one (a network's
        values at points, one small reverse pass per point:
        :class:`pde.NetworkOutputs`), else one reverse pass through all the
        outputs per value, which is done up to :data:`MAX_PLAIN_OUTPUTS`
        values; above that the velocity stays in weight space and a
        ``RuntimeWarning`` says so.

    Attributes
    ----------
    linear_iterations
        Conjugate-gradient iterations of all the matrix-free velocities so
        far (0 with ``"dense"``).
    linear_residual
        The relative residual at which the last matrix-free velocity's solve
        ended (``None`` before one).

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

    A second equation that pins its unknown only weakly (``1e-6``), with an
    eps-derivative of the same order: the weight-space velocity follows it
    at full amplification; judged on the function, it is damped:

    >>> weak = FunctionResidual(lambda t, e: torch.stack([t[0] - e, 1e-6 * t[1] - 1e-6 * e]))
    >>> t = torch.zeros(2, dtype=torch.float64)
    >>> EulerPredictor(rcond=1e-12).velocity(weak, t, eps, None)
    tensor([1., 1.], dtype=torch.float64)
    >>> EulerPredictor(rcond=1e-12, function_weight=1e-3, outputs=lambda t: t).velocity(weak, t, eps, None)
    tensor([1.0000e+00, 1.0000e-06], dtype=torch.float64)
    """

    def __init__(self, rcond: float = 1e-4, linear_solver: str = "dense", sketch_rank: int = 50,
                 cg_tol: float = 1e-10, cg_maxiter: int = 500, function_weight: float = 0.0,
                 outputs: Optional[Callable[[Tensor], Tensor]] = None, sketch_rank_max: int = 400):
        if linear_solver not in ("dense", "cg"):
            raise ValueError(f"linear_solver must be 'dense' or 'cg', got {linear_solver!r}")
        if not (function_weight >= 0 and function_weight < float("inf")):
            raise ValueError(f"function_weight must be a finite number >= 0, got {function_weight!r}")
        self.rcond, self.linear_solver = rcond, linear_solver
        self.cg_tol, self.cg_maxiter = cg_tol, cg_maxiter
        self.sketch_ranks = SketchRank(sketch_rank, sketch_rank_max)
        self.function_weight, self.outputs = float(function_weight), outputs
        self._plain_outputs_size: Optional[int] = None
        self.linear_iterations = 0
        self.linear_residual: Optional[float] = None

    @classmethod
    def from_options(cls, options, outputs: Optional[Callable[[Tensor], Tensor]] = None) -> "EulerPredictor":
        """The predictor with the ``rcond``, ``function_weight`` and linear solver of ``options``."""
        return cls(options.rcond, options.linear_solver, options.sketch_rank, options.cg_tol, options.cg_maxiter,
                   options.function_weight, outputs, options.sketch_rank_max)

    def _weighs_function(self, theta: Tensor) -> bool:
        """Whether the velocity is judged on the function: outputs known, and either with their own
        Jacobian or at most :data:`MAX_PLAIN_OUTPUTS` values (else weight space, with a warning, once)."""
        if self.outputs is None:
            return False
        if self._plain_outputs_size is None:
            own = callable(getattr(self.outputs, "jacobian", None))
            self._plain_outputs_size = 0 if own else int(self.outputs(theta).numel())
            if self._plain_outputs_size > MAX_PLAIN_OUTPUTS:
                _too_many_outputs(self._plain_outputs_size)
        return self._plain_outputs_size <= MAX_PLAIN_OUTPUTS

    def velocity(self, problem: ResidualMap, theta: Tensor, eps: Tensor, previous) -> Tensor:
        if self.linear_solver == "dense":
            jacobian = problem.jacobian(theta, eps)
            rhs = problem.eps_derivative(theta, eps)
            if self.function_weight > 0 and self._weighs_function(theta):
                function_rows = _function_rows(output_jacobian(self.outputs, theta))
                if function_rows.shape[0] > 0:
                    weight = self.function_weight * largest_singular_value(jacobian) / float(function_rows[0].norm())
                    jacobian = torch.cat([jacobian, weight * function_rows])
                    rhs = torch.cat([rhs, rhs.new_zeros(function_rows.shape[0])])
            return -pinv_solve(jacobian, rhs, self.rcond)
        _, jvp, vjp = problem.products(theta, eps)
        solver = MatrixFreeLeastSquares(jvp, vjp, problem.eps_derivative(theta, eps), theta.numel(),
                                        self.sketch_ranks, self.cg_tol, self.cg_maxiter)
        velocity = solver.step((self.rcond**2) * solver.preconditioner.largest)
        self.linear_iterations += solver.iterations
        self.linear_residual = solver.relative_residual
        return velocity


def _too_many_outputs(count: int) -> None:
    warnings.warn(
        f"EulerPredictor: the outputs have {count} values and no jacobian() of their own; differentiating "
        f"them would take {count} reverse passes through all of them, so the velocity stays in weight space "
        f"(give the outputs a per-point jacobian, as pde.NetworkOutputs does, or fewer values; at most "
        f"{MAX_PLAIN_OUTPUTS} without one)", RuntimeWarning, stacklevel=4)


def _function_rows(output_jacobian: Tensor) -> Tensor:
    """Rows ``C`` with ``C^T C = U^T U`` up to the singular values of ``U`` below ``FUNCTION_RCOND * s_max``:
    ``diag(s) V^T`` from the thin SVD of ``U``, largest first (as many rows as ``U`` has numerical rank,
    which makes the stacked least-squares problem smaller than with ``U`` itself)."""
    _, singular, right = torch.linalg.svd(output_jacobian, full_matrices=False)
    if singular.numel() == 0 or not singular[0] > 0:
        return output_jacobian.new_zeros((0, output_jacobian.shape[1]))
    keep = singular > FUNCTION_RCOND * singular[0]
    return singular[keep, None] * right[keep]


def largest_singular_value(matrix: Tensor, iterations: int = POWER_ITERATIONS) -> float:
    """``s_max(A)`` by power iteration on ``A^T A``, from a fixed start (deterministic).

    Examples
    --------
    >>> import torch
    >>> round(largest_singular_value(torch.diag(torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64))), 6)
    3.0
    """
    vector = torch.ones(matrix.shape[1], dtype=matrix.dtype, device=matrix.device)
    value = 0.0
    for _ in range(iterations):  # on A^T A, by products: O(M P) each
        image = matrix.T @ (matrix @ vector)
        value = float(torch.linalg.vector_norm(image))
        if value == 0.0:
            return 0.0
        vector = image / value
    return value ** 0.5


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
