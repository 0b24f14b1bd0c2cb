"""Correctors: bring a predicted state back onto ``H(., eps) = 0`` (least squares).

A corrector has one method,
``correct(problem, theta, eps, *, iterations, tol, state) -> CorrectorResult``.
``iterations`` is its budget, ``tol`` the target residual norm and ``state``
what the corrector returned as ``result.state`` at the previous accepted
point (``None`` at the start): Levenberg-Marquardt carries its damping
through it, so that the state of a trace stays explicit.

Each corrector reports its iterations, the final ``||H||``, whether it
converged and why it stopped.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol, runtime_checkable

import torch
from torch import Tensor
from torch.func import grad, hessian

from .linalg import DampedLeastSquares, pinv_solve
from .residual import ResidualMap

__all__ = [
    "CorrectorResult",
    "Corrector",
    "NoCorrector",
    "LevenbergMarquardt",
    "GaussNewton",
    "Adam",
    "LBFGS",
    "Newton",
    "CORRECTORS",
    "corrector_from_options",
]


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
        ``residual_norm <= tol`` (or the corrector's own convergence test).
    message
        Why it stopped.
    state
        What the corrector wants back at the next call (its damping, say).
    """

    theta: Tensor
    iterations: int
    residual_norm: float
    converged: bool
    message: str
    state: Any = None


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


def _loss(problem: ResidualMap, eps: Tensor):
    def loss(theta: Tensor) -> Tensor:
        residual = problem(theta, eps)
        return 0.5 * torch.dot(residual, residual)

    return loss


class NoCorrector:
    """No correction: the predicted state is kept (pure homotopy dynamics).

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> H = FunctionResidual(lambda theta, eps: theta - eps)
    >>> r = NoCorrector().correct(H, torch.ones(1), torch.tensor(0.0), iterations=5, tol=1e-8)
    >>> r.iterations, r.residual_norm
    (0, 1.0)
    """

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        norm = _norm(problem(theta, eps))
        return CorrectorResult(theta, 0, norm, True, "no corrector", state)


