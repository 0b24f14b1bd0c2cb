"""The one stepping loop of every continuation method.

:func:`run` owns what every method shares: the initial correction, attempt ->
judge -> record, accept or reject, diagnostics, the callback, ``max_steps``,
interrupts, the progress bar, the honest final status and the result. A
method (:mod:`continuation.natural`, :mod:`continuation.arclength`) supplies
only its hooks (:class:`Method`): ``start`` (after the initial point),
``attempt`` (predict and correct one step, judged with :func:`judge`),
``accept`` (step size, events, goal) and ``reject`` (halve, or end).

Everything that carries over from one step to the next lives in the
:class:`~continuation.state.TraceState`, so a trace resumed from its state
goes on exactly as if it had not stopped.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Optional, Protocol

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .conditioning import solution_conditioning
from .correctors import CorrectorResult, Stop, gradient_ratio, larger_of
from .linalg import SketchRank
from .options import Options
from .residual import has_collocation_points, transform_hint
from .result import SUCCESSES, Status, StepRecord, TraceResult, residual_note
from .setup import AUTO_DENSE_BYTES, Setup, jacobian_bytes
from .state import TraceState

__all__ = ["Attempt", "Method", "run", "judge", "metric_verdict", "catch_up", "check_state_like", "InvalidState",
           "error_text"]

logger = logging.getLogger("continuation")

End = tuple[Status, str]


class InvalidState(Exception):
    """A predictor, corrector or residual returned a state of the wrong shape, dtype or device."""


@dataclass
class Attempt:
    """One attempted step, as a method hands it to the loop.

    Attributes
    ----------
    eps, deps
        The candidate point's ``eps`` and the signed step to it.
    theta
        The candidate state (``None`` if there is none).
    report
        The corrector's report (``None`` if the attempt failed before it).
    accepted, criterion, reason
        The verdict of :func:`judge` (or of a failure).
    record
        Extra fields of the step's :class:`~continuation.StepRecord` (arclength: ``ds``, ...).
    preceding
        Rows recorded before this attempt's own (arclength: the step beyond the range).
    data
        What the method's ``accept`` needs (arclength: the new tangent).
    goal
        If accepted, the trace reached its end with this status and message.
    end
        The trace ends with this status and message whatever the verdict.
    metrics
        ``delta``, ``kappa`` (and ``alpha``) of the ``"corrector"`` step control.
    """

    eps: float
    deps: float
    theta: Optional[Tensor]
    report: Optional[CorrectorResult]
    accepted: bool
    criterion: str
    reason: str
    record: dict[str, Any] = field(default_factory=dict)
    preceding: list[StepRecord] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    goal: Optional[End] = None
    end: Optional[End] = None
    metrics: dict[str, float] = field(default_factory=dict)


class Method(Protocol):
    """The hooks a continuation method supplies to :func:`run`."""

    def start(self, setup: Setup, state: TraceState) -> Optional[End]:
        """After the initial point is accepted: the first ``ds`` (and the first tangent)."""

    def initial_record(self) -> dict[str, Any]:
        """Extra fields of the initial point's record."""

    def attempt(self, setup: Setup, state: TraceState) -> Attempt:
        """Predict and correct one step from the last accepted point; never raises."""

    def accept(self, setup: Setup, state: TraceState, attempt: Attempt, previous_norm: float) -> Optional[End]:
        """After the point of ``attempt`` joined the path: the next step, events; the goal if reached."""

    def reject(self, setup: Setup, state: TraceState, attempt: Attempt) -> Optional[End]:
        """After a rejection: a smaller step, or the end of the trace."""


REPAIR_RATIO = 0.75
"""A ``delta`` above ``delta_max`` that a shorter step lowered by less than a quarter is the last point's, not
the step's (see :func:`judge`): a prediction error shrinks like the step or faster."""


def earlier_delta(state: TraceState, step: float, delta_max: float) -> Optional[float]:
    """The ``delta`` of the attempt just rejected from the same point for it (above ``delta_max``: :func:`judge`
    tests ``delta`` first), if that attempt's step was longer than ``step``; else ``None``.

    Examples
    --------
    >>> from continuation.result import StepRecord
    >>> state = TraceState("natural", [1.0, 0.0], eps=[1.0])
    >>> state.steps = [StepRecord(0, 1.0, 0.0, 5, 1e-9, True, "", 0.1),
    ...                StepRecord(1, 0.8, -0.2, 8, 1e-2, False, "delta = 0.5 above delta_max = 0.2", 0.1, delta=0.5)]
    >>> earlier_delta(state, 0.1, 0.2), earlier_delta(state, 0.2, 0.2), earlier_delta(state, 0.1, 0.6)
    (0.5, None, None)
    """
    last = state.steps[-1] if state.steps else None
    if last is None or last.accepted or last.delta is None or not last.delta > delta_max:
        return None
    return last.delta if abs(last.deps if last.ds is None else last.ds) > step else None


