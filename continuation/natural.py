"""Natural-parameter continuation in ``eps``: the hooks it gives the stepping loop.

From the last accepted point ``(theta, eps)`` the predictor gives a velocity
``v`` (``dtheta/deps``), the next ``eps`` is a step ``ds`` towards the next
listed value (never past it), measured in ``eps`` or in ``log|eps|``
(``Options.parametrization``), and the prediction ``theta + deps v`` is
corrected at the new ``eps``. With ``adaptive=True`` a rejected step is cut
and an accepted one sets the next from the step control
(``Options.step_control``, :mod:`continuation.stepsize`), capped by the
Theorem 2 Lipschitz rule.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Optional

import torch
from torch import Tensor

from .correctors import Stop
from .result import Status
from .setup import Setup
from .state import TraceState
from .stepping import (Attempt, End, InvalidState, catch_up, check_state_like, earlier_delta, error_text,
                       finish_correction, judge, metric_verdict)
from .stepsize import corrector_factor, corrector_metrics, function_lipschitz_estimate, lipschitz_estimate, next_step

__all__ = ["NaturalParameter", "next_eps", "coordinate", "safeguarded_prediction"]


def coordinate(eps: float, parametrization: str) -> float:
    """The path's coordinate of ``eps``: ``eps`` itself, or ``log|eps|``.

    Examples
    --------
    >>> coordinate(0.5, "eps"), round(coordinate(math.e, "log"), 12)
    (0.5, 1.0)
    """
    return math.log(abs(eps)) if parametrization == "log" else eps


def next_eps(eps: float, goal: float, ds: float, parametrization: str = "eps") -> float:
    """``eps`` moved by ``ds`` (in the coordinate of ``parametrization``) towards ``goal``,
    never past it (snapping to it when within rounding).

    Examples
    --------
    >>> next_eps(1.0, 0.5, 0.2), next_eps(1.0, 0.5, 0.7), next_eps(0.0, 1.0, math.inf)
    (0.8, 0.5, 1.0)
    >>> round(next_eps(1.0, 0.01, math.log(10), "log"), 12)   # one decade in log|eps|
    0.1
    """
    here, there = coordinate(eps, parametrization), coordinate(goal, parametrization)
    remaining = abs(there - here)
    if remaining - ds <= 1e-12 * max(abs(there), 1.0):
        return goal
    moved = here + math.copysign(ds, there - here)
    return math.copysign(math.exp(moved), eps) if parametrization == "log" else moved


def safeguarded_prediction(problem, theta: Tensor, predicted: Tensor, eps: Tensor,
                           growth: float = 10.0) -> tuple[Tensor, bool]:
    """The Euler prediction ``predicted``, or the last point ``theta`` when the prediction's residual at the
    new ``eps`` is more than ``growth`` times the last point's (or not finite); and whether it fell back.
    A prediction that is itself not finite (a broken predictor) is returned as it is, for its step to fail.

    A linear prediction is only as good as the linearisation it comes from. Near a branch point or on a
    network whose weights act nonlinearly, ``theta + deps v`` can leave the linear regime by far (a
    velocity of norm 8e3 in the weights moved the function by 30 in a step that the linearisation put at
    1e-3, on the trivial branch of a network crossing a pitchfork: a residual 1e9 times the last point's).
    The corrector is a least-squares method and goes downhill from where it starts: it starts from the last
    point then. A prediction a few times worse than the last point by the residual is still kept: in a
    layer, where second-order terms dominate a long step, it is still the better start (``trace`` passes
    ``Options.residual_growth``, 10).

    Examples
    --------
    >>> import torch
    >>> H = lambda theta, eps: theta - eps
    >>> theta, eps = torch.tensor([1.0]), torch.tensor(0.9)
    >>> safeguarded_prediction(H, theta, torch.tensor([0.9]), eps)
    (tensor([0.9000]), False)
    >>> safeguarded_prediction(H, theta, torch.tensor([30.0]), eps)
    (tensor([1.]), True)
    """
    if not bool(torch.isfinite(predicted).all()):  # a broken predictor: its step fails and is rejected
        return predicted, False
    at_prediction = float(torch.linalg.vector_norm(problem(predicted, eps)))
    if math.isfinite(at_prediction) and at_prediction <= growth * float(torch.linalg.vector_norm(problem(theta, eps))):
        return predicted, False
    return theta, True


class NaturalParameter:
    """The hooks of natural-parameter continuation (see the module docstring)."""

    def initial_record(self) -> dict[str, Any]:
        return {}

    def start(self, setup: Setup, state: TraceState) -> Optional[End]:
        options, path, unit = setup.options, setup.eps_path, setup.options.parametrization
        ds = options.ds if options.ds is not None else abs(coordinate(path[1], unit) - coordinate(path[0], unit)) / 10
        state.ds = min(max(ds, options.ds_min), options.ds_max)
        state.target = 1
        return None

    def attempt(self, setup: Setup, state: TraceState) -> Attempt:
        options, problem, unit = setup.options, setup.problem, setup.options.parametrization
        eps, theta = state.eps[-1], state.thetas[-1]
        goal = setup.eps_path[state.target]
        step = (lambda ds: next_eps(eps, goal, ds if setup.adaptive else math.inf, unit))  # noqa: E731
        report, eps_new, budget, solve = None, None, options.corrector_iterations, {}
        try:
            if not state.velocity_known:
                # after a resample the point before is at the same eps on other points: no secant, no Lipschitz
                # estimate from it (the vector field changed with the points, not along the path)
                moved = len(state.eps) > 1 and state.eps[-2] == eps
                previous = (state.thetas[-2], setup.eps_tensor(state.eps[-2])) if len(state.eps) > 1 and not moved \
                    else None
                counted = getattr(setup.predictor, "linear_iterations", 0)
                velocity = setup.predictor.velocity(problem, theta, setup.eps_tensor(eps), previous)
                if getattr(setup.predictor, "linear_iterations", 0) > counted:  # a matrix-free velocity
                    solve = {"predictor_linear_iterations": setup.predictor.linear_iterations - counted,
                             "predictor_linear_residual": setup.predictor.linear_residual}
                if velocity is not None:
                    check_state_like(velocity, theta, "the predictor's velocity")
                state.velocity, state.velocity_known = velocity, True
                if setup.adaptive and velocity is not None and state.previous_velocity is not None and not moved:
                    # on the function when there are outputs: the weights may turn where the function does not
                    lipschitz = (lipschitz_estimate if setup.outputs is None
                                 else partial(function_lipschitz_estimate, setup.outputs))(
                        velocity, state.previous_velocity, theta, state.thetas[-2], eps - state.eps[-2]
                    )
                    if lipschitz:  # |deps| L <= c, in the path's coordinate
                        cap = options.lipschitz_c / lipschitz / (abs(eps) if unit == "log" else 1.0)
                        state.ds = min(state.ds, max(cap, options.ds_min))
            eps_new = step(state.ds)
            final = state.target == len(setup.eps_path) - 1 and eps_new == goal
            budget = options.final_iterations if final else options.corrector_iterations
            predicted, fallback = theta, False
            if state.velocity is not None:
                predicted, fallback = safeguarded_prediction(
                    problem, theta, theta + (eps_new - eps) * state.velocity, setup.eps_tensor(eps_new),
                    options.residual_growth)
            # the last step is judged after the path's budget, like every step (finish_correction goes on)
            report = setup.corrector.correct(
                problem, predicted, setup.eps_tensor(eps_new), iterations=min(budget, options.corrector_iterations),
                tol=options.tol, state=state.corrector_state,
            )
            check_state_like(report.theta, theta, "the corrected state")
            if not final:
                report = catch_up(setup, problem, setup.eps_tensor(eps_new), report, state.residual_norm)
                check_state_like(report.theta, theta, "the corrected state")
            metrics = None
            if options.step_control == "corrector":
                delta, kappa = corrector_metrics(setup.distance, predicted, report)
                metrics = {"delta": delta, "kappa": kappa}
            elif setup.outputs is not None and state.velocity is not None:
                # a jump: the corrector took the function far from the prediction (another branch, say)
                metrics = {"delta": setup.distance(report.theta, predicted)}
            earlier = earlier_delta(state, abs(eps_new - eps), options.delta_max)
            # the last step is judged after the path's budget, as every step: a metric that rejects it then
            # (a jump) rejects it whatever the polish does; a residual above the path's bound is forgiven only
            # if the polish makes the point a solution (||H|| <= tol), not merely drags it under the bound
            early = None
            if final:
                early = judge(setup, report, state.residual_norm, setup.adaptive, metrics, earlier=earlier)
                if not metric_verdict(options, report, state.residual_norm, setup.adaptive, metrics, earlier)[0]:
                    report = finish_correction(setup, problem, setup.eps_tensor(eps_new), report)
        except InvalidState as exc:
            eps_new = eps_new if eps_new is not None else step(state.ds)
            return Attempt(eps_new, eps_new - eps, None, None, False, "", f"invalid state: {exc}",
                           end=(Status.INVALID_STATE, f"the step to eps = {eps_new:g} returned an invalid state: {exc}"))
        except Exception as exc:  # a failing step is rejected, the path is kept
            eps_new = eps_new if eps_new is not None else step(state.ds)
            return Attempt(eps_new, eps_new - eps, None, report, False, "", error_text(exc), record=solve)
        accepted, criterion, reason = judge(setup, report, state.residual_norm, setup.adaptive, metrics,
                                            earlier=earlier)
        if accepted and early is not None and not early[0] and report.residual_norm > options.tol:
            accepted, criterion, reason = False, "", (f"{early[2]} after {options.corrector_iterations} iterations, "
                                                      f"and the final correction did not reach tol: {report.message}")
        if fallback:
            reason += "; corrected from the last point (the Euler prediction's residual was far larger)"
        return Attempt(eps_new, eps_new - eps, report.theta, report, accepted, criterion, reason, record=solve,
                       data={"budget": budget}, metrics=metrics or {})

    def accept(self, setup: Setup, state: TraceState, attempt: Attempt, previous_norm: float) -> Optional[End]:
        state.previous_velocity, state.velocity, state.velocity_known = state.velocity, None, False
        options = setup.options
        if setup.adaptive:
            taken = _taken(state.eps[-2], attempt.eps, options.parametrization)
            if options.step_control == "corrector":
                factor = corrector_factor(options, attempt.metrics["delta"], attempt.metrics["kappa"])
                state.ds = min(max(taken * factor, options.ds_min), options.ds_max)
            else:
                state.ds = next_step(taken, attempt.report, attempt.data["budget"], None, options, previous_norm)
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
        taken = _taken(state.eps[-1], attempt.eps, options.parametrization)
        cut = 0.5
        if options.step_control == "corrector" and attempt.metrics:  # cut by what it measured, in [1/4, 1/2]
            cut = min(corrector_factor(options, attempt.metrics["delta"], attempt.metrics["kappa"]), 0.5)
        state.ds = taken * cut
        if state.ds >= options.ds_min:
            return None
        message = (f"step size fell below ds_min = {options.ds_min:g} near eps = {state.eps[-1]:g} "
                   f"(last rejection: {attempt.reason})")
        numerical = attempt.report is not None and attempt.report.stop not in (Stop.NON_FINITE, Stop.DEGENERATE_JACOBIAN)
        if numerical:  # the corrector could not follow the path: it may turn here
            message += "; the path may turn here: try method='arclength'"
        return Status.STEP_TOO_SMALL, message


def _taken(eps: float, eps_new: float, parametrization: str) -> float:
    """The length of the step from ``eps`` to ``eps_new`` in the path's coordinate."""
    return abs(coordinate(eps_new, parametrization) - coordinate(eps, parametrization))
