"""Natural-parameter continuation in ``eps``: the hooks it gives the stepping loop.

From the last accepted point ``(theta, eps)`` the predictor gives a velocity
``v`` (``dtheta/deps``), the next ``eps`` is ``eps + deps`` towards the next
listed value (never past it), the prediction ``theta + deps v`` is corrected
at the new ``eps``. With ``adaptive=True`` a rejected step is halved and an
accepted one sets the next from the Theorem 2 Lipschitz rule and the
corrector's effort (:mod:`continuation.stepsize`).
"""

from __future__ import annotations

import math
from typing import Any, Optional

from .correctors import Stop
from .result import Status
from .setup import Setup
from .state import TraceState
from .stepping import Attempt, End, InvalidState, check_state_like, error_text, judge
from .stepsize import lipschitz_estimate, next_step

__all__ = ["NaturalParameter", "next_eps"]


def next_eps(eps: float, goal: float, ds: float) -> float:
    """``eps`` moved by ``ds`` towards ``goal``, never past it (snapping to it when within rounding).

    Examples
    --------
    >>> next_eps(1.0, 0.5, 0.2), next_eps(1.0, 0.5, 0.7), next_eps(0.0, 1.0, math.inf)
    (0.8, 0.5, 1.0)
    """
    remaining = abs(goal - eps)
    if remaining - ds <= 1e-12 * max(abs(goal), 1.0):
        return goal
    return eps + math.copysign(ds, goal - eps)


class NaturalParameter:
    """The hooks of natural-parameter continuation (see the module docstring)."""

    def initial_record(self) -> dict[str, Any]:
        return {}

    def start(self, setup: Setup, state: TraceState) -> Optional[End]:
        options, path = setup.options, setup.eps_path
        ds = options.ds if options.ds is not None else abs(path[1] - path[0]) / 10
        state.ds = min(max(ds, options.ds_min), options.ds_max)
        state.target = 1
        return None

    def attempt(self, setup: Setup, state: TraceState) -> Attempt:
        options, problem = setup.options, setup.problem
        eps, theta = state.eps[-1], state.thetas[-1]
        goal = setup.eps_path[state.target]
        report, eps_new, budget = None, None, options.corrector_iterations
        try:
            if not state.velocity_known:
                previous = (state.thetas[-2], setup.eps_tensor(state.eps[-2])) if len(state.eps) > 1 else None
                velocity = setup.predictor.velocity(problem, theta, setup.eps_tensor(eps), previous)
                if velocity is not None:
                    check_state_like(velocity, theta, "the predictor's velocity")
                state.velocity, state.velocity_known = velocity, True
                if setup.adaptive and velocity is not None and state.previous_velocity is not None:
                    lipschitz = lipschitz_estimate(
                        velocity, state.previous_velocity, theta, state.thetas[-2], eps - state.eps[-2]
                    )
                    if lipschitz:
                        state.ds = min(state.ds, max(options.lipschitz_c / lipschitz, options.ds_min))
            eps_new = next_eps(eps, goal, state.ds if setup.adaptive else math.inf)
            final = state.target == len(setup.eps_path) - 1 and eps_new == goal
            budget = options.final_iterations if final else options.corrector_iterations
            predicted = theta if state.velocity is None else theta + (eps_new - eps) * state.velocity
            report = setup.corrector.correct(
                problem, predicted, setup.eps_tensor(eps_new), iterations=budget, tol=options.tol,
                state=state.corrector_state,
            )
            check_state_like(report.theta, theta, "the corrected state")
        except InvalidState as exc:
            eps_new = eps_new if eps_new is not None else next_eps(eps, goal, state.ds)
            return Attempt(eps_new, eps_new - eps, None, None, False, "", f"invalid state: {exc}",
                           end=(Status.INVALID_STATE, f"the step to eps = {eps_new:g} returned an invalid state: {exc}"))
        except Exception as exc:  # a failing step is rejected, the path is kept
            eps_new = eps_new if eps_new is not None else next_eps(eps, goal, state.ds if setup.adaptive else math.inf)
            return Attempt(eps_new, eps_new - eps, None, report, False, "", error_text(exc))
        accepted, criterion, reason = judge(setup, report, state.residual_norm, setup.adaptive)
        return Attempt(eps_new, eps_new - eps, report.theta, report, accepted, criterion, reason,
                       data={"budget": budget})

    def accept(self, setup: Setup, state: TraceState, attempt: Attempt, previous_norm: float) -> Optional[End]:
        state.previous_velocity, state.velocity, state.velocity_known = state.velocity, None, False
        if setup.adaptive:
            state.ds = next_step(abs(attempt.deps), attempt.report, attempt.data["budget"], None, setup.options,
                                 previous_norm)
        if attempt.eps == setup.eps_path[state.target]:
            state.target += 1
            if state.target == len(setup.eps_path):
                return Status.SUCCESS, f"reached eps = {attempt.eps:g} in {len(state.eps) - 1} accepted steps"
        return None

    def reject(self, setup: Setup, state: TraceState, attempt: Attempt) -> Optional[End]:
        options = setup.options
        if not setup.adaptive:
            return Status.CORRECTOR_FAILED, (
                f"the step to eps = {attempt.eps:g} failed ({attempt.reason}); adaptive=False cannot halve it"
            )
        state.ds = abs(attempt.deps) / 2
        if state.ds >= options.ds_min:
            return None
        message = (f"step size fell below ds_min = {options.ds_min:g} near eps = {state.eps[-1]:g} "
                   f"(last rejection: {attempt.reason})")
        numerical = attempt.report is not None and attempt.report.stop not in (Stop.NON_FINITE, Stop.DEGENERATE_JACOBIAN)
        if numerical:  # the corrector could not follow the path: it may turn here
            message += "; the path may turn here: try method='arclength'"
        return Status.STEP_TOO_SMALL, message