def metric_verdict(
    options: Options, report: CorrectorResult, previous_norm: float, adaptive: bool,
    metrics: Optional[dict[str, float]] = None, earlier: Optional[float] = None,
) -> tuple[str, str]:
    """The part of :func:`judge` that reads the step's ``metrics``: ``(rejection, repair)``, the reason a metric
    rejects the point (``""`` if none does) and the note of a repair (``""`` if none).

    Examples
    --------
    >>> import torch
    >>> from continuation.correctors import CorrectorResult, Stop
    >>> cut = CorrectorResult(torch.zeros(1), 8, 1e-3, False, "budget used", stop=Stop.BUDGET)
    >>> metric_verdict(Options(), cut, 1e-4, True, {"delta": 0.3})[0]
    'budget used; delta = 0.3 above delta_max = 0.2'
    >>> metric_verdict(Options(), cut, 1e-4, True, {"delta": 0.1})  # within delta_max
    ('', '')
    >>> metric_verdict(Options(), cut, 1e-4, False, {"delta": 0.3})  # a fixed schedule rejects no step
    ('', '')
    """
    repair = ""
    if not (adaptive and metrics):
        return "", repair
    for name, value in metrics.items():
        largest = getattr(options, f"{name}_max")
        if name == "delta" and value > largest and earlier is not None and value > REPAIR_RATIO * earlier \
                and report.residual_norm < previous_norm:
            repair = (f"; a repair: delta = {value:.3g} above delta_max = {largest:g}, but a longer step gave "
                      f"{earlier:.3g}: the last point was off its path, and this one lowers ||H|| from "
                      f"{previous_norm:.3e}")
            continue
        # a slow contraction matters while the corrector is still on its way (cut by its budget)
        if value > largest and (name != "kappa" or report.stop in (Stop.BUDGET, Stop.CAUGHT_UP)):
            return f"{report.message}; {name} = {value:.3g} above {name}_max = {largest:g}", repair
    return "", repair


def judge(
    setup: Setup, report: CorrectorResult, previous_norm: float, adaptive: bool,
    metrics: Optional[dict[str, float]] = None, earlier: Optional[float] = None,
) -> tuple[bool, str, str]:
    """Accept or reject a corrected point: ``(accepted, criterion, reason)``.

    A point with a non-finite residual or a degenerate Jacobian is rejected;
    so is, on an adaptive path, a step whose ``metrics`` (``delta``,
    ``alpha`` of the ``"corrector"`` step control, and ``kappa`` when the
    corrector was cut by its budget; under the ``"effort"`` control, with
    known outputs, ``delta`` alone: a corrector that took the function far
    from the prediction jumped) exceed their maxima, with one exception, a
    repair: a ``delta`` above ``delta_max`` is not held against a point that
    lowers ``||H||`` below the last accepted point's when the attempt just
    rejected from that point for its ``delta`` took a longer step and
    measured ``earlier``, of which this ``delta`` is more than
    :data:`REPAIR_RATIO`. A corrector that moves the function as far
    whatever the step is correcting the last point, which had left its path
    (a residual that rose step after step, each rise within
    ``residual_growth``), not jumping from a step too long: shrinking the
    step cannot help, and rejecting the repair ends the trace at ``ds_min``.
    Otherwise the point is
    ``"converged"`` if ``||H|| <= tol``, ``"floor"`` if the corrector found
    it stationary at a least-squares floor, and ``"unconverged"`` else. A
    converged point is accepted; so is any point on a fixed schedule
    (``adaptive=False``: there is no smaller step to try), with no corrector
    iterations (``NOT_CORRECTED``), or at a floor under the ``"corrector"``
    control (its ``delta`` and ``kappa`` vouch for the step); other floor or
    unconverged points are accepted if ``||H||`` is at most
    ``options.residual_growth`` times that of the previous accepted point
    (or ``tol``, if larger), or, when ``delta`` is measured, if the corrector
    settled (stationary, or with ``||H||`` lower than at the prediction)
    within ``delta_nominal`` of the prediction: the prediction was good, so
    the residual left is the problem's floor at this ``eps`` (a floor that
    rises along the path, as in a time homotopy whose intermediate functions
    the network represents less well than its start), not a step too long.
    The final status of a trace does not rest on these labels alone: see
    :func:`run`.
    """
    options = setup.options
    if report.stop is Stop.NON_FINITE or not math.isfinite(report.residual_norm) or not bool(
        torch.isfinite(report.theta).all()
    ):
        return False, "", "non-finite residual"
    if report.stop is Stop.DEGENERATE_JACOBIAN:
        return False, "", DEGENERATE
    rejection, repair = metric_verdict(options, report, previous_norm, adaptive, metrics, earlier)
    if rejection:
        return False, "", rejection
    if report.residual_norm <= options.tol:
        return True, "converged", report.message + repair
    criterion = "floor" if report.stop is Stop.STATIONARY else "unconverged"
    if not adaptive or report.stop is Stop.NOT_CORRECTED or (options.step_control == "corrector"
                                                             and criterion == "floor"):
        return True, criterion, report.message + repair
    allowed = options.residual_growth * max(previous_norm, options.tol)
    if report.residual_norm <= allowed:
        return True, criterion, report.message + repair
    if on_path_floor(options, report, metrics):
        return True, criterion, f"{report.message}; a floor of the path: delta = {metrics['delta']:.3g}"
    return False, "", f"{report.message}; ||H|| = {report.residual_norm:.3e} above {allowed:.3e}"


