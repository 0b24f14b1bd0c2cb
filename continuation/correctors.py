"""Correctors: bring a predicted state back onto ``H(., eps) = 0`` (least squares).

A corrector has one method,
``correct(problem, theta, eps, *, iterations, tol, state) -> CorrectorResult``.
``iterations`` is its budget, ``tol`` the target residual norm and ``state``
what the corrector returned as ``result.state`` at the previous accepted
point (``None`` at the start): Levenberg-Marquardt carries its damping
through it, so that the state of a trace stays explicit.

The correctors of the library share one loop, :class:`IterativeCorrector`:
it evaluates the residual, checks it is finite, tests convergence
(``||H|| <= tol``) and stationarity (the least-squares floor test of MINPACK,
``||J^T H|| <= gtol ||J||_F ||H||`` with a last relative decrease of at most
``ftol``), keeps the budget and says why it stopped (a :class:`Stop`). A
corrector then writes only its :meth:`~IterativeCorrector.step`.
"""

from __future__ import annotations

import copy
import enum
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, runtime_checkable

import torch
from torch import Tensor
from torch.func import grad, hessian

from .linalg import DampedLeastSquares, MatrixFreeLeastSquares, SketchRank, pinv_solve
from .residual import ResidualMap

__all__ = [
    "Stop",
    "CorrectorResult",
    "Corrector",
    "IterativeCorrector",
    "Step",
    "NoCorrector",
    "LevenbergMarquardt",
    "GaussNewton",
    "Adam",
    "LBFGS",
    "Newton",
    "CORRECTORS",
    "corrector_from_options",
    "gradient_ratio",
]


class Stop(enum.Enum):
    """Why a corrector stopped."""

    CONVERGED = "converged"
    """``||H|| <= tol``."""
    STATIONARY = "stationary"
    """At a least-squares floor: ``||J^T H|| <= gtol ||J||_F ||H||`` and the last step
    lowered ``||H||`` by a relative amount of at most ``ftol``."""
    STALLED = "stalled"
    """No step lowers the loss, and the gradient test does not hold."""
    BUDGET = "budget used"
    """The iterations ran out."""
    NON_FINITE = "non-finite residual"
    """``H`` has NaN or Inf entries."""
    DEGENERATE_JACOBIAN = "degenerate jacobian"
    """``J`` is zero or not finite (a residual cut from the autograd graph, a
    non-differentiable point): never taken for stationarity."""
    NOT_CORRECTED = "not corrected"
    """No iteration was asked for, or the corrector does not iterate."""
    CAUGHT_UP = "caught up"
    """Set by the trace, not by a corrector: cut by its budget with ``||H||`` above the previous accepted
    point's, the corrector went on (``Options.catch_up_iterations``) until ``||H||`` was back at or below
    it, still above ``tol`` (:func:`continuation.stepping.catch_up`)."""


@dataclass(frozen=True)
class CorrectorResult:
    """What a corrector returns.

    Attributes
    ----------
    theta
        The corrected state.
    iterations
        Iterations used.
    residual_norm
        ``||H(theta, eps)||`` at the returned state.
    converged
        ``residual_norm <= tol``.
    message
        Why it stopped, in words.
    state
        What the corrector wants back at the next call (its damping, say).
    stop
        Why it stopped, as a :class:`Stop`.
    iterates
        The first (at most two) corrected iterates after the starting point:
        what the step control measures its ``delta`` and ``kappa`` on.
    linear_iterations
        Conjugate-gradient iterations of a matrix-free corrector (0 for dense solves).
    linear_residual
        The largest relative residual ``||b - A x|| / ||b||`` at which a
        conjugate-gradient solve behind one of its steps ended (``None`` for
        dense solves): above ``cg_tol``, a solve ran out of ``cg_maxiter``.
    start_norm
        ``||H||`` at the state the corrector started from (NaN if unknown).
    """

    theta: Tensor
    iterations: int
    residual_norm: float
    converged: bool
    message: str
    state: Any = None
    stop: Stop = Stop.BUDGET
    iterates: tuple[Tensor, ...] = field(default_factory=tuple)
    linear_iterations: int = 0
    start_norm: float = math.nan
    linear_residual: Optional[float] = None


@runtime_checkable
class Corrector(Protocol):
    """The corrector protocol."""

    def correct(
        self,
        problem: ResidualMap,
        theta: Tensor,
        eps: Tensor,
        *,
        iterations: int,
        tol: float,
        state: Any = None,
    ) -> CorrectorResult:
        """Correct ``theta`` at ``eps`` within ``iterations`` iterations."""
        ...


