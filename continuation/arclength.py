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
import time
from typing import Any, Callable, Optional

import torch
from torch import Tensor
from torch.func import grad

from .correctors import CorrectorResult
from .linalg import pinv_solve
from .residual import ResidualMap
from .result import Event, Status, StepRecord, TraceResult, residual_note, stack_thetas
from .stepsize import lipschitz_estimate, next_step
from .trace import Setup, _error, evaluate_diagnostics, initial_correction, initial_point_is_new, judge

__all__ = ["trace_arclength", "BorderedResidual", "output_inner_product"]

InnerProduct = Callable[[Tensor, Tensor, Tensor], Tensor]


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
    rhs = torch.zeros(matrix.shape[0], dtype=theta.dtype)
    rhs[-1] = 1.0
    if matrix.shape[0] == matrix.shape[1]:
        tangent = torch.linalg.solve(matrix, rhs)
    else:
        tangent = pinv_solve(matrix, rhs, rcond)
    norm = torch.sqrt(inner_product(theta, tangent[:-1], tangent[:-1]) + tangent[-1] ** 2)
    return tangent / norm


def trace_arclength(setup: Setup, *, progress: bool = False) -> TraceResult:
    """Pseudo-arclength continuation, ``trace(..., method="arclength")``.

    ``eps_path[0]`` is the start; the range of ``eps`` is
    ``[min(eps_path), max(eps_path)]`` and the first step heads towards
    ``eps_path[1]``. The trace ends when it leaves the range (the last point
    is then corrected at the boundary value: ``Status.LEFT_RANGE``), after
    ``options.max_arclength`` (``Status.MAX_ARCLENGTH``), after
    ``options.max_steps`` attempts, or when the step falls below ``ds_min``.
    Folds are reported in ``result.events``. The predictor argument of
    :func:`~continuation.trace` is not used: the tangent is the predictor.

    Examples
    --------
    >>> import torch, continuation
    >>> H = lambda theta, eps: theta**2 + eps**2 - 1     # a circle: folds at eps = +-1
    >>> result = continuation.trace(H, torch.tensor([1.0], dtype=torch.float64), [0.0, -2.0, 2.0],
    ...                             method="arclength", options=continuation.Options(max_arclength=5.0, tol=1e-10))
    >>> [round(e.eps, 6) for e in result.events]
    [-1.0, 1.0]
    """
    clock = time.perf_counter()
    options, problem = setup.options, setup.problem
    inner_product = setup.inner_product or _euclidean
    low, high = min(setup.eps_path), max(setup.eps_path)
    first, record = initial_correction(setup)
    records = [record]
    empty = setup.theta0.new_empty((0, setup.theta0.numel()))
    if first is None:
        return TraceResult(
            [], empty, records, Status.INITIAL_CORRECTION_FAILED,
            f"the initial correction at eps = {setup.eps_path[0]:g} failed: {record.reason}",
            jacobian_evaluations=problem.jacobians, wall_time=time.perf_counter() - clock,
        )
    dtype = setup.theta0.dtype
    direction = math.copysign(1.0, setup.eps_path[1] - setup.eps_path[0])
    border = torch.zeros(setup.theta0.numel() + 1, dtype=dtype)
    border[-1] = direction
    path_z = [torch.cat([first.theta, setup.eps_tensor(setup.eps_path[0])[None]])]
    diagnostics = [evaluate_diagnostics(setup, first.theta, setup.eps_path[0])] if setup.diagnostics else []
    tangents: list[Tensor] = []
    arclengths = [0.0]
    events: list[Event] = []
    residual_norm, corrector_state = first.residual_norm, first.state
    ds = options.ds if options.ds is not None else min(options.ds_max, (high - low) / 10)
    status, message = Status.MAX_STEPS, f"max_steps = {options.max_steps} attempts made"
    records[0] = _with_arc(records[0], None, None, 0.0)

    def tangent_at(z: Tensor, previous: Optional[Tensor]) -> Tensor:
        row = border if previous is None else _metric_row(inner_product, z[:-1], previous)
        return _tangent(problem, z[:-1], z[-1], row, inner_product, options.rcond)

    def correct_along(z: Tensor, tangent: Tensor, step: float, budget: int) -> CorrectorResult:
        predicted = z + step * tangent
        bordered = BorderedResidual(problem, _metric_row(inner_product, z[:-1], tangent), predicted)
        return setup.corrector.correct(
            bordered, predicted, predicted[-1], iterations=budget, tol=options.tol, state=corrector_state
        )

    try:
        tangents.append(tangent_at(path_z[0], None))
    except Exception as exc:
        return TraceResult(
            [setup.eps_path[0]], stack_thetas([first.theta]), records, Status.STEP_TOO_SMALL,
            f"no tangent at the start: {_error(exc)}", jacobian_evaluations=problem.jacobians,
            wall_time=time.perf_counter() - clock,
        )
    if initial_point_is_new(setup) and setup.callback(records[0], first.theta):
        status, message = Status.STOPPED_BY_CALLBACK, f"stopped by the callback at eps = {setup.eps_path[0]:g}"
    while status is Status.MAX_STEPS and len(records) <= options.max_steps:  # exits below set the status
        start = time.perf_counter()
        z, tangent = path_z[-1], tangents[-1]
        report, new_tangent = None, None
        try:
            report = correct_along(z, tangent, ds, options.corrector_iterations)
            accepted, reason = judge(report, residual_norm, options, adaptive=True)
            if accepted:
                new_tangent = tangent_at(report.theta, tangent)
        except Exception as exc:  # rejected and halved, never raised
            accepted, reason = False, _error(exc)
        z_new = report.theta if report is not None else z + ds * tangent
        eps_new = float(z_new[-1])
        arc = arclengths[-1] + ds
        beyond = accepted and not low <= eps_new <= high
        if beyond:  # not a point of the path: the trace lands on the boundary from it
            accepted, reason = False, f"beyond the range [{low:g}, {high:g}], landing on its boundary ({reason})"
        row = StepRecord(
            len(records), eps_new, eps_new - float(z[-1]), report.iterations if report else 0,
            report.residual_norm if report else math.nan, accepted, reason, time.perf_counter() - start,
            ds=ds, tangent_eps=float(new_tangent[-1]) if new_tangent is not None else None, arclength=arc,
        )
        records.append(row)
        if not accepted and not beyond:
            ds /= 2
            if ds < options.ds_min:
                status = Status.STEP_TOO_SMALL
                message = f"arclength step fell below ds_min = {options.ds_min:g} near eps = {float(z[-1]):g} ({reason})"
                break
            continue
        if beyond:
            landed, landing, landing_state = _land(
                setup, z, z_new, low if eps_new < low else high, corrector_state, len(records)
            )
            records.append(landing)
            if landed is not None:
                path_z.append(landed)
                corrector_state = landing_state
                arclengths.append(arc)
                if setup.diagnostics:
                    diagnostics.append(evaluate_diagnostics(setup, landed[:-1], float(landed[-1])))
            status = Status.LEFT_RANGE
            message = f"left the range [{low:g}, {high:g}] of eps after arclength {arc:.4g}"
            break
        path_z.append(z_new)
        tangents.append(new_tangent)
        arclengths.append(arc)
        if setup.diagnostics:
            diagnostics.append(evaluate_diagnostics(setup, z_new[:-1], eps_new))
        previous_norm, residual_norm, corrector_state = residual_norm, report.residual_norm, report.state
        if float(tangent[-1]) * float(new_tangent[-1]) < 0:
            events.append(_locate_fold(setup, z, tangent, ds, len(path_z) - 2, correct_along, tangent_at))
        lipschitz = lipschitz_estimate(new_tangent, tangent, z_new[:-1], z[:-1], float(z_new[-1] - z[-1]))
        ds = next_step(ds, report, options.corrector_iterations, lipschitz, options, previous_norm)
        if setup.callback is not None and setup.callback(row, z_new[:-1]):
            status, message = Status.STOPPED_BY_CALLBACK, f"stopped by the callback at eps = {eps_new:g}"
            break
        if options.max_arclength is not None and arc >= options.max_arclength:
            status, message = Status.MAX_ARCLENGTH, f"reached max_arclength = {options.max_arclength:g}"
            break
    states = torch.stack(path_z)
    if events:
        message += f"; {len(events)} fold(s) at eps = " + ", ".join(f"{e.eps:.10g}" for e in events)
    message += residual_note([r.residual_norm for r in records if r.accepted], options.tol)
    return TraceResult(
        [float(e) for e in states[:, -1]], stack_thetas(list(states[:, :-1])), records, status, message,
        events=events, jacobian_evaluations=problem.jacobians, wall_time=time.perf_counter() - clock,
        diagnostics=diagnostics, corrector_state=corrector_state,
    )