def catch_up(setup: Setup, problem: Any, eps: Tensor, report: CorrectorResult,
             previous_norm: float) -> CorrectorResult:
    """``report``, or the same corrector gone on from where it stopped, aiming at ``previous_norm``.

    It goes on if it was cut by its budget with ``||H||`` above ``previous_norm`` (that of the last
    accepted point, or ``tol`` if larger) and above ``residual_growth * tol``, but within ``residual_growth``
    of ``previous_norm``: a point that :func:`judge` would accept as it is. It runs for up to
    ``options.catch_up_iterations`` more iterations, in pieces of ``corrector_iterations``, and stops when
    ``||H||`` is back at ``previous_norm`` or the rate of the last piece would not take it there within the
    catch-up budget (:func:`projected_norm`). The result is one report of both runs: the iterations of both,
    the first run's first iterates, the second's end, and ``Stop.CAUGHT_UP`` if it got back without meeting
    ``tol``. Only on an adaptive path: a fixed schedule keeps the budget it was given.

    An accepted point starts the next step. If its residual rose, the next one starts worse, and a residual
    that rises a little at every step (each within ``residual_growth`` of the last) walks the trace off its
    path without a rejection. Correcting on until the residual is back where it was keeps accepted points
    from ratcheting up. Below ``residual_growth * tol`` there is no ratchet to stop (the acceptance bounds
    such points by ``residual_growth * tol`` whatever came before), and more iterations there buy an accuracy
    that ``tol`` does not ask for, at a price: on a solution that the equations pin only weakly (an
    interface) they move it along the directions the residual barely sees. A least-squares floor that rises
    along the path still lets points rise: the corrector cannot go below it, and the rate test stops a slow
    corrector there after one piece. A point further above is left to :func:`judge` (a step too long is
    cut, not rescued); so is the last step of a trace, whose budget is ``final_iterations``.
    """
    options = setup.options
    aim, band = max(previous_norm, options.tol), options.residual_growth * options.tol
    if not setup.adaptive or options.catch_up_iterations == 0 or report.stop is not Stop.BUDGET \
            or not max(aim, band) < report.residual_norm <= options.residual_growth * aim:
        return report
    more, used, linear, outcome = report, 0, 0, ""
    while used < options.catch_up_iterations:
        chunk = min(max(options.corrector_iterations, 1), options.catch_up_iterations - used)
        before = more.residual_norm
        more = setup.corrector.correct(problem, more.theta, eps, iterations=chunk, tol=aim, state=more.state)
        used, linear = used + more.iterations, linear + more.linear_iterations
        left = options.catch_up_iterations - used
        if more.stop is not Stop.BUDGET or left == 0:
            break
        if projected_norm(before, more.residual_norm, more.iterations, left) > aim:
            outcome = ", stopped: at its rate it would not get back within the catch-up budget"
            break
    stop = Stop.CAUGHT_UP if more.stop is Stop.CONVERGED and more.residual_norm > options.tol else more.stop
    message = (f"{report.message}; ||H|| = {report.residual_norm:.3e} above the last point's {previous_norm:.3e}: "
               f"{used} more iterations, {stop.value}{outcome}")
    return _joined(report, more, used, linear, message, stop, options.tol)


def finish_correction(setup: Setup, problem: Any, eps: Tensor, report: CorrectorResult) -> CorrectorResult:
    """The correction of a trace's last step: ``report``, corrected with the path's budget, gone on from where
    it stopped to ``final_iterations`` iterations in all if its budget cut it.

    The step is judged by ``report`` (:func:`judge` takes its ``delta`` from it): the same number of iterations
    as every step of the path, so the same yardstick. A correction of ``final_iterations`` goes further from the
    prediction than one of ``corrector_iterations`` whatever the step, and judged by its ``delta`` the last step
    was rejected again and again while the half steps before it were accepted (P3 at d = 100). The rest of the
    correction is at the goal's ``eps``: it lowers the residual there, and its distance from the step's point
    (``Setup.distance``: on the function when there are outputs) is in the message. With
    Levenberg-Marquardt (whose state, the damping, goes on with it) the two pieces are one run of
    ``final_iterations``; a corrector that starts afresh at every call restarts for the second piece.
    """
    options = setup.options
    rest = options.final_iterations - report.iterations
    if report.stop is not Stop.BUDGET or rest <= 0:
        return report
    more = setup.corrector.correct(problem, report.theta, eps, iterations=rest, tol=options.tol, state=report.state)
    check_state_like(more.theta, report.theta, "the corrected state")
    moved = setup.distance(more.theta, report.theta)
    message = (f"{report.message}; at the goal {more.iterations} more iterations (final_iterations = "
               f"{options.final_iterations}), ||H|| {report.residual_norm:.3e} -> {more.residual_norm:.3e}, "
               f"{more.message}, moved by {moved:.3g} from the step's point")
    return _joined(report, more, more.iterations, more.linear_iterations, message, more.stop, options.tol)


def _joined(report: CorrectorResult, more: CorrectorResult, used: int, linear: int, message: str, stop: Stop,
            tol: float) -> CorrectorResult:
    """One report of a correction ``report`` and the ``used`` iterations that went on from it (``more``):
    the first run's first iterates and start, the second's end."""
    return replace(more, iterations=report.iterations + used, converged=more.residual_norm <= tol, message=message,
                   stop=stop, iterates=report.iterates, linear_iterations=report.linear_iterations + linear,
                   start_norm=report.start_norm, linear_residual=larger_of(report.linear_residual,
                                                                           more.linear_residual))


