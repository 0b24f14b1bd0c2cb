"""Pseudo-arclength continuation: follow ``H(theta, eps) = 0`` round folds.

The state is ``z = (theta, eps)``. At an accepted point the unit tangent
``t`` solves ``[J  H_eps] t = 0`` (least squares when ``M != P``), oriented by
the previous tangent: it is the minimum-norm solution of the bordered system

    [ J      H_eps ] t = [0]
    [ r_theta r_eps]     [1],     r = W t_prev   (r = (0, +-1) at the start)

normalised in the inner product ``<a, b> = a_theta^T W b_theta + a_eps b_eps``.
The predictor steps by ``ds`` along ``t``; the corrector (any corrector of
:mod:`continuation.correctors`) then solves the bordered residual

    H(theta, eps) = 0,   <t, z - z_pred> = 0

as a least-squares problem in ``z``. A sign change of the ``eps`` component
of the tangent between two accepted points is a fold; it is located by a
secant (Illinois) search on that component along the arc.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import torch
from torch import Tensor
from torch.func import grad

from .correctors import CorrectorResult
from .linalg import pinv_solve
from .residual import ResidualMap
from .result import Event, Status, StepRecord
from .setup import InnerProduct, Setup
from .state import TraceState
from .stepping import (Attempt, End, InvalidState, catch_up, check_state_like, earlier_delta, error_text,
                       judge)
from .stepsize import corrector_factor, corrector_metrics, lipschitz_estimate, next_step

__all__ = ["PseudoArclength", "BorderedResidual", "output_inner_product"]


def output_inner_product(outputs: Callable[[Tensor], Tensor]) -> InnerProduct:
    """A function-space inner product for networks: ``<J_u a, J_u b> / N``.

    ``outputs(theta)`` returns the network outputs at the collocation points;
    ``J_u`` is its Jacobian at the current ``theta``. Weights are not unique,
    outputs are: this measures a step by how much the function moves.

    Parameters
    ----------
    outputs
        ``theta -> Tensor`` of network outputs (any shape).

    Examples
    --------
    >>> import torch
    >>> ip = output_inner_product(lambda theta: torch.stack([theta[0] + theta[1], theta[0] - theta[1]]))
    >>> a = torch.tensor([1.0, 0.0])
    >>> float(ip(torch.zeros(2), a, a))  # (1^2 + 1^2) / 2
    1.0
    """

    def inner_product(theta: Tensor, a: Tensor, b: Tensor) -> Tensor:
        _, ja = torch.func.jvp(outputs, (theta,), (a,))
        _, jb = torch.func.jvp(outputs, (theta,), (b,))
        return (ja * jb).sum() / ja.numel()

    return inner_product


def _euclidean(theta: Tensor, a: Tensor, b: Tensor) -> Tensor:
    return torch.dot(a, b)


class BorderedResidual(ResidualMap):
    """``G(z) = [H(theta, eps); <t, z - z_pred>]`` with ``z = (theta, eps)``.

    A residual map in the state ``z`` (its own parameter is ignored), so that
    every corrector of the library can solve the arclength system.

    Parameters
    ----------
    problem
        The residual map ``H``.
    tangent_row
        The row ``(W t_theta, t_eps)`` of the linear constraint, length P + 1.
    predicted
        ``z_pred``, length P + 1.
    """

    def __init__(self, problem: ResidualMap, tangent_row: Tensor, predicted: Tensor):
        self.problem, self.row, self.predicted = problem, tangent_row, predicted

    def __call__(self, z: Tensor, _: Tensor) -> Tensor:
        constraint = torch.dot(self.row, z - self.predicted)
        return torch.cat([self.problem(z[:-1], z[-1]), constraint[None]])

    def linearize(self, z: Tensor, _: Tensor) -> tuple[Tensor, Tensor]:
        return self(z, _), self.jacobian(z, _)

    def jacobian(self, z: Tensor, _: Tensor) -> Tensor:
        theta, eps = z[:-1], z[-1]
        top = torch.cat([self.problem.jacobian(theta, eps), self.problem.eps_derivative(theta, eps)[:, None]], 1)
        return torch.cat([top, self.row[None]])


def _metric_row(inner_product: InnerProduct, theta: Tensor, tangent: Tensor) -> Tensor:
    """The row ``(W t_theta, t_eps)``: the gradient of ``b -> <t, b>``."""
    if inner_product is _euclidean:
        return tangent
    theta_part = grad(lambda b: inner_product(theta, tangent[:-1], b))(torch.zeros_like(tangent[:-1]))
    return torch.cat([theta_part, tangent[-1:]])


def _tangent(problem: ResidualMap, theta: Tensor, eps: Tensor, border: Tensor, inner_product: InnerProduct,
             rcond: float) -> Tensor:
    """Unit tangent with ``<border, t> = 1`` before normalisation (so orientation is kept)."""
    matrix = torch.cat(
        [torch.cat([problem.jacobian(theta, eps), problem.eps_derivative(theta, eps)[:, None]], 1), border[None]]
    )
    rhs = torch.zeros(matrix.shape[0], dtype=theta.dtype, device=theta.device)
    rhs[-1] = 1.0
    if matrix.shape[0] == matrix.shape[1]:
        tangent = torch.linalg.solve(matrix, rhs)
    else:
        tangent = pinv_solve(matrix, rhs, rcond)
    norm = torch.sqrt(inner_product(theta, tangent[:-1], tangent[:-1]) + tangent[-1] ** 2)
    return tangent / norm


class PseudoArclength:
    """The hooks of pseudo-arclength continuation, ``trace(..., method="arclength")``.

    ``eps_path[0]`` is the start; the range of ``eps`` is
    ``[min(eps_path), max(eps_path)]`` and the first step heads towards
    ``eps_path[1]``. The trace ends when it leaves the range (the last point
    is then corrected at the boundary value: ``Status.LEFT_RANGE``, or
    ``Status.LANDING_FAILED`` if that correction fails), after
    ``options.max_arclength`` (``Status.MAX_ARCLENGTH``), after
    ``options.max_steps`` attempts, or when the step falls below ``ds_min``.
    Folds are reported in ``result.events``, located to ``options.fold_tol``.
    The predictor argument of :func:`~continuation.trace` is not used: the
    tangent is the predictor.

    Examples
    --------
    >>> import torch, continuation
    >>> H = lambda theta, eps: theta**2 + eps**2 - 1     # a circle: folds at eps = +-1
    >>> result = continuation.trace(H, torch.tensor([1.0], dtype=torch.float64), [0.0, -2.0, 2.0],
    ...                             method="arclength", options=continuation.Options(max_arclength=5.0, tol=1e-10))
    >>> [round(e.eps, 6) for e in result.events]
    [-1.0, 1.0]
    """

    def initial_record(self) -> dict[str, Any]:
        return {"ds": None, "tangent_eps": None, "arclength": 0.0}

    def start(self, setup: Setup, state: TraceState) -> Optional[End]:
        options, path = setup.options, setup.eps_path
        ds = options.ds if options.ds is not None else (max(path) - min(path)) / 10
        state.ds = min(max(ds, options.ds_min), options.ds_max)
        border = torch.zeros(setup.theta0.numel() + 1, dtype=setup.theta0.dtype, device=setup.theta0.device)
        border[-1] = math.copysign(1.0, path[1] - path[0])
        try:
            state.tangent = _tangent(setup.problem, state.thetas[-1], setup.eps_tensor(state.eps[-1]), border,
                                     _inner_product(setup), options.rcond)
        except Exception as exc:
            return Status.STEP_TOO_SMALL, f"no tangent at the start: {error_text(exc)}"
        try:
            state.test_values = _test_values(setup, state.thetas[-1], state.eps[-1], state.tangent)
        except Exception as exc:
            return Status.STEP_TOO_SMALL, f"an event test failed at the start: {error_text(exc)}"
        return None

    def attempt(self, setup: Setup, state: TraceState) -> Attempt:
        if state.tangent is None:  # resumed after its start found no tangent: look for one again
            end = self.start(setup, state)
            if end is not None:
                return Attempt(state.eps[-1], 0.0, None, None, False, "", end[1], end=end)
        options = setup.options
        z, tangent, ds = _point(setup, state), state.tangent, state.ds
        low, high = min(setup.eps_path), max(setup.eps_path)
        report, new_tangent, metrics = None, None, None
        try:
            report = _correct_along(setup, state, z, tangent, ds, options.corrector_iterations, options.tol,
                                    catching_up=True)
            check_state_like(report.theta, z, "the corrected state (theta, eps)")
            if options.step_control == "corrector":
                delta, kappa = corrector_metrics(lambda a, b: setup.distance(a[:-1], b[:-1]), z + ds * tangent,
                                                 report)
                metrics = {"delta": delta, "kappa": kappa}
                if math.isfinite(report.residual_norm) and bool(torch.isfinite(report.theta).all()):
                    new_tangent = _tangent_at(setup, report.theta, tangent)
                    metrics["alpha"] = _angle(setup, report.theta, tangent, new_tangent)
            accepted, criterion, reason = judge(setup, report, state.residual_norm, True, metrics,
                                                earlier=earlier_delta(state, ds, options.delta_max))
            if accepted and new_tangent is None:
                new_tangent = _tangent_at(setup, report.theta, tangent)
        except InvalidState as exc:
            return Attempt(float(z[-1]), 0.0, None, None, False, "", f"invalid state: {exc}",
                           end=(Status.INVALID_STATE, f"the arclength step returned an invalid state: {exc}"))
        except Exception as exc:  # rejected and cut, never raised
            accepted, criterion, reason = False, "", error_text(exc)
        z_new = report.theta if report is not None else z + ds * tangent
        eps_new, arc = float(z_new[-1]), state.arclength + ds
        record = {"ds": ds, "tangent_eps": float(new_tangent[-1]) if new_tangent is not None else None,
                  "arclength": arc}
        if not (accepted and not low <= eps_new <= high):
            return Attempt(eps_new, eps_new - float(z[-1]), z_new[:-1], report, accepted, criterion, reason, record,
                           data={"tangent": new_tangent}, metrics=metrics or {})
        # beyond the range: not a point of the path; the trace lands on the boundary from it
        beyond = StepRecord(len(state.steps), eps_new, eps_new - float(z[-1]), report.iterations,
                            report.residual_norm, False, f"beyond the range [{low:g}, {high:g}], landing on its "
                            f"boundary ({reason})", 0.0, linear_iterations=report.linear_iterations,
                            linear_residual=report.linear_residual, **record)
        boundary = low if eps_new < low else high
        # the landing point is not on the arc: events are looked for up to the point beyond, kept within the range
        found = len(state.events)
        _detect_events(setup, state, z, tangent, ds, z_new[:-1], eps_new, len(state.eps) - 1, new_tangent)
        state.events[found:] = [e for e in state.events[found:] if low <= e.eps <= high]
        left = f"left the range [{low:g}, {high:g}] of eps after arclength {arc:.4g}"
        fraction = (boundary - float(z[-1])) / (eps_new - float(z[-1]))
        guess = z[:-1] + fraction * (z_new[:-1] - z[:-1])
        landing = None
        try:
            landing = setup.corrector.correct(setup.problem, guess, setup.eps_tensor(boundary),
                                              iterations=options.final_iterations, tol=options.tol,
                                              state=state.corrector_state)
            check_state_like(landing.theta, guess, "the state landed on the boundary")
            accepted, criterion, reason = judge(setup, landing, state.residual_norm, adaptive=False)
        except Exception as exc:
            accepted, criterion, reason = False, "", error_text(exc)
        landed = {"ds": None, "tangent_eps": None, "arclength": arc}
        if not accepted:
            return Attempt(boundary, boundary - float(z[-1]), None, landing, False, "", f"landing failed: {reason}",
                           landed, [beyond], end=(Status.LANDING_FAILED, f"{left}, but the correction on its boundary "
                                                                           f"eps = {boundary:g} failed: {reason}"))
        return Attempt(boundary, boundary - float(z[-1]), landing.theta, landing, True, criterion,
                       f"landed on the range boundary: {reason}", landed, [beyond], goal=(Status.LEFT_RANGE, left))

    def accept(self, setup: Setup, state: TraceState, attempt: Attempt, previous_norm: float) -> Optional[End]:
        options = setup.options
        z = torch.cat([state.thetas[-2], setup.eps_tensor(state.eps[-2])[None]])
        z_new = torch.cat([attempt.theta, setup.eps_tensor(attempt.eps)[None]])
        tangent, new_tangent, ds = state.tangent, attempt.data["tangent"], state.ds
        state.tangent, state.arclength = new_tangent, attempt.record["arclength"]
        if float(tangent[-1]) * float(new_tangent[-1]) < 0:
            state.events.append(_locate_fold(setup, state, z, tangent, ds, len(state.eps) - 2))
        _detect_events(setup, state, z, tangent, ds, attempt.theta, attempt.eps, len(state.eps) - 2)
        lipschitz = lipschitz_estimate(new_tangent, tangent, z_new[:-1], z[:-1], float(z_new[-1] - z[-1]))
        if options.step_control == "corrector":
            step = ds * corrector_factor(options, **attempt.metrics)
            if lipschitz:
                step = min(step, options.lipschitz_c / lipschitz)
            state.ds = min(max(step, options.ds_min), options.ds_max)
        else:
            state.ds = next_step(ds, attempt.report, options.corrector_iterations, lipschitz, options, previous_norm)
        if options.max_arclength is not None and state.arclength >= options.max_arclength:
            return Status.MAX_ARCLENGTH, f"reached max_arclength = {options.max_arclength:g}"
        return None

    def reject(self, setup: Setup, state: TraceState, attempt: Attempt) -> Optional[End]:
        cut = 0.5
        if attempt.metrics:  # the "corrector" control cuts by what it measured, between 1/4 and 1/2
            cut = min(corrector_factor(setup.options, **attempt.metrics), 0.5)
        state.ds *= cut
        if state.ds < setup.options.ds_min:
            return Status.STEP_TOO_SMALL, (f"arclength step fell below ds_min = {setup.options.ds_min:g} near "
                                           f"eps = {state.eps[-1]:g} ({attempt.reason})")
        return None


def _inner_product(setup: Setup) -> InnerProduct:
    return setup.inner_product or _euclidean


def _angle(setup: Setup, z: Tensor, tangent: Tensor, new_tangent: Tensor) -> float:
    """The angle between two unit tangents in the arclength inner product."""
    cosine = float(_inner_product(setup)(z[:-1], tangent[:-1], new_tangent[:-1]) + tangent[-1] * new_tangent[-1])
    return math.acos(min(1.0, max(-1.0, cosine)))


def _point(setup: Setup, state: TraceState) -> Tensor:
    """The last accepted point as ``z = (theta, eps)``."""
    return torch.cat([state.thetas[-1], setup.eps_tensor(state.eps[-1])[None]])


def _tangent_at(setup: Setup, z: Tensor, previous: Tensor) -> Tensor:
    """The unit tangent at ``z``, oriented by the ``previous`` one."""
    inner_product = _inner_product(setup)
    row = _metric_row(inner_product, z[:-1], previous)
    return _tangent(setup.problem, z[:-1], z[-1], row, inner_product, setup.options.rcond)


def _correct_along(setup: Setup, state: TraceState, z: Tensor, tangent: Tensor, step: float, budget: int,
                   tol: float, catching_up: bool = False) -> CorrectorResult:
    """Predict ``z + step * tangent`` and correct it on the bordered system (going on past the budget
    while ``||H||`` is above the last point's, if ``catching_up``: :func:`~continuation.stepping.catch_up`)."""
    predicted = z + step * tangent
    row = _metric_row(_inner_product(setup), z[:-1], tangent)
    bordered = BorderedResidual(setup.problem, row, predicted)
    report = setup.corrector.correct(bordered, predicted, predicted[-1], iterations=budget, tol=tol,
                                     state=state.corrector_state)
    if catching_up:
        check_state_like(report.theta, z, "the corrected state (theta, eps)")
        report = catch_up(setup, bordered, predicted[-1], report, state.residual_norm)
    return report


def _illinois(value_at: Callable[[float], tuple[Tensor, float]], ds: float, f_lo: float,
              done: Callable[[float, float], bool]) -> Tensor:
    """Illinois (secant with halving) search for the sign change of ``value_at`` on the arc ``(0, ds)``.

    ``value_at(sigma)`` returns the point at arclength ``sigma`` from the last
    accepted point and the function's value there; ``f_lo`` is the value at
    ``0`` (its sign differs from that at ``ds``). ``done(value, slope)``, with
    ``slope`` the mean slope over the bracket, says when a point is close
    enough. Returns the last point tried.
    """
    lo, hi = 0.0, ds
    point, f_hi = value_at(hi)
    true_lo, true_hi, side = f_lo, f_hi, 0
    for _ in range(60):
        sigma = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if not lo < sigma < hi:
            sigma = (lo + hi) / 2
        point, value = value_at(sigma)
        if value * f_lo > 0:
            lo, f_lo, true_lo = sigma, value, value
            if side == -1:
                f_hi /= 2
            side = -1
        else:
            hi, f_hi, true_hi = sigma, value, value
            if side == 1:
                f_lo /= 2
            side = 1
        if value == 0 or done(value, abs(true_hi - true_lo) / (hi - lo)) or hi - lo < 1e-15:
            break
    return point


def _locate_fold(setup: Setup, state: TraceState, z: Tensor, tangent: Tensor, ds: float, index: int) -> Event:
    """Secant (Illinois) search on the tangent's eps component along the arc from ``z``.

    The bracketing points are corrected to ``min(tol, fold_tol)``, so that
    the fold is located to ``fold_tol`` and not to the path's tolerance. A
    failure of the search keeps the trace going: the event is then the
    accepted point after the fold, marked ``refined=False``.
    """
    options = setup.options

    def point_and_slope(sigma: float) -> tuple[Tensor, float]:
        point = _refinement_point(setup, state, z, tangent, sigma)
        return point, float(_tangent_at(setup, point, tangent)[-1])

    # eps is extremal at the fold, eps(sigma) ~ eps_fold - |f'| (sigma - sigma_fold)^2 / 2 with f the
    # tangent's eps component (d eps / d sigma): the error of this point is about f^2 / (2 |f'|)
    def done(value: float, curvature: float) -> bool:
        return curvature > 0 and value**2 / (2 * curvature) < options.fold_tol

    try:
        point = _illinois(point_and_slope, ds, float(tangent[-1]), done)
        return Event("fold", float(point[-1]), index, point[:-1])
    except Exception as exc:
        return Event("fold", state.eps[-1], index, state.thetas[-1], refined=False,
                     note=f"the fold was not refined: {error_text(exc)}")


def _refinement_point(setup: Setup, state: TraceState, z: Tensor, tangent: Tensor, sigma: float) -> Tensor:
    """The point at arclength ``sigma`` from ``z``, corrected to ``min(tol, fold_tol)`` for an event's location."""
    options = setup.options
    point = _correct_along(setup, state, z, tangent, sigma, options.final_iterations,
                           min(options.tol, options.fold_tol)).theta
    check_state_like(point, z, "the corrected state (theta, eps)")
    return point


def _test_values(setup: Setup, theta: Tensor, eps: float, tangent: Tensor) -> list[float]:
    """The values of the event tests of ``setup`` at a point."""
    eps_tensor = setup.eps_tensor(eps)
    return [float(test(setup.problem.problem, theta, eps_tensor, tangent)) for test in setup.event_tests]


def _detect_events(setup: Setup, state: TraceState, z: Tensor, tangent: Tensor, ds: float, theta: Tensor,
                   eps: float, index: int, new_tangent: Optional[Tensor] = None) -> None:
    """Evaluate the event tests at the new point ``(theta, eps)`` at arclength ``ds`` from ``z`` along
    ``tangent`` (its own tangent ``new_tangent``, default ``state.tangent``); a sign change of one is an
    event after the point ``index`` of the path, located to ``fold_tol``.

    The secant (Illinois) search runs along the arc from the last point, its
    error estimate being ``|t_eps| |value| / slope`` in ``eps``. The values
    at the new point go into the state, so that a resumed trace compares
    with them. A test that fails at the new point ends no trace: the event is
    not looked for on this step.
    """
    if not setup.event_tests:
        return
    try:
        values = _test_values(setup, theta, eps, state.tangent if new_tangent is None else new_tangent)
    except Exception:
        return
    for test, old, new in zip(setup.event_tests, state.test_values, values):
        if old * new >= 0:
            continue

        def value_at(sigma: float, test=test) -> tuple[Tensor, float]:
            point = _refinement_point(setup, state, z, tangent, sigma)
            return point, float(test(setup.problem.problem, point[:-1], point[-1], _tangent_at(setup, point, tangent)))

        def done(value: float, slope: float) -> bool:
            return slope > 0 and abs(float(tangent[-1])) * abs(value) / slope < setup.options.fold_tol

        try:
            point = _illinois(value_at, ds, old, done)
            state.events.append(Event(test.kind, float(point[-1]), index, point[:-1]))
        except Exception as exc:
            state.events.append(Event(test.kind, eps, index, theta, refined=False,
                                      note=f"the {test.kind} was not refined: {error_text(exc)}"))
    state.test_values = values