def _norm(residual: Tensor) -> float:
    return float(torch.linalg.vector_norm(residual))


def larger_of(first: Optional[float], second: Optional[float]) -> Optional[float]:
    """The larger of two numbers either of which may be missing (``None`` if both are)."""
    known = [value for value in (first, second) if value is not None]
    return max(known) if known else None


def _loss(problem: ResidualMap, eps: Tensor):
    def loss(theta: Tensor) -> Tensor:
        residual = problem(theta, eps)
        return 0.5 * torch.dot(residual, residual)

    return loss


def gradient_ratio(jacobian: Tensor, residual: Tensor) -> Optional[float]:
    """``||J^T H|| / (||J||_F ||H||)``, the cosine-like quantity of the gradient test.

    ``None`` when ``J`` is zero or not finite, or ``H`` is zero: the test
    then says nothing (a degenerate Jacobian is not a floor).

    Examples
    --------
    >>> import torch
    >>> J = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    >>> gradient_ratio(J, torch.tensor([0.0, 2.0], dtype=torch.float64))  # H orthogonal to range(J)
    0.0
    >>> gradient_ratio(torch.zeros(2, 1), torch.ones(2)) is None
    True
    """
    j_norm, h_norm = float(torch.linalg.matrix_norm(jacobian)), _norm(residual)
    if not (math.isfinite(j_norm) and j_norm > 0 and h_norm > 0):
        return None
    return _norm(jacobian.T @ residual) / (j_norm * h_norm)


def _degenerate(jacobian: Tensor) -> bool:
    return not bool(torch.isfinite(jacobian).all()) or not bool(jacobian.any())


@dataclass
class Step:
    """What one iteration of an :class:`IterativeCorrector` produced.

    Attributes
    ----------
    theta
        The new iterate (the old one when the step stalled).
    residual
        ``H`` at the new iterate, or ``None`` if the step did not evaluate it.
    state
        The corrector's state after the step.
    gradient_ratio
        :func:`gradient_ratio` at the old iterate, if the step computed ``J``.
    stalled
        No step lowered the loss: ``theta`` is the old iterate.
    degenerate
        ``J`` at the old iterate is zero or not finite: ``theta`` is the old iterate.
    linear_iterations
        Conjugate-gradient iterations the step took (matrix-free solves).
    linear_residual
        The relative residual of the conjugate-gradient solve that gave the
        step (``None``: a dense solve).
    """

    theta: Tensor
    residual: Optional[Tensor] = None
    state: Any = None
    gradient_ratio: Optional[float] = None
    stalled: bool = False
    degenerate: bool = False
    linear_iterations: int = 0
    linear_residual: Optional[float] = None