def projected_norm(before: float, after: float, iterations: int, left: int) -> float:
    """``||H||`` after ``left`` more iterations at the rate at which ``iterations`` took it from ``before``
    to ``after`` (``after`` itself if it did not fall). A catch-up stops when this is still above its aim: it
    would spend its budget without getting back.

    Examples
    --------
    >>> projected_norm(1.0, 0.5, 2, 4)   # halved in 2 iterations: 4 more reach a quarter of 0.5
    0.125
    >>> projected_norm(1.0, 1.0, 8, 8)
    1.0
    """
    if iterations <= 0 or not after < before:
        return after
    return after * (after / before) ** (left / iterations)


def on_path_floor(options: Options, report: CorrectorResult, metrics: Optional[dict[str, float]]) -> bool:
    """Whether the corrector settled (stationary, or with ``||H||`` lower than at the prediction) within
    ``delta_nominal`` of the prediction: the prediction was good, so the residual left is the least-squares
    floor of the problem at this ``eps`` (rising along the path), not the mark of a step too long."""
    settled = report.stop is Stop.STATIONARY or report.residual_norm < report.start_norm
    return bool(metrics) and metrics.get("delta", math.inf) <= options.delta_nominal and settled


DEGENERATE = (
    "degenerate jacobian: dH/dtheta is zero or not finite here (is the residual cut from the autograd graph by "
    ".detach(), .item() or numpy, or not differentiable here?)"
)


def check_state_like(value: Any, like: Tensor, what: str) -> None:
    """Raise :class:`InvalidState` unless ``value`` is a tensor of ``like``'s shape, dtype and device."""
    if not isinstance(value, Tensor):
        raise InvalidState(f"{what} is a {type(value).__name__}, expected a tensor of shape {tuple(like.shape)}")
    if value.shape != like.shape or value.dtype != like.dtype or value.device != like.device:
        raise InvalidState(
            f"{what} has shape {tuple(value.shape)}, dtype {value.dtype} on {value.device}; expected shape "
            f"{tuple(like.shape)}, dtype {like.dtype} on {like.device}"
        )


def _sketch_ranks(setup: Setup) -> dict[str, SketchRank]:
    """The :class:`SketchRank` of the trace's corrector and predictor, by role, for those that have one."""
    parts = {"corrector": setup.corrector, "predictor": setup.predictor}
    return {role: part.sketch_ranks for role, part in parts.items()
            if isinstance(getattr(part, "sketch_ranks", None), SketchRank)}


def damping_of(report: Optional[CorrectorResult]) -> Optional[float]:
    """The corrector's state in ``report`` if it is a number (Levenberg-Marquardt's damping), else ``None``."""
    state = None if report is None else report.state
    return float(state) if isinstance(state, (int, float)) and not isinstance(state, bool) else None


def error_text(exc: BaseException) -> str:
    """An exception as the reason of a failed step (with :func:`~continuation.residual.transform_hint`)."""
    hint = transform_hint(exc)
    return f"error: {type(exc).__name__}: {exc}" + (f" ({hint})" if hint else "")


def run(setup: Setup, method: Method, *, progress: bool = False) -> TraceResult:
    """Run a trace (or resume one) to its end and build the result."""
    clock = time.perf_counter()
    state = setup.resume if setup.resume is not None else TraceState(setup.method, list(setup.eps_path))
    earlier_wall = state.wall_time
    state.pieces += 1
    for role, ranks in _sketch_ranks(setup).items():  # a resumed trace sketches where it left off
        ranks.rank = min(max(state.sketch_ranks.get(role, ranks.rank), ranks.min_rank), ranks.max_rank)
    bar = _Progress(progress, setup, state)
    end: Optional[End] = None
    logger.info("trace %s from eps = %g over %s", setup.method, setup.eps_path[0], setup.eps_path)
    try:
        if not state.started:
            end = _start(setup, method, state, bar)
        elif state.finished:  # a finished trace resumed: its last point corrected on if above tol
            end = _correct_further(setup, state, bar)
        while end is None:
            if state.attempts >= setup.options.max_steps:
                end = (Status.MAX_STEPS, f"max_steps = {setup.options.max_steps} attempts made (counted over the "
                                         "whole trace, resumed parts included: a larger max_steps goes on); "
                                         f"stopped at eps = {state.eps[-1]:g}")
                break
            start = time.perf_counter()
            attempt = method.attempt(setup, state)
            state.steps.extend(attempt.preceding)
            record = StepRecord(
                len(state.steps), attempt.eps, attempt.deps, attempt.report.iterations if attempt.report else 0,
                attempt.report.residual_norm if attempt.report else math.nan, attempt.accepted, attempt.reason,
                time.perf_counter() - start, criterion=attempt.criterion, **attempt.record, **attempt.metrics,
                linear_iterations=attempt.report.linear_iterations if attempt.report else 0,
                linear_residual=attempt.report.linear_residual if attempt.report else None,
                damping=damping_of(attempt.report),
            )
            state.steps.append(record)
            logger.debug("step %d: eps = %g, ||H|| = %.3e, %s (%s)", record.step, record.eps, record.residual_norm,
                         "accepted" if record.accepted else "rejected", record.reason)
            if attempt.accepted:
                end = _accept(setup, method, state, attempt, record, bar)
            else:
                end = attempt.end or method.reject(setup, state, attempt)
    except KeyboardInterrupt:
        where = f"eps = {state.eps[-1]:g}" if state.eps else "the initial correction"
        end = (Status.INTERRUPTED, f"interrupted after {where}; resume with trace(..., resume=result.state)")
    finally:
        bar.close()
        state.sketch_ranks = {role: ranks.rank for role, ranks in _sketch_ranks(setup).items()}
    status, message = end
    if status in SUCCESSES:
        state.finished = status.value
        status, message = _honest(setup, state, status, message)
    elif status not in (Status.FLOOR, Status.NOT_CONVERGED):
        message += residual_note([r.residual_norm for r in state.steps if r.accepted], setup.options.tol)
    for kind in dict.fromkeys(e.kind for e in state.events):
        found = [e for e in state.events if e.kind == kind]
        message += f"; {len(found)} {kind}(s) at eps = " + ", ".join(f"{e.eps:.10g}" for e in found)
    state.jacobian_evaluations = setup.problem.jacobians
    state.wall_time = earlier_wall + time.perf_counter() - clock
    logger.info("trace ended: %s: %s", status.value, message)
    return TraceResult(
        list(state.eps), state.stacked_thetas(setup.theta0), list(state.steps), status, message,
        events=list(state.events), jacobian_evaluations=state.jacobian_evaluations, wall_time=state.wall_time,
        diagnostics=list(state.diagnostics), corrector_state=state.corrector_state, state=state,
    )


