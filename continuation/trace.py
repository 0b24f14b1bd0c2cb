"""The front door: :func:`trace` follows the path of ``H(theta, eps) = 0``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .correctors import CORRECTORS, Corrector, CorrectorResult, corrector_from_options
from .options import Options
from .predictors import PREDICTORS, EulerPredictor, Predictor
from .residual import ResidualMap, as_residual_map
from .result import Status, StepRecord, TraceResult, residual_note, stack_thetas
from .stepsize import lipschitz_estimate, next_step

__all__ = ["trace", "METHODS"]

Callback = Callable[[StepRecord, Tensor], Optional[bool]]
Diagnostic = Callable[[ResidualMap, Tensor, Tensor], Any]

METHODS = ("natural", "arclength")
"""The continuation methods :func:`trace` knows."""


def trace(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    theta0: Tensor,
    eps_path: Sequence[float],
    *,
    method: str = "natural",
    predictor: Union[str, Predictor] = "euler",
    corrector: Union[str, Corrector] = "lm",
    adaptive: bool = True,
    options: Optional[Options] = None,
    callback: Optional[Callback] = None,
    progress: bool = False,
    diagnostics: Optional[Mapping[str, Diagnostic]] = None,
    inner_product: Optional[Callable[[Tensor, Tensor], Tensor]] = None,
    corrector_state: Any = None,
) -> TraceResult:
    """Follow the solution path of ``H(theta, eps) = 0`` along ``eps_path``.

    The trace first corrects ``theta0`` at ``eps_path[0]`` (the easy problem)
    with the corrector and ``options.initial_iterations``; this is the first
    record. It then steps through ``eps_path``: at each step the predictor
    proposes a state at the next ``eps`` and the corrector brings it back to
    ``H = 0`` in the least-squares sense.

    Parameters
    ----------
    residual
        ``residual(theta, eps) -> Tensor[M]``, a :class:`ResidualMap` or any
        callable written with torch operations (its Jacobians then come from
        :mod:`torch.func`).
    theta0
        Initial state, a 1-D floating tensor of length P (float64 advised).
    eps_path
        At least two values of ``eps``, visited in order (it may decrease or
        increase), no two consecutive values equal.
    method
        ``"natural"`` (natural-parameter continuation in ``eps``) or
        ``"arclength"`` (pseudo-arclength, which goes round folds; then
        ``eps_path`` gives the start and the range of ``eps``, see
        :func:`continuation.arclength.trace_arclength`).
    predictor
        ``"euler"`` (``dtheta/deps = -J^+ dH/deps``, truncated SVD),
        ``"secant"``, ``"none"`` (warm start), or an object with a
        ``velocity`` method (see :mod:`continuation.predictors`).
    corrector
        ``"lm"``, ``"gauss-newton"``, ``"adam"``, ``"lbfgs"``, ``"newton"``,
        ``"none"``, or an object with a ``correct`` method (see
        :mod:`continuation.correctors`).
    adaptive
        With ``True``, intermediate values of ``eps`` are inserted as the
        step control asks (never overshooting a listed value); with
        ``False`` exactly the listed values are visited.
    options
        An :class:`Options`; ``None`` for the defaults.
    callback
        ``callback(record, theta)`` after each accepted point, the
        corrected initial point included; returning ``True`` stops the
        trace. With ``initial_iterations=0`` the initial point is taken as
        given (a trace resumed where another stopped) and the callback is
        not called there: each point of a path in pieces is seen once.
    progress
        Show a progress bar (tqdm).
    diagnostics
        ``{name: fn(problem, theta, eps)}`` evaluated at every accepted
        point, stored in ``result.diagnostics``.
    inner_product
        Arclength only: ``inner_product(a, b)`` of two state directions
        (default Euclidean).
    corrector_state
        The corrector's state to start from (Levenberg-Marquardt's damping,
        AdamW's moments with ``keep_state``): ``result.corrector_state`` of an
        earlier trace that this one resumes from its last point. ``None``:
        the corrector's own start.

    Returns
    -------
    TraceResult
        The accepted path, a per-step table, counters and a status. A failed
        trace returns the part of the path it had accepted.

    Raises
    ------
    TypeError, ValueError
        On bad input, before any work is done; the message names the
        argument.

    Examples
    --------
    >>> import torch, continuation
    >>> H = lambda theta, eps: theta**2 - eps           # theta(eps) = sqrt(eps)
    >>> result = continuation.trace(H, torch.tensor([0.9], dtype=torch.float64), [1.0, 0.25])
    >>> result.status, round(float(result.theta), 8)
    (<Status.SUCCESS: 'success'>, 0.5)
    """
    setup = _check_inputs(
        residual, theta0, eps_path, method, predictor, corrector, adaptive, options, callback,
        diagnostics, inner_product, corrector_state,
    )
    if method == "arclength":
        from .arclength import trace_arclength

        return trace_arclength(setup, progress=progress)
    return _trace_natural(setup, progress=progress)


@dataclass
class Setup:
    """The validated inputs of a trace, shared by the methods."""

    problem: "CountingResidual"
    theta0: Tensor
    eps_path: list[float]
    predictor: Predictor
    corrector: Corrector
    adaptive: bool
    options: Options
    callback: Optional[Callback]
    diagnostics: Mapping[str, Diagnostic] = field(default_factory=dict)
    inner_product: Optional[Callable[[Tensor, Tensor], Tensor]] = None
    corrector_state: Any = None

    def eps_tensor(self, value: float) -> Tensor:
        return torch.tensor(value, dtype=self.theta0.dtype)


class CountingResidual(ResidualMap):
    """Wraps a residual map and counts its Jacobian evaluations."""

    def __init__(self, problem: ResidualMap):
        self.problem = problem
        self.jacobians = 0

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem(theta, eps)

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        self.jacobians += 1
        return self.problem.jacobian(theta, eps)

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem.eps_derivative(theta, eps)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        self.jacobians += 1
        return self.problem.linearize(theta, eps)


def _check_inputs(
    residual, theta0, eps_path, method, predictor, corrector, adaptive, options, callback,
    diagnostics, inner_product, corrector_state,
) -> Setup:
    """Every input check of :func:`trace`, done once before any work."""
    if options is None:
        options = Options()
    elif not isinstance(options, Options):
        raise TypeError(f"options must be a continuation.Options or None, got {type(options).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(adaptive, bool):
        raise TypeError(f"adaptive must be True or False, got {adaptive!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if inner_product is not None and not callable(inner_product):
        raise TypeError(f"inner_product must be callable or None, got {type(inner_product).__name__}")
    diagnostics = dict(diagnostics or {})
    for name, fn in diagnostics.items():
        if not callable(fn):
            raise TypeError(f"diagnostics[{name!r}] must be callable, got {type(fn).__name__}")
    predictor = _named(predictor, "predictor", PREDICTORS, "velocity", options)
    corrector = _named(corrector, "corrector", CORRECTORS, "correct", options)

    if not isinstance(theta0, Tensor):
        raise TypeError(f"theta0 must be a torch.Tensor, got {type(theta0).__name__}")
    if theta0.ndim != 1 or theta0.numel() == 0:
        raise ValueError(f"theta0 must be a non-empty 1-D tensor, got shape {tuple(theta0.shape)}")
    if not theta0.dtype.is_floating_point:
        raise TypeError(f"theta0 must have a floating dtype (float64 advised), got {theta0.dtype}")
    if not bool(torch.isfinite(theta0).all()):
        raise ValueError("theta0 must be finite, got NaN or Inf entries")
    theta0 = theta0.detach()

    eps_values = _check_eps_path(eps_path)
    problem = as_residual_map(residual)
    value = problem(theta0, torch.tensor(eps_values[0], dtype=theta0.dtype))
    where = f"residual(theta0, eps_path[0]={eps_values[0]:g})"
    if not isinstance(value, Tensor):
        raise TypeError(f"{where} must return a torch.Tensor, got {type(value).__name__}")
    if value.ndim != 1 or value.numel() == 0:
        raise ValueError(f"{where} must return a non-empty 1-D tensor, got shape {tuple(value.shape)}")
    if value.dtype != theta0.dtype:
        raise TypeError(f"{where} returned dtype {value.dtype}, but theta0 has dtype {theta0.dtype}")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{where} is not finite (NaN or Inf entries)")
    return Setup(
        CountingResidual(problem), theta0, eps_values, predictor, corrector, adaptive, options,
        callback, diagnostics, inner_product, corrector_state,
    )


def _check_eps_path(eps_path) -> list[float]:
    if isinstance(eps_path, (str, bytes)) or not hasattr(eps_path, "__len__"):
        raise TypeError(f"eps_path must be a sequence of numbers, got {type(eps_path).__name__}")
    try:
        values = [float(v) for v in eps_path]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"eps_path must be a sequence of numbers, got {eps_path!r}") from exc
    if len(values) < 2:
        raise ValueError(f"eps_path must hold at least two values, got {values!r}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"eps_path must be finite, got {values!r}")
    for a, b in zip(values, values[1:]):
        if a == b:
            raise ValueError(f"eps_path must not repeat a value in consecutive places, got {a!r} twice")
    return values


def _named(choice, argument: str, registry: dict, method_name: str, options: Options):
    if isinstance(choice, str):
        if choice not in registry:
            raise ValueError(f"{argument} must be one of {sorted(registry)} or an object, got {choice!r}")
        if argument == "predictor":
            return EulerPredictor(options.rcond) if choice == "euler" else registry[choice]()
        return corrector_from_options(choice, options)
    if not callable(getattr(choice, method_name, None)):
        raise TypeError(
            f"{argument} must be a name or an object with a {method_name}() method, "
            f"got {type(choice).__name__}"
        )
    return choice


def initial_correction(setup: Setup) -> tuple[Optional[CorrectorResult], StepRecord]:
    """Correct ``theta0`` at ``eps_path[0]`` with the initial budget."""
    start = time.perf_counter()
    eps0 = setup.eps_path[0]
    try:
        report = setup.corrector.correct(
            setup.problem, setup.theta0, setup.eps_tensor(eps0),
            iterations=setup.options.initial_iterations, tol=setup.options.tol, state=setup.corrector_state,
        )
    except Exception as exc:  # a failing trace returns a status, it does not raise
        record = StepRecord(0, eps0, 0.0, 0, math.nan, False, _error(exc), time.perf_counter() - start)
        return None, record
    finite = math.isfinite(report.residual_norm) and bool(torch.isfinite(report.theta).all())
    reason = report.message if finite else "non-finite residual"
    record = StepRecord(
        0, eps0, 0.0, report.iterations, report.residual_norm, finite, reason, time.perf_counter() - start
    )
    return (report if finite else None), record


def initial_point_is_new(setup: Setup) -> bool:
    """Whether the callback is due at the initial point: there is one and the trace corrected the point."""
    return setup.callback is not None and setup.options.initial_iterations > 0


def judge(report: CorrectorResult, previous_norm: float, options: Options, adaptive: bool) -> tuple[bool, str]:
    """Accept or reject a corrected point, with the reason.

    A non-finite point is always rejected. Otherwise a point is accepted if
    the corrector converged, if the schedule is fixed (``adaptive=False``:
    there is no smaller step to try), or if ``||H||`` grew by at most
    ``options.residual_growth`` over the previous accepted point.
    """
    if not math.isfinite(report.residual_norm) or not bool(torch.isfinite(report.theta).all()):
        return False, "non-finite residual"
    if report.converged or not adaptive:
        return True, report.message
    allowed = options.residual_growth * max(previous_norm, options.tol)
    if report.residual_norm <= allowed:
        return True, report.message
    return False, f"{report.message}; ||H|| = {report.residual_norm:.3e} above {allowed:.3e}"


def _next_eps(eps: float, goal: float, ds: float) -> float:
    """``eps`` moved by ``ds`` towards ``goal``, never past it (snapping to it when within rounding)."""
    remaining = abs(goal - eps)
    if remaining - ds <= 1e-12 * max(abs(goal), 1.0):
        return goal
    return eps + math.copysign(ds, goal - eps)


def _error(exc: Exception) -> str:
    return f"error: {type(exc).__name__}: {exc}"


def evaluate_diagnostics(setup: Setup, theta: Tensor, eps: float) -> dict[str, Any]:
    """The user's diagnostics at an accepted point."""
    values: dict[str, Any] = {"eps": eps}
    for name, fn in setup.diagnostics.items():
        values[name] = fn(setup.problem.problem, theta, setup.eps_tensor(eps))
    return values