class IterativeCorrector:
    """The loop every iterative corrector of the library shares.

    A subclass writes :meth:`step` (one iteration from an iterate whose
    residual is known) and may override :meth:`begin` (per-call set-up, such
    as an optimiser) and :meth:`check_state`. The loop evaluates and checks
    the residual, calls the observer, tests ``tol`` and the floor, keeps the
    budget and builds the :class:`CorrectorResult`.

    Parameters
    ----------
    gtol, ftol
        The least-squares floor test (see :class:`Stop`).
    observer
        ``observer(theta, residual_norm)`` at every iterate a step may start
        from (so once per iteration, before the convergence test), for
        monitoring; ``None``: no call.
    """

    def __init__(self, gtol: float = 1e-8, ftol: float = 1e-8,
                 observer: Optional[Callable[[Tensor, float], None]] = None):
        _check_positive("gtol", gtol)
        _check_positive("ftol", ftol)
        if observer is not None and not callable(observer):
            raise TypeError(f"observer must be callable or None, got {type(observer).__name__}")
        self.gtol, self.ftol, self.observer = float(gtol), float(ftol), observer

    def check_state(self, state: Any) -> None:
        """Raise :class:`ValueError` if ``state`` cannot start this corrector (``None`` always can)."""

    def begin(self, problem: ResidualMap, theta: Tensor, eps: Tensor, state: Any) -> Any:
        """Per-call set-up; returns the state the steps see (``state`` by default)."""
        return state

    def finish(self, state: Any) -> Any:
        """The state handed back with the result (``state`` by default)."""
        return state

    def step(self, problem: ResidualMap, theta: Tensor, eps: Tensor, residual: Tensor, state: Any) -> Step:
        """One iteration from ``theta``, where ``H = residual``."""
        raise NotImplementedError

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        self.check_state(state)
        state = self.begin(problem, theta, eps, state)
        residual: Optional[Tensor] = problem(theta, eps)
        iterates: list[Tensor] = []
        used, linear, start_norm = 0, 0, _norm(residual)
        linear_residual: Optional[float] = None

        def result(stop: Stop, norm: float, theta: Tensor = theta) -> CorrectorResult:
            converged = stop is Stop.CONVERGED
            return CorrectorResult(theta, used, norm, converged, stop.value, self.finish(state), stop,
                                   tuple(iterates), linear, start_norm, linear_residual)

        while True:
            if residual is None:
                residual = problem(theta, eps)
            norm = _norm(residual)
            if self.observer is not None and used < iterations:  # once per iterate a step may start from
                self.observer(theta, norm)
            if not math.isfinite(norm):
                return result(Stop.NON_FINITE, norm, theta)
            if norm <= tol:
                return result(Stop.CONVERGED, norm, theta)
            if used == iterations:
                return result(Stop.BUDGET if iterations else Stop.NOT_CORRECTED, norm, theta)
            outcome = self.step(problem, theta, eps, residual, state)
            used, linear = used + 1, linear + outcome.linear_iterations
            linear_residual = larger_of(linear_residual, outcome.linear_residual)
            state = outcome.state
            stationary = outcome.gradient_ratio is not None and outcome.gradient_ratio <= self.gtol
            if outcome.degenerate:
                return result(Stop.DEGENERATE_JACOBIAN, norm, theta)
            if outcome.stalled:
                return result(Stop.STATIONARY if stationary else Stop.STALLED, norm, theta)
            if len(iterates) < 2:
                iterates.append(outcome.theta)
            theta, residual = outcome.theta, outcome.residual
            if residual is not None:
                new_norm = _norm(residual)
                decrease = (norm - new_norm) / norm
                if stationary and decrease <= self.ftol and math.isfinite(new_norm) and new_norm > tol:
                    return result(Stop.STATIONARY, new_norm, theta)


class NoCorrector:
    """No correction: the predicted state is kept (pure homotopy dynamics).

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps)
    >>> r = NoCorrector().correct(H, torch.ones(1), torch.tensor(0.0), iterations=5, tol=1e-8)
    >>> r.iterations, r.residual_norm, r.stop.value
    (0, 1.0, 'not corrected')
    """

    @classmethod
    def from_options(cls, options) -> "NoCorrector":
        """The corrector (it has no constants)."""
        return cls()

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        norm = _norm(problem(theta, eps))
        if not math.isfinite(norm):
            return CorrectorResult(theta, 0, norm, False, Stop.NON_FINITE.value, state, Stop.NON_FINITE)
        stop = Stop.CONVERGED if norm <= tol else Stop.NOT_CORRECTED
        return CorrectorResult(theta, 0, norm, norm <= tol, stop.value, state, stop)


MAX_DAMPING_RETRIES = 64
"""Bound on Levenberg-Marquardt's retries with a larger damping in one iteration."""