def _start(setup: Setup, method: Method, state: TraceState, bar: "_Progress") -> Optional[End]:
    """Correct ``theta0`` at ``eps_path[0]`` and accept it as the first point."""
    start, eps0 = time.perf_counter(), setup.eps_path[0]
    try:
        report = setup.corrector.correct(
            setup.problem, setup.theta0, setup.eps_tensor(eps0), iterations=setup.options.initial_iterations,
            tol=setup.options.tol, state=setup.corrector_state,
        )
        check_state_like(report.theta, setup.theta0, "the corrected initial state")
    except Exception as exc:
        state.steps.append(StepRecord(0, eps0, 0.0, 0, math.nan, False, error_text(exc), time.perf_counter() - start))
        return Status.INITIAL_CORRECTION_FAILED, f"the initial correction at eps = {eps0:g} failed: {error_text(exc)}"
    finite = math.isfinite(report.residual_norm) and bool(torch.isfinite(report.theta).all())
    criterion = _criterion(report, setup.options.tol) if finite else ""
    reason = report.message if finite else "non-finite residual"
    record = StepRecord(0, eps0, 0.0, report.iterations, report.residual_norm, finite, reason,
                        time.perf_counter() - start, criterion=criterion, damping=damping_of(report),
                        linear_iterations=report.linear_iterations, linear_residual=report.linear_residual,
                        **method.initial_record())
    state.steps.append(record)
    if not finite:
        return Status.INITIAL_CORRECTION_FAILED, f"the initial correction at eps = {eps0:g} failed: {reason}"
    state.eps.append(eps0)
    state.thetas.append(report.theta.detach())
    state.residual_norm, state.corrector_state, state.last_report = report.residual_norm, report.state, report.stop.value
    end = method.start(setup, state)
    return end or _after_point(setup, state, record, report.theta, bar, goal=None)


def _criterion(report: CorrectorResult, tol: float) -> str:
    """The label of a point accepted by a correction at a fixed ``eps`` (the start, a resample, a further
    correction): ``"converged"`` at ``tol``, ``"floor"`` if stationary, else ``"unconverged"``."""
    return "converged" if report.residual_norm <= tol else (
        "floor" if report.stop is Stop.STATIONARY else "unconverged")