def _with_arc(record: StepRecord, ds, tangent_eps, arclength) -> StepRecord:
    return StepRecord(**{**record.__dict__, "ds": ds, "tangent_eps": tangent_eps, "arclength": arclength})


def _land(
    setup: Setup, z: Tensor, z_new: Tensor, boundary: float, state, step: int
) -> tuple[Optional[Tensor], StepRecord, Any]:
    """Correct at ``eps = boundary`` from the chord between ``z`` and ``z_new``: the landed
    point (``None`` if the correction failed), its record and the corrector's state."""
    start = time.perf_counter()
    fraction = (boundary - float(z[-1])) / float(z_new[-1] - z[-1])
    guess = z[:-1] + fraction * (z_new[:-1] - z[:-1])
    try:
        report = setup.corrector.correct(
            setup.problem, guess, setup.eps_tensor(boundary), iterations=setup.options.final_iterations,
            tol=setup.options.tol, state=state,
        )
        accepted = math.isfinite(report.residual_norm)
        reason = f"landed on the range boundary: {report.message}"
        iterations, norm = report.iterations, report.residual_norm
    except Exception as exc:
        report, accepted, reason, iterations, norm = None, False, _error(exc), 0, math.nan
    record = StepRecord(step, boundary, boundary - float(z[-1]), iterations, norm, accepted, reason,
                        time.perf_counter() - start)
    if not accepted:
        return None, record, state
    return torch.cat([report.theta, setup.eps_tensor(boundary)[None]]), record, report.state


def _locate_fold(setup: Setup, z: Tensor, tangent: Tensor, ds: float, index: int, correct_along, tangent_at) -> Event:
    """Secant (Illinois) search on the tangent's eps component along the arc from ``z``."""
    options = setup.options
    lo, hi = 0.0, ds
    f_lo = float(tangent[-1])
    point_hi = correct_along(z, tangent, hi, options.final_iterations).theta
    f_hi = float(tangent_at(point_hi, tangent)[-1])
    point, side = point_hi, 0
    for _ in range(60):
        sigma = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if not lo < sigma < hi:
            sigma = (lo + hi) / 2
        previous_eps = float(point[-1])
        point = correct_along(z, tangent, sigma, options.final_iterations).theta
        value = float(tangent_at(point, tangent)[-1])
        if value * f_lo > 0:
            lo, f_lo = sigma, value
            if side == -1:
                f_hi /= 2
            side = -1
        else:
            hi, f_hi = sigma, value
            if side == 1:
                f_lo /= 2
            side = 1
        if abs(float(point[-1]) - previous_eps) < options.fold_tol or (hi - lo) < 1e-14:
            break
    return Event("fold", float(point[-1]), index, point[:-1])