class LevenbergMarquardt:
    """Levenberg-Marquardt with adaptive damping, in kernel form when ``M < P``.

    The step is ``d = -(J^T J + mu I)^{-1} J^T H`` (or ``-J^T (J J^T + mu I)^{-1} H``),
    with ``mu = mu_rel * trace(J^T J) / n``. A step that does not lower the
    loss is rejected and ``mu_rel`` raised (x4) without a new Jacobian; an
    accepted step lowers it (/3). The loss therefore never increases.

    Parameters
    ----------
    mu
        Initial relative damping.
    mu_min, mu_max
        Bounds; when no step with ``mu_rel <= mu_max`` lowers the loss, the
        corrector stops (a least-squares minimum, or a stall).
    observer
        ``observer(theta, residual_norm)`` called at every iteration with
        the state the Jacobian is taken at, for monitoring; ``None``: no call.

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
    ):
        self.mu, self.mu_min, self.mu_max, self.observer = mu, mu_min, mu_max, observer

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        mu = self.mu if state is None else state
        residual = problem(theta, eps)
        norm = _norm(residual)
        if not math.isfinite(norm):
            return CorrectorResult(theta, 0, norm, False, "non-finite residual", mu)
        for iteration in range(iterations):
            if self.observer is not None:
                self.observer(theta, norm)
            if norm <= tol:
                return CorrectorResult(theta, iteration, norm, True, "converged", mu)
            residual, jacobian = problem.linearize(theta, eps)
            solver = DampedLeastSquares(jacobian, residual)
            scale = max(solver.scale, torch.finfo(theta.dtype).tiny)
            while True:
                trial = theta + solver.step(mu * scale)
                trial_norm = _norm(problem(trial, eps))
                if math.isfinite(trial_norm) and trial_norm < norm:
                    theta, norm = trial, trial_norm
                    mu = max(mu / 3.0, self.mu_min)
                    break
                mu *= 4.0
                if mu > self.mu_max:
                    return CorrectorResult(
                        theta, iteration + 1, norm, norm <= tol, "stalled: no step lowers the loss",
                        self.mu_max,
                    )
        converged = norm <= tol
        return CorrectorResult(
            theta, iterations, norm, converged, "converged" if converged else "budget used", mu
        )


class GaussNewton:
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

    def __init__(self, rcond: float = 1e-4):
        self.rcond = rcond

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        norm = _norm(problem(theta, eps))
        if not math.isfinite(norm):
            return CorrectorResult(theta, 0, norm, False, "non-finite residual")
        for iteration in range(iterations):
            if norm <= tol:
                return CorrectorResult(theta, iteration, norm, True, "converged")
            residual, jacobian = problem.linearize(theta, eps)
            step = -pinv_solve(jacobian, residual, self.rcond)
            for _ in range(30):
                trial_norm = _norm(problem(theta + step, eps))
                if math.isfinite(trial_norm) and trial_norm < norm:
                    theta, norm = theta + step, trial_norm
                    break
                step = step / 2
            else:
                return CorrectorResult(theta, iteration + 1, norm, False, "stalled: no step lowers the loss")
        converged = norm <= tol
        return CorrectorResult(theta, iterations, norm, converged, "converged" if converged else "budget used")


class Adam:
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
        self.lr, self.weight_decay, self.observer = lr, weight_decay, observer
        self.keep_state = keep_state

    def _optimizer(self, parameter: Tensor) -> torch.optim.Optimizer:
        if self.weight_decay > 0:
            return torch.optim.AdamW([parameter], lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.Adam([parameter], lr=self.lr)

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        parameter = theta.detach().clone().requires_grad_(True)
        optimizer = self._optimizer(parameter)
        if self.keep_state and state is not None:
            optimizer.load_state_dict(state)

        def result(theta: Tensor, used: int, norm: float, converged: bool, message: str) -> CorrectorResult:
            kept = copy.deepcopy(optimizer.state_dict()) if self.keep_state else None
            return CorrectorResult(theta, used, norm, converged, message, kept)

        loss_fn = _loss(problem, eps)
        for iteration in range(iterations):
            optimizer.zero_grad()
            loss = loss_fn(parameter)
            norm = math.sqrt(2 * float(loss.detach()))
            if self.observer is not None:
                self.observer(parameter.detach().clone(), norm)
            if not math.isfinite(norm):
                return result(parameter.detach(), iteration, norm, False, "non-finite residual")
            if norm <= tol:
                return result(parameter.detach(), iteration, norm, True, "converged")
            loss.backward()
            optimizer.step()
        theta = parameter.detach()
        norm = _norm(problem(theta, eps))
        converged = norm <= tol
        return result(theta, iterations, norm, converged, "converged" if converged else "budget used")


class LBFGS:
    """``torch.optim.LBFGS`` (strong Wolfe line search) on ``||H||^2 / 2``.

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

    def __init__(self, history_size: int = 50):
        self.history_size = history_size

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        parameter = theta.detach().clone().requires_grad_(True)
        norm = _norm(problem(theta, eps))
        if norm <= tol or iterations == 0 or not math.isfinite(norm):
            ok = norm <= tol
            return CorrectorResult(theta, 0, norm, ok, "converged" if ok else "not corrected")
        optimizer = torch.optim.LBFGS(
            [parameter], lr=1.0, max_iter=iterations, history_size=self.history_size,
            tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe",
        )
        loss_fn = _loss(problem, eps)

        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = loss_fn(parameter)
            loss.backward()
            return loss

        optimizer.step(closure)
        used = optimizer.state[parameter].get("n_iter", iterations)
        theta = parameter.detach()
        norm = _norm(problem(theta, eps))
        converged = norm <= tol
        return CorrectorResult(theta, used, norm, converged, "converged" if converged else "budget used")


class Newton:
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

    def __init__(self, rcond: float = 1e-4):
        self.rcond = rcond

    def correct(self, problem, theta, eps, *, iterations, tol, state=None) -> CorrectorResult:
        loss_fn = _loss(problem, eps)
        norm = _norm(problem(theta, eps))
        for iteration in range(iterations):
            if not math.isfinite(norm):
                return CorrectorResult(theta, iteration, norm, False, "non-finite residual")
            if norm <= tol:
                return CorrectorResult(theta, iteration, norm, True, "converged")
            theta = theta - pinv_solve(hessian(loss_fn)(theta), grad(loss_fn)(theta), self.rcond)
            norm = _norm(problem(theta, eps))
        converged = norm <= tol
        return CorrectorResult(theta, iterations, norm, converged, "converged" if converged else "budget used")


CORRECTORS = {
    "none": NoCorrector,
    "lm": LevenbergMarquardt,
    "gauss-newton": GaussNewton,
    "adam": Adam,
    "lbfgs": LBFGS,
    "newton": Newton,
}
"""Correctors by name."""


def corrector_from_options(name: str, options) -> Corrector:
    """Build the named corrector with the constants of ``options``."""
    if name == "lm":
        return LevenbergMarquardt(options.lm_mu, options.lm_mu_min, options.lm_mu_max)
    if name in ("gauss-newton", "newton"):
        return CORRECTORS[name](options.rcond)
    if name == "adam":
        return Adam(options.learning_rate, options.weight_decay)
    return CORRECTORS[name]()