def _correct_further(setup: Setup, state: TraceState, bar: "_Progress") -> End:
    """A finished trace, resumed: its last point, if above ``tol``, corrected on at its ``eps`` with
    ``options.final_iterations`` more iterations, from the corrector state it ended with, and accepted as a new
    point there if that lowered ``||H||`` (as a resample does, :func:`_resample`).

    Levenberg-Marquardt carries its damping in that state, so a trace that ended with ``final_iterations = n``,
    resumed with ``m``, ends where one trace with ``n + m`` ends when its last step was accepted by the path's
    rules (the step's acceptance can depend on the final correction only when the path's budget left it above
    the residual bound). A long final correction can so be run in pieces, saved in between.
    """
    finished, options, eps = Status(state.finished), setup.options, state.eps[-1]
    if state.residual_norm <= options.tol or options.final_iterations == 0:
        return finished, "the resumed trace had already reached its end"
    start = time.perf_counter()
    try:
        report = setup.corrector.correct(setup.problem, state.thetas[-1], setup.eps_tensor(eps),
                                         iterations=options.final_iterations, tol=options.tol,
                                         state=state.corrector_state)
        check_state_like(report.theta, state.thetas[-1], "the corrected state")
    except Exception as exc:
        failed, spent = f"failed: {error_text(exc)}", 0
    else:
        improved = math.isfinite(report.residual_norm) and report.residual_norm < state.residual_norm
        failed = "" if improved else (f"did not lower ||H|| = {state.residual_norm:.3e} "
                                      f"({report.iterations} iterations: {report.message})")
        spent = report.iterations
    if failed:  # the attempt is recorded, the path and its status stay as they were
        state.steps.append(StepRecord(len(state.steps), eps, 0.0, spent, state.residual_norm, False,
                                      f"resumed at the trace's end: the further correction {failed}",
                                      time.perf_counter() - start))
        return finished, f"reached eps = {eps:g}; resumed, the further correction of its last point {failed}"
    moved = setup.distance(report.theta, state.thetas[-1])
    reason = (f"resumed at the trace's end and corrected on (final_iterations = {options.final_iterations}): "
              f"||H|| {state.residual_norm:.3e} -> {report.residual_norm:.3e}, {report.message}, "
              f"moved by {moved:.3g}")
    criterion = _criterion(report, options.tol)
    record = StepRecord(len(state.steps), eps, 0.0, report.iterations, report.residual_norm, True, reason,
                        time.perf_counter() - start, criterion=criterion, damping=damping_of(report),
                        linear_iterations=report.linear_iterations, linear_residual=report.linear_residual)
    state.steps.append(record)
    state.eps.append(eps)
    state.thetas.append(report.theta.detach())
    state.residual_norm, state.corrector_state, state.last_report = report.residual_norm, report.state, report.stop.value
    goal = (finished, f"reached eps = {eps:g}, its last point corrected on by {report.iterations} iterations "
                      "after the trace was resumed")
    return _after_point(setup, state, record, report.theta, bar, goal) or goal


def _accept(setup: Setup, method: Method, state: TraceState, attempt: Attempt, record: StepRecord,
            bar: "_Progress") -> Optional[End]:
    previous_norm = state.residual_norm
    state.eps.append(attempt.eps)
    state.thetas.append(attempt.theta.detach())
    report = attempt.report
    state.residual_norm, state.corrector_state, state.last_report = report.residual_norm, report.state, report.stop.value
    goal = attempt.goal or method.accept(setup, state, attempt, previous_norm)
    return _after_point(setup, state, record, attempt.theta, bar, goal)


def _after_point(setup: Setup, state: TraceState, record: StepRecord, theta: Tensor, bar: "_Progress",
                 goal: Optional[End]) -> Optional[End]:
    """Resampling, the validation residual, diagnostics, progress and the callback at a newly accepted point."""
    end, record, theta = _resample(setup, state, record, theta, final=goal is not None)
    if end is not None:
        return end
    eps = state.eps[-1]
    try:
        validated = _validation_norm(setup, theta, setup.eps_tensor(eps))
    except Exception as exc:
        return Status.DIAGNOSTIC_FAILED, f"the validation residual failed at eps = {eps:g}: {error_text(exc)}"
    if validated is not None:
        record = replace(record, validation_norm=validated)
        state.steps[-1] = record
    if setup.diagnostics:
        values: dict[str, Any] = {"eps": eps}
        state.diagnostics.append(values)
        for name, fn in setup.diagnostics.items():
            try:
                values[name] = fn(setup.problem.problem, theta, setup.eps_tensor(eps))
            except Exception as exc:
                values[name] = error_text(exc)
                return Status.DIAGNOSTIC_FAILED, f"the diagnostic {name!r} failed at eps = {eps:g}: {error_text(exc)}"
    bar.update(state)
    if setup.callback is not None:
        try:
            stop = setup.callback(record, theta)
        except Exception as exc:
            return Status.CALLBACK_FAILED, f"the callback failed at eps = {eps:g}: {error_text(exc)}"
        if stop and goal is None:
            return Status.STOPPED_BY_CALLBACK, f"stopped by the callback at eps = {eps:g}"
    return goal


def _resample(setup: Setup, state: TraceState, record: StepRecord,
              theta: Tensor, final: bool = False) -> tuple[Optional[End], StepRecord, Tensor]:
    """Let a residual map with a ``resample(theta, eps) -> bool`` method move its points at the accepted point;
    if it did, correct again at the same ``eps`` on the new points and accept that as a new point of the path
    (with ``options.final_iterations`` at the ``final`` point of the trace, as the step that reached it)."""
    resample = getattr(setup.problem.problem, "resample", None)
    if not callable(resample):
        return None, record, theta
    eps_value, start = state.eps[-1], time.perf_counter()
    eps = setup.eps_tensor(eps_value)
    try:
        if not resample(theta, eps):
            return None, record, theta
        budget = setup.options.final_iterations if final else setup.options.corrector_iterations
        report = setup.corrector.correct(setup.problem, theta, eps, iterations=budget, tol=setup.options.tol,
                                         state=state.corrector_state)
        check_state_like(report.theta, theta, "the state corrected on resampled points")
    except Exception as exc:
        return (Status.RESAMPLING_FAILED, f"resampling the points at eps = {eps_value:g} failed: {error_text(exc)}"), \
            record, theta
    if not (math.isfinite(report.residual_norm) and bool(torch.isfinite(report.theta).all())):
        return (Status.RESAMPLING_FAILED, f"the correction on the resampled points at eps = {eps_value:g} is not "
                                          "finite"), record, theta
    criterion = _criterion(report, setup.options.tol)
    record = StepRecord(len(state.steps), eps_value, 0.0, report.iterations, report.residual_norm, True,
                        f"points resampled; corrected again: {report.message}", time.perf_counter() - start,
                        arclength=state.arclength if setup.method == "arclength" else None, criterion=criterion,
                        damping=damping_of(report))
    state.steps.append(record)
    state.eps.append(eps_value)
    state.thetas.append(report.theta.detach())
    state.residual_norm, state.corrector_state, state.last_report = report.residual_norm, report.state, report.stop.value
    logger.info("eps = %g: points resampled, ||H|| = %.3e after %d iterations", eps_value, report.residual_norm,
                report.iterations)
    return None, record, report.theta