def _trace_natural(setup: Setup, *, progress: bool) -> TraceResult:
    """Natural-parameter continuation in ``eps``."""
    clock = time.perf_counter()
    options, problem, eps_path = setup.options, setup.problem, setup.eps_path
    first, record = initial_correction(setup)
    records = [record]
    if first is None:
        return TraceResult(
            [], setup.theta0.new_empty((0, setup.theta0.numel())), records,
            Status.INITIAL_CORRECTION_FAILED,
            f"the initial correction at eps = {eps_path[0]:g} failed: {record.reason}",
            jacobian_evaluations=problem.jacobians, wall_time=time.perf_counter() - clock,
        )
    path_eps, path_theta = [eps_path[0]], [first.theta]
    diagnostics = [evaluate_diagnostics(setup, first.theta, eps_path[0])] if setup.diagnostics else []
    residual_norm, corrector_state = first.residual_norm, first.state
    velocity: Optional[Tensor] = None
    previous_velocity: Optional[Tensor] = None
    velocity_known = False
    ds = options.ds if options.ds is not None else abs(eps_path[1] - eps_path[0]) / 10
    ds = min(max(ds, options.ds_min), options.ds_max)
    target = 1
    total = sum(abs(b - a) for a, b in zip(eps_path, eps_path[1:]))
    bar = tqdm(total=total, disable=not progress, unit="eps", leave=False)
    status, message = Status.SUCCESS, ""
    if initial_point_is_new(setup) and setup.callback(record, first.theta):
        status, message = Status.STOPPED_BY_CALLBACK, f"stopped by the callback at eps = {eps_path[0]:g}"
    try:
        while status is Status.SUCCESS:  # each exit below says why the trace ended
            if len(records) > options.max_steps:
                status = Status.MAX_STEPS
                message = f"max_steps = {options.max_steps} attempts made; stopped at eps = {path_eps[-1]:g}"
                break
            start = time.perf_counter()
            eps, theta = path_eps[-1], path_theta[-1]
            goal = eps_path[target]
            report, budget = None, options.corrector_iterations
            try:
                if not velocity_known:
                    previous = (path_theta[-2], setup.eps_tensor(path_eps[-2])) if len(path_eps) > 1 else None
                    velocity = setup.predictor.velocity(problem, theta, setup.eps_tensor(eps), previous)
                    velocity_known = True
                    if setup.adaptive and velocity is not None and previous_velocity is not None:
                        lipschitz = lipschitz_estimate(
                            velocity, previous_velocity, theta, path_theta[-2], eps - path_eps[-2]
                        )
                        if lipschitz:
                            ds = min(ds, max(options.lipschitz_c / lipschitz, options.ds_min))
                eps_new = _next_eps(eps, goal, ds if setup.adaptive else math.inf)
                final = target == len(eps_path) - 1 and eps_new == goal
                budget = options.final_iterations if final else options.corrector_iterations
                predicted = theta if velocity is None else theta + (eps_new - eps) * velocity
                report = setup.corrector.correct(
                    problem, predicted, setup.eps_tensor(eps_new),
                    iterations=budget, tol=options.tol, state=corrector_state,
                )
                accepted, reason = judge(report, residual_norm, options, setup.adaptive)
            except Exception as exc:  # a failing step is rejected, the path is kept
                eps_new = _next_eps(eps, goal, ds if setup.adaptive else math.inf)
                accepted, reason = False, _error(exc)
            record = StepRecord(
                len(records), eps_new, eps_new - eps, report.iterations if report else 0,
                report.residual_norm if report else math.nan, accepted, reason,
                time.perf_counter() - start,
            )
            records.append(record)
            if not accepted:
                if not setup.adaptive:
                    status = Status.CORRECTOR_FAILED
                    message = f"the step to eps = {eps_new:g} failed ({reason}); adaptive=False cannot halve it"
                    break
                ds = abs(eps_new - eps) / 2
                if ds < options.ds_min:
                    status = Status.STEP_TOO_SMALL
                    message = (
                        f"step size fell below ds_min = {options.ds_min:g} near eps = {eps:g} "
                        f"(last rejection: {reason}); the path may turn here: try method='arclength'"
                    )
                    break
                continue
            path_eps.append(eps_new)
            path_theta.append(report.theta)
            if setup.diagnostics:
                diagnostics.append(evaluate_diagnostics(setup, report.theta, eps_new))
            previous_norm, residual_norm, corrector_state = residual_norm, report.residual_norm, report.state
            previous_velocity, velocity_known = velocity, False
            if setup.adaptive:
                ds = next_step(abs(eps_new - eps), report, budget, None, options, previous_norm)
            bar.update(min(abs(eps_new - eps), bar.total - bar.n))  # no overshoot from rounding
            bar.set_postfix(eps=f"{eps_new:.4g}", residual=f"{residual_norm:.2e}")
            if eps_new == goal:
                target += 1
                if target == len(eps_path):
                    message = f"reached eps = {goal:g} in {len(path_eps) - 1} accepted steps"
                    break
            if setup.callback is not None and setup.callback(record, report.theta):
                status = Status.STOPPED_BY_CALLBACK
                message = f"stopped by the callback at eps = {eps_new:g}"
                break
    finally:
        bar.close()
    message += residual_note([r.residual_norm for r in records if r.accepted], options.tol)
    return TraceResult(
        path_eps, stack_thetas(path_theta), records, status, message,
        jacobian_evaluations=problem.jacobians, wall_time=time.perf_counter() - clock,
        diagnostics=diagnostics, corrector_state=corrector_state,
    )