class LevenbergMarquardt(IterativeCorrector):
    """Levenberg-Marquardt with adaptive damping, in kernel form when ``M < P``.

    The step is ``d = -(J^T J + mu I)^{-1} J^T H`` (or ``-J^T (J J^T + mu I)^{-1} H``),
    with ``mu = mu_rel * trace(J^T J) / n``. A step that does not lower the
    loss is rejected and ``mu_rel`` raised (x4) without a new Jacobian; an
    accepted step lowers it (/3). The loss therefore never increases. The
    retries are bounded (``mu_rel <= mu_max`` and at most
    :data:`MAX_DAMPING_RETRIES`); when none lowers the loss the corrector
    stops (stationary at a floor, or stalled) and hands on the damping of
    its last accepted step, not the largest one tried.

    Parameters
    ----------
    mu
        Initial relative damping, in ``[mu_min, mu_max]``.
    mu_min, mu_max
        Bounds on the relative damping (positive and finite).
    gtol, ftol, observer
        See :class:`IterativeCorrector`.
    linear_solver, sketch_rank, cg_tol, cg_maxiter, sketch_rank_max
        ``"dense"`` (the Jacobian and a Cholesky factorisation,
        :class:`~continuation.DampedLeastSquares`) or ``"cg"`` (matrix-free,
        :class:`~continuation.linalg.MatrixFreeLeastSquares`, the rank of its
        Nystrom sketch set by a :class:`~continuation.linalg.SketchRank`); see
        :class:`~continuation.Options`.

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta**3 - eps)
    >>> r = LevenbergMarquardt().correct(H, torch.ones(1, dtype=torch.float64),
    ...                                  torch.tensor(8.0, dtype=torch.float64), iterations=50, tol=1e-12)
    >>> r.converged, round(float(r.theta), 10)
    (True, 2.0)
    """

    def __init__(
        self,
        mu: float = 1e-3,
        mu_min: float = 1e-15,
        mu_max: float = 1e8,
        observer: Optional[Callable[[Tensor, float], None]] = None,
        gtol: float = 1e-8,
        ftol: float = 1e-8,
        linear_solver: str = "dense",
        sketch_rank: int = 50,
        cg_tol: float = 1e-10,
        cg_maxiter: int = 500,
        sketch_rank_max: int = 400,
    ):
        super().__init__(gtol, ftol, observer)
        if linear_solver not in ("dense", "cg"):
            raise ValueError(f"linear_solver must be 'dense' or 'cg', got {linear_solver!r}")
        self.linear_solver, self.cg_tol, self.cg_maxiter = linear_solver, cg_tol, cg_maxiter
        self.sketch_ranks = SketchRank(sketch_rank, sketch_rank_max)
        for name, value in (("mu", mu), ("mu_min", mu_min), ("mu_max", mu_max)):
            _check_positive(name, value)
        if not mu_min <= mu <= mu_max:
            raise ValueError(f"mu must lie in [mu_min, mu_max] = [{mu_min!r}, {mu_max!r}], got {mu!r}")
        self.mu, self.mu_min, self.mu_max = float(mu), float(mu_min), float(mu_max)

    OPTIONS = {"mu": "lm_mu", "mu_min": "lm_mu_min", "mu_max": "lm_mu_max", "gtol": "gtol", "ftol": "ftol",
               "linear_solver": "linear_solver", "sketch_rank": "sketch_rank", "sketch_rank_max": "sketch_rank_max",
               "cg_tol": "cg_tol", "cg_maxiter": "cg_maxiter"}
    """The fields of :class:`~continuation.Options` that build the corrector, by the argument they give."""

    @classmethod
    def from_options(cls, options) -> "LevenbergMarquardt":
        """The corrector with the damping constants, floor test and linear solver of ``options``."""
        return cls(**{argument: getattr(options, field) for argument, field in cls.OPTIONS.items()})

    def check_state(self, state: Any) -> None:
        if state is None:
            return
        if isinstance(state, bool) or not isinstance(state, (int, float)) or not (
            math.isfinite(state) and self.mu_min <= state <= self.mu_max
        ):
            raise ValueError(
                f"corrector_state of Levenberg-Marquardt must be a damping in [mu_min, mu_max] = "
                f"[{self.mu_min:g}, {self.mu_max:g}], got {state!r}"
            )

    def begin(self, problem, theta, eps, state):
        return self.mu if state is None else float(state)

    def step(self, problem, theta, eps, residual, state) -> Step:
        mu = state
        if self.linear_solver == "cg":
            residual, jvp, vjp = problem.products(theta, eps)
            solver = MatrixFreeLeastSquares(jvp, vjp, residual, theta.numel(), self.sketch_ranks,
                                            self.cg_tol, self.cg_maxiter)
            j_norm = solver.jacobian_norm
            if not (math.isfinite(j_norm) and j_norm > 0):
                return Step(theta, residual, mu, degenerate=True)
            ratio = _norm(solver.gradient) / (j_norm * _norm(residual)) if _norm(residual) > 0 else None
        else:
            residual, jacobian = problem.linearize(theta, eps)
            if _degenerate(jacobian):
                return Step(theta, residual, mu, degenerate=True)
            ratio = gradient_ratio(jacobian, residual)
            solver = DampedLeastSquares(jacobian, residual)
        norm = _norm(residual)
        scale = max(solver.scale, torch.finfo(theta.dtype).tiny)
        trial_mu = mu
        for _ in range(MAX_DAMPING_RETRIES):
            trial = theta + solver.step(trial_mu * scale)
            trial_residual = problem(trial, eps)
            trial_norm = _norm(trial_residual)
            if math.isfinite(trial_norm) and trial_norm < norm:
                return Step(trial, trial_residual, max(trial_mu / 3.0, self.mu_min), ratio,
                            linear_iterations=getattr(solver, "iterations", 0),
                            linear_residual=getattr(solver, "relative_residual", None))
            trial_mu *= 4.0
            if trial_mu > self.mu_max:
                break
        return Step(theta, residual, mu, ratio, stalled=True, linear_iterations=getattr(solver, "iterations", 0),
                    linear_residual=getattr(solver, "relative_residual", None))