def _honest(setup: Setup, state: TraceState, status: Status, message: str) -> End:
    """Keep a success only if the last point solves the problem to ``tol``; else say what was reached."""
    tol = setup.options.tol
    theta, eps = state.thetas[-1], setup.eps_tensor(state.eps[-1])
    try:
        norm = float(torch.linalg.vector_norm(setup.problem(theta, eps)))
    except Exception as exc:
        return Status.NOT_CONVERGED, f"{message}; but ||H|| could not be evaluated at the last point: {error_text(exc)}"
    unresolved = _unresolved(setup, state, theta, eps, norm)
    if norm <= tol:
        if unresolved:
            return Status.UNDER_RESOLVED, (
                f"{message}, with ||H|| = {norm:.3e} <= tol on the collocation points; but {unresolved} {_MORE_POINTS}"
            )
        if setup.validation is None and has_collocation_points(setup.problem.problem):
            message += (" (its residual between the collocation points was not checked: no validation residual, "
                        "see trace(validation=...))")
        return _conditioned(setup, state, theta, eps, status, message)
    floor, note = state.last_report == Stop.STATIONARY.value, ""
    if not floor:
        try:
            residual, jacobian = setup.problem.linearize(theta, eps)
            ratio = gradient_ratio(jacobian, residual)
            if ratio is None:
                note = " (" + DEGENERATE + ")"
            floor = ratio is not None and ratio <= setup.options.gtol
        except Exception as exc:
            note = f" (the Jacobian could not be evaluated there: {error_text(exc)})"
    if unresolved:  # more iterations would fit the points, not the function
        unresolved = f"; and {unresolved}, and ||H|| on them says little about the function {_MORE_POINTS}"
    if floor:
        return Status.FLOOR, (
            f"{message}; but its last point is stationary at ||H|| = {norm:.3e} > tol = {tol:g} "
            f"(a least-squares floor: the model cannot make the residual smaller here){unresolved}"
            f"{_start_note(setup, state)}"
        )
    if state.last_report == Stop.BUDGET.value:  # more iterations help only where the points resolve the function
        note += (f"; its corrector was still going when its budget (final_iterations = "
                 f"{setup.options.final_iterations}) ran out"
                 + ("" if unresolved else ": resuming it, trace(..., resume=result.state), corrects it further, by "
                       "final_iterations more"))
    return Status.NOT_CONVERGED, (
        f"{message}; but its last point was not corrected to tol = {tol:g}: ||H|| = {norm:.3e}{note}{unresolved}"
        f"{_start_note(setup, state)}"
    )


def _start_note(setup: Setup, state: TraceState) -> str:
    """A clause for a trace that ends above ``tol`` when its start was not corrected to ``tol`` either (nor
    stationary at a floor): the path then began off the solutions (else ``""``)."""
    first = state.steps[0] if state.steps else None
    if first is None or first.step != 0 or not first.accepted or first.criterion != "unconverged":
        return ""
    return (f"; nor was its start (||H|| = {first.residual_norm:.3e} after {first.iterations} iterations, "
            f"{first.reason}): the path began off the solutions; a larger initial_iterations may start it on them")


_MORE_POINTS = "(use more points, or points where the residual is large)"
"""What to do when the validation residual says the collocation points do not resolve the solution."""


def _unresolved(setup: Setup, state: TraceState, theta: Tensor, eps: Tensor, norm: float) -> str:
    """What the validation residual says of the last point if it exceeds both ``tol`` and
    ``validation_factor`` times ``||H||`` (the collocation points do not resolve the function), and where along
    the path it first said so (:func:`_unresolved_since`); else ``""`` (no validation residual, or one that fails
    here: it was evaluated at every accepted point)."""
    try:
        validated = _validation_norm(setup, theta, eps)
    except Exception:  # a failure here leaves the check undecided
        return ""
    options = setup.options
    if validated is None or not _is_unresolved(options, validated, norm):
        return ""
    return (f"the residual on the fresh validation points is {validated:.3e}, above tol = {options.tol:g} and "
            f"{validated / max(norm, torch.finfo(theta.dtype).tiny):.3g} times ||H|| (validation_factor = "
            f"{options.validation_factor:g}): the points do not resolve the solution{_unresolved_since(setup, state)}")