class GaussNewton(IterativeCorrector):
    """Gauss-Newton with the truncated pseudo-inverse step and backtracking.

    The step ``d = -J^+ H`` (singular values below ``rcond * s_max`` dropped)
    is halved until the loss decreases (at most 30 times).

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta**2 - eps)
    >>> r = GaussNewton().correct(H, torch.ones(1, dtype=torch.float64),
    ...                           torch.tensor(2.0, dtype=torch.float64), iterations=20, tol=1e-12)
    >>> round(float(r.theta) ** 2, 10)
    2.0
    """

    def __init__(self, rcond: float = 1e-4, gtol: float = 1e-8, ftol: float = 1e-8,
                 observer: Optional[Callable[[Tensor, float], None]] = None):
        super().__init__(gtol, ftol, observer)
        _check_positive("rcond", rcond)
        self.rcond = float(rcond)

    @classmethod
    def from_options(cls, options) -> "GaussNewton":
        """The corrector with the ``rcond`` and floor test of ``options``."""
        return cls(options.rcond, gtol=options.gtol, ftol=options.ftol)

    def step(self, problem, theta, eps, residual, state) -> Step:
        residual, jacobian = problem.linearize(theta, eps)
        if _degenerate(jacobian):
            return Step(theta, residual, state, degenerate=True)
        ratio, norm = gradient_ratio(jacobian, residual), _norm(residual)
        step = -pinv_solve(jacobian, residual, self.rcond)
        for _ in range(30):
            trial_residual = problem(theta + step, eps)
            trial_norm = _norm(trial_residual)
            if math.isfinite(trial_norm) and trial_norm < norm:
                return Step(theta + step, trial_residual, state, ratio)
            step = step / 2
        return Step(theta, residual, state, ratio, stalled=True)


class Adam(IterativeCorrector):
    """``torch.optim.Adam`` on the loss ``||H||^2 / 2`` for a fixed budget.

    A fresh optimiser at every call (the seed's Strategy 2 re-solves each
    problem of the path from the previous weights), unless ``keep_state``:
    then the optimiser's state (moments and step count) is returned as the
    result's ``state`` and taken back from the ``state`` argument, so that
    several calls continue one run (a long training in resumable pieces).

    Parameters
    ----------
    lr
        Learning rate.
    weight_decay
        Decoupled weight decay: ``0`` is Adam, a positive value
        ``torch.optim.AdamW`` with that decay.
    observer
        ``observer(theta, residual_norm)`` called at every iteration with
        the state the gradient is taken at (before the update), for
        monitoring a training run; ``None``: no call.
    keep_state
        Hand the optimiser's state from call to call (see above).

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps)
    >>> r = Adam(lr=0.05).correct(H, torch.zeros(1, dtype=torch.float64),
    ...                           torch.tensor(1.0, dtype=torch.float64), iterations=500, tol=1e-3)
    >>> r.converged
    True

    Two calls of 20 iterations with ``keep_state`` are one call of 40:

    >>> adam, one = Adam(lr=0.05, keep_state=True), torch.tensor(1.0, dtype=torch.float64)
    >>> half = adam.correct(H, torch.zeros(1, dtype=torch.float64), one, iterations=20, tol=0.0)
    >>> two = adam.correct(H, half.theta, one, iterations=20, tol=0.0, state=half.state)
    >>> whole = adam.correct(H, torch.zeros(1, dtype=torch.float64), one, iterations=40, tol=0.0)
    >>> torch.equal(two.theta, whole.theta), two.state["state"][0]["step"].item()
    (True, 40.0)
    """

    def __init__(
        self,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        observer: Optional[Callable[[Tensor, float], None]] = None,
        keep_state: bool = False,
    ):
        super().__init__(observer=observer)
        _check_positive("lr", lr)
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not (
            math.isfinite(weight_decay) and weight_decay >= 0
        ):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.keep_state = keep_state

    @classmethod
    def from_options(cls, options) -> "Adam":
        """The corrector with the learning rate and weight decay of ``options``."""
        return cls(options.learning_rate, options.weight_decay)

    def check_state(self, state: Any) -> None:
        if state is not None and not (self.keep_state and isinstance(state, dict) and "state" in state):
            raise ValueError(
                "corrector_state of Adam must be None, or an optimiser state_dict with keep_state=True, "
                f"got {type(state).__name__}"
            )

    def begin(self, problem, theta, eps, state):
        parameter = theta.detach().clone().requires_grad_(True)
        if self.weight_decay > 0:
            optimizer = torch.optim.AdamW([parameter], lr=self.lr, weight_decay=self.weight_decay)
        else:
            optimizer = torch.optim.Adam([parameter], lr=self.lr)
        if state is not None:
            optimizer.load_state_dict(state)
        return parameter, optimizer

    def finish(self, state):
        _, optimizer = state
        return copy.deepcopy(optimizer.state_dict()) if self.keep_state else None

    def step(self, problem, theta, eps, residual, state) -> Step:
        parameter, optimizer = state
        optimizer.zero_grad()
        _loss(problem, eps)(parameter).backward()
        optimizer.step()
        return Step(parameter.detach().clone(), None, state)