def _unresolved_since(setup: Setup, state: TraceState) -> str:
    """A clause on the accepted points before the last whose validation residual already exceeded ``tol`` and
    ``validation_factor`` times their ``||H||``: where the first was and how many followed (``""``: none)."""
    checked = [record for record in state.steps if record.accepted and record.validation_norm is not None][:-1]
    flags = [_is_unresolved(setup.options, record.validation_norm, record.residual_norm) for record in checked]
    if True not in flags:
        return ""
    first = flags.index(True)
    return (f"; they first failed to resolve it at eps = {checked[first].eps:.4g} (step {checked[first].step}), and "
            f"failed at {sum(flags[first:])} of the {len(flags) - first} accepted points from there before the last")


def _is_unresolved(options: Options, validation_norm: float, residual_norm: float) -> bool:
    """Whether a point's validation residual says its collocation points do not resolve the function: above
    both ``tol`` and ``validation_factor`` times ``||H||``."""
    return validation_norm > max(options.tol, options.validation_factor * residual_norm)


def _validation_norm(setup: Setup, theta: Tensor, eps: Tensor) -> Optional[float]:
    """``||validation(theta, eps)||`` (``None``: no validation residual); raises what the residual raises."""
    if setup.validation is None:
        return None
    return float(torch.linalg.vector_norm(setup.validation(theta, eps)))


def _conditioned(setup: Setup, state: TraceState, theta: Tensor, eps: Tensor, status: Status, message: str) -> End:
    """Keep a success at ``||H|| <= tol`` only if the equations pin the function there
    (:mod:`continuation.conditioning`); the measure is kept in ``state.conditioning``."""
    limit = setup.options.conditioning_tol
    if limit is None:
        return status, message
    if setup.outputs is None:
        return status, f"{message} (the solution's conditioning was not checked: no outputs)"
    if setup.options.linear_solver != "dense":
        size = jacobian_bytes(setup.problem(theta, eps).numel(), theta.numel(), theta.dtype)
        if size > AUTO_DENSE_BYTES:
            return status, f"{message} (the solution's conditioning was not checked: its Jacobian would take " \
                           f"{size / 1024**3:.1f} GiB, above the {AUTO_DENSE_BYTES / 1024**3:g} GiB of a dense check)"
    try:
        found = solution_conditioning(setup.problem, setup.outputs, theta, eps)
    except Exception as exc:
        return status, f"{message} (the solution's conditioning could not be measured: {error_text(exc)})"
    state.conditioning = found.to_dict()
    if found.bound <= limit:
        return status, message
    return Status.ILL_CONDITIONED, (
        f"{message}, with ||H|| = {found.residual_norm:.3e} <= tol; but the equations pin its solution only "
        f"weakly: within that residual the function may differ by {found.bound:.2g} of its norm at first "
        f"order (function-space condition number {found.condition:.2e}; conditioning_tol = {limit:g}). "
        "The solution it ended on was chosen by the path, not by the equations (a layer or interface that "
        "can slide, a branch point): check it by other means (a symmetry, a finer grid, another start)"
    )


class _Progress:
    """A progress bar in percent of the path: of the distance in ``log|eps|`` on a path whose ``eps``
    spans a decade or more on one side of 0, else in ``eps``; for arclength, of ``max_arclength`` if set."""

    def __init__(self, enabled: bool, setup: Setup, state: TraceState):
        self.setup, self.shown = setup, 0.0
        path = setup.eps_path
        same_sign = all(v > 0 for v in path) or all(v < 0 for v in path)
        self.logarithmic = same_sign and max(abs(v) for v in path) >= 10 * min(abs(v) for v in path)
        self.total = sum(self.distance(a, b) for a, b in zip(path, path[1:]))
        self.bar = tqdm(total=100, disable=not enabled, leave=True, desc="initial correction" if not state.started
                        else "tracing", bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}")

    def distance(self, a: float, b: float) -> float:
        if self.logarithmic:
            return abs(math.log(abs(b)) - math.log(abs(a)))
        return abs(b / 2 - a / 2)  # halves: no overflow for eps near the largest float

    def fraction(self, state: TraceState) -> float:
        setup, eps = self.setup, state.eps[-1]
        if setup.method == "arclength":
            if setup.options.max_arclength is not None:
                return state.arclength / setup.options.max_arclength
            low, high = min(setup.eps_path), max(setup.eps_path)
            return self.distance(setup.eps_path[0], eps) / max(self.distance(low, high), 1e-300)
        path, target = setup.eps_path, min(state.target, len(setup.eps_path) - 1)
        done = sum(self.distance(a, b) for a, b in zip(path[: target - 1], path[1:target]))
        done += self.distance(path[target - 1], eps) if state.target < len(path) else self.distance(path[-2], path[-1])
        return done / self.total if self.total > 0 and math.isfinite(self.total) else 0.0

    def update(self, state: TraceState) -> None:
        if self.bar.disable:
            return
        self.shown = max(self.shown, min(100.0, round(100 * self.fraction(state), 1)))
        self.bar.n = self.shown
        self.bar.set_description("tracing", refresh=False)
        self.bar.set_postfix_str(f"eps={state.eps[-1]:.4g} ||H||={state.residual_norm:.2e}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