class LBFGS(IterativeCorrector):
    """``torch.optim.LBFGS`` (strong Wolfe line search) on ``||H||^2 / 2``.

    One iteration of the loop is one L-BFGS iteration; the curvature pairs
    are kept through the call.

    Parameters
    ----------
    history_size
        Number of curvature pairs kept.

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps)
    >>> r = LBFGS().correct(H, torch.zeros(2, dtype=torch.float64),
    ...                     torch.tensor(1.0, dtype=torch.float64), iterations=20, tol=1e-10)
    >>> r.converged
    True
    """

    def __init__(self, history_size: int = 50, observer: Optional[Callable[[Tensor, float], None]] = None):
        super().__init__(observer=observer)
        if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
            raise ValueError(f"history_size must be an integer >= 1, got {history_size!r}")
        self.history_size = history_size

    @classmethod
    def from_options(cls, options) -> "LBFGS":
        """The corrector with its default history."""
        return cls()

    def begin(self, problem, theta, eps, state):
        parameter = theta.detach().clone().requires_grad_(True)
        optimizer = torch.optim.LBFGS(
            [parameter], lr=1.0, max_iter=1, max_eval=25, history_size=self.history_size,
            tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe",
        )
        loss_fn = _loss(problem, eps)

        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = loss_fn(parameter)
            loss.backward()
            return loss

        return parameter, optimizer, closure

    def finish(self, state):
        return None

    def step(self, problem, theta, eps, residual, state) -> Step:
        parameter, optimizer, closure = state
        optimizer.step(closure)
        return Step(parameter.detach().clone(), None, state)


class Newton(IterativeCorrector):
    """Newton's method on the loss with its exact (dense) Hessian.

    ``d = -Hess^+ grad`` with a truncated pseudo-inverse, full steps, no line
    search. It converges to any critical point, saddles included; it is here
    to reproduce the failure described in seed 003, not as a default.

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps)
    >>> r = Newton().correct(H, torch.zeros(2, dtype=torch.float64),
    ...                      torch.tensor(1.0, dtype=torch.float64), iterations=3, tol=1e-12)
    >>> r.iterations, r.converged
    (1, True)
    """

    def __init__(self, rcond: float = 1e-4, observer: Optional[Callable[[Tensor, float], None]] = None):
        super().__init__(observer=observer)
        _check_positive("rcond", rcond)
        self.rcond = float(rcond)

    @classmethod
    def from_options(cls, options) -> "Newton":
        """The corrector with the ``rcond`` of ``options``."""
        return cls(options.rcond)

    def step(self, problem, theta, eps, residual, state) -> Step:
        loss_fn = _loss(problem, eps)
        return Step(theta - pinv_solve(hessian(loss_fn)(theta), grad(loss_fn)(theta), self.rcond), None, state)


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


CORRECTORS = {
    "none": NoCorrector,
    "lm": LevenbergMarquardt,
    "gauss-newton": GaussNewton,
    "adam": Adam,
    "lbfgs": LBFGS,
    "newton": Newton,
}
"""Correctors by name; each is built by its ``from_options``."""


def corrector_from_options(name: str, options) -> Corrector:
    """Build the named corrector with the constants of ``options``.

    Examples
    --------
    >>> from continuation import Options
    >>> corrector_from_options("lm", Options(lm_mu=0.1)).mu
    0.1
    """
    if name not in CORRECTORS:
        raise ValueError(f"corrector must be one of {sorted(CORRECTORS)}, got {name!r}")
    return CORRECTORS[name].from_options(options)
