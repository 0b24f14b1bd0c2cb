"""``python -m benchmarks run PROBLEM``: the methods side by side on one problem of the catalogue.

Every method starts from the same network initialisation (``--seed``) on the
same collocation points, and is scored by the problem's own ``l2re`` (dense
test set) and ``loss`` (``||H||^2`` at the target) at the target ``eps``.

Methods
-------
``ours``
    :func:`continuation.trace` with its defaults (Euler predictor, LM
    corrector, adaptive steps) from the problem's start value: eps = 0.5 for
    Allen-Cahn, 1 for Helmholtz and fitting, s = 1 for the time homotopy.
``direct-lm``
    :class:`continuation.LevenbergMarquardt` directly at the target.
``classical-adam``
    Plain training at the target: :class:`continuation.Adam` (lr 1e-3), then
    :class:`continuation.LBFGS` (the PINN recipe).
``strategy2``
    The seed's homotopy loss: ``trace(predictor="none", corrector="adam",
    adaptive=False)`` on a geometric schedule.
``strategy1``
    The seed's homotopy dynamics: LM at the start value, then
    ``trace(predictor="euler", corrector="none", adaptive=False)`` on a fine
    geometric schedule.
``deepxde`` (``ac1d`` only)
    The same problem, points, loss, initial weights and Adam / L-BFGS budget
    in DeepXDE itself (:mod:`benchmarks.deepxde_baseline`; the ``bench``
    extra).

Schedules are geometric in ``eps`` from the start to the target; for the time
homotopy they are geometric in ``s`` from 1 down to a floor, then 0.

Output: one JSON per (problem, d, eps, method, seed) under
``benchmarks/results/<problem>/`` (``.../<problem>/small/`` with ``--budget
small``), written by :func:`benchmarks.record.cached` and skipped when it
exists (``--force`` reruns); then ``README.md`` (a table of every JSON in the
folder) and ``l2re.png`` (L2RE against eps per method). ``--jobs N`` runs N
configurations at once, each in a fresh process with one torch thread (the
records are the same as in a serial run; the wall times then share the cores).

Long traces span sessions: ``ours`` saves its trace every
:data:`CHECKPOINT_SECONDS` to ``<record>.checkpoint.pt`` next to the JSON it
will write, and the same command resumes from that file (the engine's
``resume``; commit the file, and the ``<record>.checkpoint.pieces`` beside it, to
carry a run over to another session); the record's wall time and counters are
those of the whole trace, and its ``code_of_pieces`` the commit each process ran
(from which eps and wall second on), since a run resumed across sessions may span
commits. ``--max-wall-s T`` gives ``ours`` a wall-time budget
over all its pieces: when it is spent the run ends at its last accepted point
and the record says where (status ``wall_budget``, ``reached_parameter``).
A long final correction is not cut by those saves (it is one corrector call);
``--option final_piece=K`` runs it in pieces of ``K`` iterations, saved in
between (:data:`FINAL_PIECE`, :func:`run_ours`). ``--option resample=rad`` moves
the interior points by RAD each time the parameter has halved (:data:`RESAMPLE`).
"""

from __future__ import annotations

import argparse
import ast
import math
import multiprocessing
import shlex
import statistics
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch

import continuation
from continuation import LBFGS, Adam, LevenbergMarquardt, Options
from continuation.setup import resolved_linear_solver
from models import MLP
from pde import (AdaptivePoints, AllenCahn1D, AllenCahn2D, Helmholtz, HighFrequencyFit, MovingPoints, NetworkProblem,
                 resonance_gap)

from . import harness, record

__all__ = [
    "PROBLEMS", "METHODS", "methods_for", "BUDGETS", "Budget", "ProblemSpec", "schedule", "Job", "run_configuration",
    "add_arguments", "main",
]

METHODS = ("ours", "direct-lm", "classical-adam", "strategy2", "strategy1", "deepxde")
"""The methods, in table order."""


@dataclass(frozen=True)
class Budget:
    """Iteration budgets and collocation sizes of the methods.

    ``tiny`` replaces the problems' default point counts by a few dozen
    points (the smoke budget).
    """

    name: str
    tiny: bool
    adam: int
    lbfgs: int
    lm: int
    strategy2_ratio: float
    strategy2_initial: int
    strategy2_step: int
    strategy2_final: int
    strategy1_ratio: float
    strategy1_initial: int
    s_floor: float
    ours: Options


BUDGETS = {
    "full": Budget(
        name="full", tiny=False, adam=10_000, lbfgs=2_000, lm=500,
        strategy2_ratio=0.8, strategy2_initial=2_000, strategy2_step=1_000, strategy2_final=5_000,
        strategy1_ratio=0.98, strategy1_initial=200, s_floor=1e-3, ours=Options(),
    ),
    "small": Budget(
        name="small", tiny=True, adam=10, lbfgs=5, lm=3,
        strategy2_ratio=0.3, strategy2_initial=5, strategy2_step=3, strategy2_final=5,
        strategy1_ratio=0.5, strategy1_initial=3, s_floor=0.1,
        ours=Options(initial_iterations=3, corrector_iterations=2, final_iterations=2, max_steps=10, lipschitz_c=1e3,
                     residual_growth=1e3),
    ),
}
"""``full``: the real budget; ``small``: seconds per method (smoke tests)."""


@dataclass(frozen=True)
class ProblemSpec:
    """A problem of the command line: how to build it and where its homotopy runs."""

    title: str
    start: float
    targets: tuple[float, ...]
    build: Callable[..., NetworkProblem]
    """``(eps, d, seed, widths, tiny, points, device=None) -> problem``: the network on ``device`` (default CPU)."""
    time_homotopy: bool = False
    metric: Optional[str] = None
    ours_changes: Optional[dict[str, Any]] = None
    """Options of ``ours`` that differ from the library default for this problem (recorded in each JSON)."""
    extra_metrics: Optional[Callable[[Any, torch.Tensor, float], dict[str, Any]]] = None
    """``(problem, theta, eps) -> dict``: further scores of the final weights, added to each record."""

    def target(self, eps: float) -> float:
        """The homotopy parameter of the target problem: ``eps``, or s = 0."""
        return 0.0 if self.time_homotopy else float(eps)


DEFAULT_WIDTHS = (30, 30, 30)
"""Hidden widths of the benchmark network (1,951 weights in 1D, 1,981 in 2D)."""


def _mlp(d_in: int, widths: Sequence[int], device: Optional[str] = None) -> MLP:
    return MLP([d_in, *widths, 1], device=device)


def _time_homotopy_2d(title: str, homotopy: str) -> ProblemSpec:
    return ProblemSpec(
        title, 1.0, (0.1, 0.05, 0.02),
        lambda eps, d, seed, widths, tiny, points, device=None: AllenCahn2D(
            _mlp(2, widths, device), homotopy=homotopy, eps=eps, seed=seed,
            n_points=points or (40 if tiny else None), n_boundary=12 if tiny else None, n_test=101 if tiny else 201,
        ),
        time_homotopy=True,
        metric="interface_error",
        # ||H|| rises like (1 - s) from a start solved below tol: grow the step while it rises slowly
        ours_changes={"step_growth_ratio": 10**0.25},
    )


PROBLEMS: dict[str, ProblemSpec] = {
    "ac1d": ProblemSpec(
        "P1 Allen-Cahn 1D, eps homotopy", 0.5, (0.1, 0.05, 0.01),
        lambda eps, d, seed, widths, tiny, points, device=None: AllenCahn1D(
            _mlp(1, widths, device), eps_min=eps, n_points=points or (24 if tiny else None)
        ),
        metric="interface",
    ),
    "ac2d": ProblemSpec(
        "P2 Allen-Cahn 2D, eps homotopy", 0.5, (0.1, 0.05, 0.02),
        lambda eps, d, seed, widths, tiny, points, device=None: AllenCahn2D(
            _mlp(2, widths, device), eps_min=eps, seed=seed,
            n_points=points or (40 if tiny else None), n_boundary=12 if tiny else None, n_test=101 if tiny else 201,
        ),
        metric="interface_error",
    ),
    "ac2d-time": _time_homotopy_2d(
        "P2 Allen-Cahn 2D, time homotopy as specified (s from 1 to 0 at the target eps)", "time"
    ),
    "ac2d-flow": _time_homotopy_2d(
        "P2 Allen-Cahn 2D, time homotopy along the Allen-Cahn flow (sign of the steady part flipped)",
        "gradient-flow",
    ),
    "helmholtz": ProblemSpec(
        "P3 Helmholtz in d dimensions, eps homotopy", 1.0, (0.5, 0.2, 0.1),
        lambda eps, d, seed, widths, tiny, points, device=None: Helmholtz(
            d, _mlp(d, widths, device), eps_min=eps, seed=seed,
            n_points=points or (40 if tiny else None), n_boundary=12 if tiny else None,
            n_test=2_000 if tiny else 20_000,
        ),
        extra_metrics=lambda problem, theta, eps: {
            "resonance_gap": resonance_gap(problem.d, eps)[0],
            "resonant_error_share": problem.resonant_error_share(theta, eps),
        },
    ),
    "fit": ProblemSpec(
        "P4 high-frequency fitting, eps homotopy", 1.0, (0.1, 0.05, 0.02),
        lambda eps, d, seed, widths, tiny, points, device=None: HighFrequencyFit(
            _mlp(1, widths, device), n_points=points or (64 if tiny else 2_000), seed=seed
        ),
    ),
}
"""The problems of the command line, by name."""


def schedule(start: float, target: float, ratio: float, floor: float = 1e-3) -> list[float]:
    """A geometric schedule from ``start`` to ``target`` with steps of about ``ratio``.

    For ``target > 0`` the values are ``start * q^k``, ``q`` the ratio closest
    to ``ratio`` that lands on ``target`` with steps no larger (``q >= ratio``). For ``target == 0``
    (the time homotopy) they are ``start * ratio^k`` while above ``floor``,
    then 0.

    Examples
    --------
    >>> [round(v, 6) for v in schedule(0.5, 0.125, 0.5)]
    [0.5, 0.25, 0.125]
    >>> schedule(1.0, 0.0, 0.5, floor=0.2)
    [1.0, 0.5, 0.25, 0.0]
    """
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must lie in (0, 1), got {ratio!r}")
    if target == 0:
        values = [start]
        while values[-1] * ratio > floor:
            values.append(values[-1] * ratio)
        return values + [0.0]
    if not 0 < target < start:
        raise ValueError(f"need 0 < target < start, got start={start!r}, target={target!r}")
    steps = max(1, math.ceil(math.log(target / start) / math.log(ratio) - 1e-9))
    return [start * (target / start) ** (k / steps) for k in range(steps)] + [target]


# ---- the methods ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a method hands back: final weights, a status and method-specific details."""

    theta: torch.Tensor
    status: str
    message: str
    detail: str
    extra: dict[str, Any]
    trace: Optional[continuation.TraceResult] = None
    """The trace of a continuation method (its summary goes into the record)."""
    earlier_wall_s: float = 0.0
    """Wall time spent by earlier processes on a resumed run (added to the record's ``wall_s``)."""


def _trace_extra(options: Options, path: Sequence[float]) -> dict[str, Any]:
    return {"schedule": [float(v) for v in path], "options": asdict(options)}


def _trace_theta(result: continuation.TraceResult, fallback: torch.Tensor) -> torch.Tensor:
    return result.theta if len(result.thetas) else fallback


CHECKPOINT_SECONDS = 600.0
"""``ours`` saves its trace this often (wall seconds), so that a stopped run resumes there."""

FINAL_PIECE = "final_piece"
"""The ``--option`` of ``run`` (not of :class:`continuation.Options`) that runs the final correction in pieces."""

RESAMPLE = "resample"
"""The ``--option`` of ``run`` (not of :class:`continuation.Options`) that moves the interior points along the
path: ``resample=rad`` draws them again by RAD (:class:`pde.AdaptivePoints`, ``k = c = 1``, as many as before)
each time the homotopy parameter has halved, the trace correcting again on the new points."""

RESAMPLE_LAYOUTS = ("rad",)
"""The values ``--option resample`` takes."""

RUN_OPTIONS = (FINAL_PIECE, RESAMPLE)
"""The ``--option`` names that ``run`` itself takes; the others are :class:`continuation.Options`."""


def points_path(checkpoint: Path) -> Path:
    """The file beside a checkpoint that keeps the moved points of a ``resample`` run
    (:meth:`pde.MovingPoints.state_dict`)."""
    return checkpoint.with_name(checkpoint.stem + ".points")


def final_iterations_spent(result: continuation.TraceResult, target: float) -> int:
    """Corrector iterations a trace spent at its ``target``: its last step's and every further correction's.

    Examples
    --------
    >>> import torch
    >>> cubic = lambda theta, eps: torch.stack([(theta[0] - eps) ** 3, theta[1] - eps ** 2])  # slow at a triple root
    >>> options = continuation.Options(tol=1e-12, final_iterations=10)
    >>> first = continuation.trace(cubic, torch.tensor([1.3, 0.9], dtype=torch.float64), [1.0, 0.5], options=options)
    >>> first.status.value, final_iterations_spent(first, 0.5)
    ('not_converged', 10)
    >>> rest = continuation.trace(cubic, first.theta, [1.0, 0.5], options=options, resume=first.state)
    >>> rest.status.value, final_iterations_spent(rest, 0.5)  # a further correction: 2 more reach tol
    ('success', 12)
    """
    return sum(r.iterations for r in result.steps if r.accepted and r.eps == target)


def _finished(result: Optional[continuation.TraceResult]) -> bool:
    """Whether a trace reached its end above ``tol`` (a further correction can go on from it)."""
    return (result is not None and bool(result.state.finished)
            and result.status in (continuation.Status.NOT_CONVERGED, continuation.Status.UNDER_RESOLVED))


def run_ours(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget,
    checkpoint: Optional[Path] = None, max_wall_s: Optional[float] = None,
    changes: Optional[dict[str, Any]] = None,
) -> Outcome:
    """``trace`` with its defaults from the start value to the target (``small``: a few large steps).

    ``changes`` are options that differ from those defaults (``--option`` of the
    command line), applied last.

    With ``checkpoint``, the trace runs in pieces of about :data:`CHECKPOINT_SECONDS`
    (the callback stops it), and after each piece the trace is saved there
    (:meth:`continuation.TraceResult.save`); a run that finds the file resumes
    it (``trace(..., resume=saved.state)``), which continues the path exactly
    as one uninterrupted trace would. The file is removed when the trace ends.
    Counters and wall time are those of the whole trace.

    The trace checks its last point on fresh points (``validation``,
    :meth:`pde.base.NetworkProblem.validation_map`): a network that fits the
    collocation points but not the equations between them ends
    ``under_resolved``, not ``success``.

    With ``max_wall_s`` the run also ends when its wall time (over all pieces)
    reaches that budget: the outcome has the status ``"wall_budget"`` and the
    weights of the last accepted point, wherever on the path it is.

    With ``changes[RESAMPLE] = "rad"`` the trace runs on :class:`pde.AdaptivePoints`
    over ``problem`` (its points are drawn again each time the parameter has
    halved); a checkpoint then keeps the points too (:func:`points_path`), so
    that the resumed trace goes on with the points it had.

    With ``changes[FINAL_PIECE] = k`` the final correction runs in pieces: the
    trace with ``final_iterations = k``, then, while its last point is above
    ``tol`` with the corrector still going, resumed with ``k`` more (the
    engine's further correction of a finished trace), saved after each piece,
    until ``final_iterations`` in all. With Levenberg-Marquardt that is the
    point of one trace with the whole ``final_iterations`` unless the path's
    last step was accepted only because its final correction reached ``tol``.
    """
    start, target = spec.start, spec.target(eps)
    options = budget.ours.replace(**(spec.ours_changes or {}))
    if budget.tiny:  # large steps and few attempts: seconds, not minutes
        span = abs(start - target)
        options = options.replace(ds=span / 2, ds_max=span)
    requested = dict(changes or {})
    piece = requested.get(FINAL_PIECE)
    options = options.replace(**{name: value for name, value in requested.items() if name not in RUN_OPTIONS})
    final_iterations = options.final_iterations
    residual = problem.residual_map if requested.get(RESAMPLE) is None else AdaptivePoints(problem, every=0.5)
    resumed = checkpoint is not None and checkpoint.exists()
    result = continuation.TraceResult.load(checkpoint) if resumed else None
    if resumed and isinstance(residual, MovingPoints):
        if not points_path(checkpoint).exists():
            raise FileNotFoundError(f"{checkpoint} is a --option {RESAMPLE} run whose points file "
                                    f"{points_path(checkpoint)} is missing: commit both, or rerun with --force")
        residual.load_state_dict(torch.load(points_path(checkpoint)))
    earlier_wall = result.wall_time if result is not None else 0.0
    code_pieces = None if checkpoint is None else record.code_of_pieces(
        checkpoint, resumed, result.eps[-1] if result is not None else start, earlier_wall)
    in_pieces = checkpoint is not None or max_wall_s is not None
    budget_spent = False
    validation = problem.validation_map()  # fresh points: a fit of the collocation points alone is not a success
    while True:
        spent = result.wall_time if result is not None else 0.0
        seconds = CHECKPOINT_SECONDS if max_wall_s is None else min(CHECKPOINT_SECONDS, max_wall_s - spent)
        deadline = time.perf_counter() + seconds
        stop = (lambda record, theta: time.perf_counter() > deadline) if in_pieces else None
        before = final_iterations_spent(result, target) if _finished(result) else 0
        if piece is not None:  # the first piece, or the next one of a finished trace's further correction
            options = options.replace(final_iterations=min(piece, final_iterations - before))
        result = continuation.trace(
            residual, theta0 if result is None else result.theta, [start, target], options=options,
            callback=stop, resume=None if result is None else result.state, validation=validation,
        )
        going = _finished(result) and result.state.last_report == continuation.Stop.BUDGET.value
        # a piece that did not lower ||H|| (no iterations added at the target) ends it
        polishing = piece is not None and going and before < final_iterations_spent(result, target) < final_iterations
        if result.status is not continuation.Status.STOPPED_BY_CALLBACK and not polishing:
            break
        if max_wall_s is not None and result.wall_time >= max_wall_s:
            budget_spent = True
            break
        if checkpoint is not None:
            record.write_pieces(checkpoint, code_pieces)
            if isinstance(residual, MovingPoints):
                torch.save(residual.state_dict(), points_path(checkpoint))
            result.save(checkpoint)
    options = options.replace(final_iterations=final_iterations)
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
        record.pieces_path(checkpoint).unlink(missing_ok=True)
        points_path(checkpoint).unlink(missing_ok=True)
    extra = _trace_extra(options, [start, target])
    if isinstance(residual, MovingPoints):
        extra.update(resample={"layout": requested[RESAMPLE], "every": residual.every, "draws": residual.draws})
    pieces = result.state.pieces if result.state is not None else 1
    if checkpoint is not None:
        extra.update(pieces=pieces, resumed_from_checkpoint=resumed, code_of_pieces=code_pieces)
    if max_wall_s is not None:
        extra.update(max_wall_s=max_wall_s)
    if budget_spent:
        status = "wall_budget"
        message = f"wall-time budget of {max_wall_s:g} s spent at eps = {result.eps[-1]:g}"
    else:
        status, message = result.status.value, result.message
    if piece is not None:
        message += (f"; the final correction in pieces of {piece} iterations (--option {FINAL_PIECE}), "
                    f"{final_iterations_spent(result, target)} at eps = {target:g} in all")
    return Outcome(
        _trace_theta(result, theta0), status,
        message if pieces == 1 else f"{message}; {pieces} pieces, {result.accepted} accepted steps in all",
        "trace: euler predictor, lm corrector, adaptive, "
        + ("small-budget options (see options)" if budget.tiny else "default options")
        + (f", except {spec.ours_changes}" if spec.ours_changes else "")
        + (f", with {changes}" if changes else ""),
        extra, result, earlier_wall_s=earlier_wall,
    )


LM_OPTIONS = tuple(LevenbergMarquardt.OPTIONS.values())
"""The options of ``ours`` that build its Levenberg-Marquardt corrector: ``--option`` hands them to
``direct-lm`` too, so that both run the same linear algebra on the same network."""


def options_for(method: str, pairs: Sequence[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """The ``--option`` pairs that ``method`` takes: all for ``ours``, those of :data:`LM_OPTIONS` for
    ``direct-lm``, none for the others.

    Examples
    --------
    >>> options_for("direct-lm", [("linear_solver", "cg"), ("final_iterations", 600)])
    (('linear_solver', 'cg'),)
    >>> options_for("classical-adam", [("linear_solver", "cg")])
    ()
    """
    if method == "ours":
        return tuple(pairs)
    return tuple((name, value) for name, value in pairs if name in LM_OPTIONS) if method == "direct-lm" else ()


def run_direct_lm(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget,
    changes: Optional[dict[str, Any]] = None,
) -> Outcome:
    """Levenberg-Marquardt at the target from the initialisation, built from the options of ``ours`` with
    ``changes`` (those of :data:`LM_OPTIONS`) applied: by default the same corrector as ``ours``."""
    parameter = torch.tensor(spec.target(eps), dtype=theta0.dtype, device=theta0.device)
    options = budget.ours.replace(**(changes or {}))
    rows = problem.residual_map(theta0, parameter).numel()
    options = options.replace(linear_solver=resolved_linear_solver(problem.residual_map, theta0, parameter, rows,
                                                                   options))  # "auto" as a trace decides it
    corrector = LevenbergMarquardt.from_options(options)
    report = corrector.correct(problem.residual_map, theta0, parameter, iterations=budget.lm, tol=0.0)
    solver = "" if options.linear_solver == "dense" else f", linear solver {options.linear_solver}"
    return Outcome(
        report.theta, report.message, report.message,
        f"levenberg-marquardt at the target ({budget.lm} iterations{solver})",
        {"iterations": report.iterations},
    )


def run_classical_adam(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """Adam (lr 1e-3) then L-BFGS at the target: plain training."""
    parameter = torch.tensor(spec.target(eps), dtype=theta0.dtype, device=theta0.device)
    clock = time.perf_counter()
    adam = Adam(lr=1e-3).correct(problem.residual_map, theta0, parameter, iterations=budget.adam, tol=0.0)
    adam_wall = time.perf_counter() - clock
    lbfgs = LBFGS().correct(problem.residual_map, adam.theta, parameter, iterations=budget.lbfgs, tol=0.0)
    return Outcome(
        lbfgs.theta, lbfgs.message, f"adam: {adam.message}; l-bfgs: {lbfgs.message}",
        f"adam ({budget.adam}, lr 1e-3) then l-bfgs ({budget.lbfgs}) at the target",
        {
            "after_adam": {
                "l2re": problem.l2re(adam.theta, eps),
                "loss": problem.loss(adam.theta, spec.target(eps)),
                "wall_s": adam_wall,
            },
            "lbfgs_iterations": lbfgs.iterations,
        },
    )


def run_strategy2(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """The seed's Strategy 2: Adam warm-started along a geometric schedule, no predictor."""
    path = schedule(spec.start, spec.target(eps), budget.strategy2_ratio, budget.s_floor)
    options = Options(
        initial_iterations=budget.strategy2_initial, corrector_iterations=budget.strategy2_step,
        final_iterations=budget.strategy2_final, learning_rate=1e-3,
    )
    result = continuation.trace(
        problem.residual_map, theta0, path, predictor="none", corrector="adam", adaptive=False, options=options
    )
    return Outcome(
        _trace_theta(result, theta0), result.status.value, result.message,
        f"homotopy loss: adam (lr 1e-3) warm-started on {len(path)} geometric values "
        f"(ratio {budget.strategy2_ratio}), {budget.strategy2_initial} / {budget.strategy2_step} / "
        f"{budget.strategy2_final} iterations (start / step / last)",
        _trace_extra(options, path), result,
    )


def run_strategy1(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """The seed's Strategy 1: LM at the start value, then forward Euler without corrector."""
    path = schedule(spec.start, spec.target(eps), budget.strategy1_ratio, budget.s_floor)
    start = torch.tensor(spec.start, dtype=theta0.dtype, device=theta0.device)
    first = LevenbergMarquardt().correct(
        problem.residual_map, theta0, start, iterations=budget.strategy1_initial, tol=0.0
    )
    options = Options()
    result = continuation.trace(
        problem.residual_map, first.theta, path, predictor="euler", corrector="none", adaptive=False,
        options=options,
    )
    extra = _trace_extra(options, path)
    extra["start_correction"] = {"iterations": first.iterations, "residual_norm": first.residual_norm}
    return Outcome(
        _trace_theta(result, first.theta), result.status.value, result.message,
        f"homotopy dynamics: lm ({budget.strategy1_initial}) at the start, then forward euler, no corrector, "
        f"on {len(path)} geometric values (ratio {budget.strategy1_ratio})",
        extra, result,
    )


def run_deepxde(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """DeepXDE's Adam (lr 1e-3) then L-BFGS at the target, from the same weights and points (P1 only)."""
    from .deepxde_baseline import run_deepxde as train

    theta, extra = train(problem, theta0, eps, budget.adam, budget.lbfgs)
    return Outcome(
        theta, "budget used", f"deepxde {extra['deepxde_version']}",
        f"deepxde {extra['deepxde_version']}: adam ({budget.adam}, lr 1e-3) then l-bfgs ({budget.lbfgs}) at the "
        "target, same points and initial weights",
        extra,
    )


RUNNERS = {
    "ours": run_ours,
    "direct-lm": run_direct_lm,
    "classical-adam": run_classical_adam,
    "strategy2": run_strategy2,
    "strategy1": run_strategy1,
    "deepxde": run_deepxde,
}

ONLY_FOR = {"deepxde": ("ac1d",)}
"""Methods that exist for some problems only."""


def methods_for(problem: str) -> list[str]:
    """The methods that apply to ``problem``, in table order.

    Examples
    --------
    >>> methods_for("fit")
    ['ours', 'direct-lm', 'classical-adam', 'strategy2', 'strategy1']
    """
    return [m for m in METHODS if problem in ONLY_FOR.get(m, (problem,))]


def record_name(config: harness.Config) -> str:
    """The file name of a configuration's record (the network and point count tagged when not the defaults).

    Examples
    --------
    >>> record_name(harness.Config("helmholtz", "ours", 0.1, 0, DEFAULT_WIDTHS, 4000, "full", 2))
    'helmholtz_d2_eps0.1_n4000_ours_seed0.json'
    >>> record_name(harness.Config("fit", "ours", 0.05, widths=DEFAULT_WIDTHS, options=(("final_iterations", 600),)))
    'fit_eps0.05_final_iterations600_ours_seed0.json'
    """
    c = config
    dim = f"_d{c.d}" if c.d is not None else ""
    tag = "" if list(c.widths) == list(DEFAULT_WIDTHS) else "_w" + "-".join(map(str, c.widths))
    tag += f"_n{c.points}" if c.points is not None else ""
    tag += "".join(f"_{name}{value}" for name, value in c.options)
    return f"{c.problem}{dim}_eps{c.eps:g}{tag}_{c.method}_seed{c.seed}.json"


def command_line(configs: Sequence[harness.Config], max_wall_s: Optional[float] = None, device: str = "cpu") -> str:
    """The ``run`` command of ``configs`` (one problem, seed, budget, network, points, options) on ``device``."""
    c = configs[0]
    changed = next((x.options for x in configs if x.options), ())
    eps_values = " ".join(f"{e:g}" for e in dict.fromkeys(x.eps for x in configs))
    methods = " ".join(dict.fromkeys(x.method for x in configs))
    return (
        f"python -m benchmarks run {c.problem} --eps {eps_values} --methods {methods}"
        + (f" --d {c.d}" if c.d is not None else "")
        + f" --budget {c.budget} --seed {c.seed} --widths {' '.join(map(str, c.widths))}"
        + (f" --points {c.points}" if c.points is not None else "")
        + (f" --max-wall-s {max_wall_s:g}" if max_wall_s is not None else "")
        + "".join(f" --option {name}={value!r}" for name, value in changed)
        + (f" --device {device}" if device != "cpu" else "")
    )


def run_one(config: harness.Config, command: str, checkpoint: Optional[Path] = None,
            max_wall_s: Optional[float] = None, device: str = "cpu") -> dict[str, Any]:
    """Run one configuration and return its JSON record (without the machine).

    ``checkpoint`` is where ``ours`` keeps its point on the path between pieces, ``max_wall_s``
    its wall-time budget (see :func:`run_ours`); the other methods have fixed budgets. The network,
    its points and so every tensor of the run are on ``device``.
    """
    c = config
    spec, budget = PROBLEMS[c.problem], BUDGETS[c.budget]
    problem = spec.build(c.eps, c.d, c.seed, c.widths, budget.tiny, c.points, device=device)
    theta0 = problem.model.init(seed=c.seed)
    clock = time.perf_counter()
    resumable = ({"checkpoint": checkpoint, "max_wall_s": max_wall_s, "changes": dict(c.options)}
                 if c.method == "ours" else {"changes": dict(c.options)} if c.method == "direct-lm" else {})
    outcome = RUNNERS[c.method](problem, theta0, spec, c.eps, budget, **resumable)
    wall = time.perf_counter() - clock + outcome.earlier_wall_s
    target = spec.target(c.eps)
    metrics: dict[str, Any] = {
        "l2re": problem.l2re(outcome.theta, c.eps), "loss": problem.loss(outcome.theta, target), "wall_s": wall,
    }
    if spec.metric is not None:
        score = getattr(problem, "interface" if spec.metric == "interface" else spec.metric)
        metrics[spec.metric] = score(outcome.theta)
    if spec.extra_metrics is not None:
        metrics.update(spec.extra_metrics(problem, outcome.theta, c.eps))
    what = {
        "problem": c.problem, "title": spec.title, "method": c.method, "method_detail": outcome.detail, "eps": c.eps,
        "d": c.d, "parameter": "s" if spec.time_homotopy else "eps", "start": spec.start, "target": target,
        "weights": problem.model.num_weights, "network": [problem.model.widths[0], *c.widths, 1],
        "points": int(problem.points.shape[0]),
        "boundary_points": int(problem.boundary_points.shape[0]) if hasattr(problem, "boundary_points") else 0,
        "test_points": int(problem.test_points.shape[0]), "seed": c.seed, "budget": c.budget, "command": command,
        "device": str(outcome.theta.device),
    }
    # the final weights: the scores can be recomputed from the record
    return harness.make_record(what, metrics, outcome.trace, status=outcome.status, message=outcome.message,
                               **outcome.extra, theta=outcome.theta.tolist())


# ---- report -----------------------------------------------------------------------------------


def load_records(out: Path) -> list[dict[str, Any]]:
    """Every JSON record in ``out``, sorted by d, decreasing eps, method and seed."""
    order = {m: i for i, m in enumerate(METHODS)}
    return sorted(harness.load_records(out),
                  key=lambda r: (r.get("d") or 0, -r["eps"], order.get(r["method"], len(order)), r["seed"]))


def _steps(r: dict[str, Any]) -> str:
    trace = r.get("trace")
    return f"{trace['accepted']}/{trace['rejected']}" if trace else "-"


def method_label(data: dict[str, Any]) -> str:
    """A record's method, with the options its command changed that the method takes (``--option``,
    :func:`options_for`).

    Examples
    --------
    >>> method_label({"method": "ours", "command": "python -m benchmarks run fit --option final_iterations=600"})
    'ours (final_iterations=600)'
    >>> method_label({"method": "direct-lm", "command": "python -m benchmarks run fit --option final_iterations=600"})
    'direct-lm'
    >>> method_label({"method": "direct-lm", "command": "python -m benchmarks run fit --option linear_solver='cg'"})
    "direct-lm (linear_solver='cg')"
    """
    changed = (options_for(data["method"], _parser().parse_args(shlex.split(data["command"])[4:]).option)
               if data.get("command") else [])
    return data["method"] + (" (" + ", ".join(f"{n}={v!r}" for n, v in changed) + ")" if changed else "")


def table_page(name: str, records: list[dict[str, Any]]) -> list[str]:
    """The lines of ``README.md``: a markdown table of ``records``, one row each."""
    spec = PROBLEMS[name]
    Column = harness.Column
    columns = [Column("method", method_label)]
    if any(r.get("d") is not None for r in records):
        columns.append(Column("d", lambda r: r.get("d"), "d"))
    columns += [Column("eps", lambda r: r["eps"], "g"), Column("L2RE", lambda r: r["l2re"]),
                Column("loss", lambda r: r["loss"])]
    if spec.metric:
        columns.append(Column(spec.metric.replace("_", " "), lambda r: r.get(spec.metric)))
    columns += [
        Column("status", lambda r: r["status"]), Column("steps acc/rej", _steps),
        Column("wall s", lambda r: r["wall_s"], ".1f"),
        Column("load", lambda r: r["machine"].get("load_average", [None])[0], ".1f"),
        Column("weights", lambda r: r["weights"], "d"),
        Column("points", lambda r: f"{r['points']}+{r.get('boundary_points', 0)}"),
        Column("budget", lambda r: r["budget"]), Column("seed", lambda r: r["seed"], "d"),
    ]
    return [
        f"# {spec.title}: methods side by side",
        "",
        f"Command: `python -m benchmarks run {name} ...` (see each JSON for the exact command and budget). "
        "Every method of a row group starts from the same initialisation on the same points; L2RE on a dense "
        "test set separate from the collocation points; loss = ||H||^2 at the target. One JSON per row here. "
        "steps: accepted/rejected steps of a trace; load: the machine's 1-minute load average when the run "
        "ended (2 cores: above 2, wall times are inflated by other work). commit: the code that made the row "
        "(`-`: not recorded, an older row; `(older engine: FILES)`: the engine has changed since, in those files, "
        "`python -m benchmarks verify` reruns it). Rows made before 8cec683 (the engine's honest status) say "
        "`success` when a trace reached its last eps, whatever its residual there; from 8cec683 on, `success` "
        "means ||H|| <= tol at the last point, else `floor` or `not_converged`.",
        "",
        *harness.table(records, columns),
        "",
        "![L2RE against eps](l2re.png)",
    ]


def plot_l2re(out: Path, name: str, records: list[dict[str, Any]]) -> Path:
    """``out/l2re.png``: L2RE against eps per method (one panel per d); the median over seeds."""
    dims = sorted({r.get("d") or 0 for r in records}) or [0]
    path = out / "l2re.png"
    with harness.figure(path, 1, len(dims), size=(5.5 * len(dims), 4)) as (fig, axes):
        for ax, d in zip(axes[0], dims):
            for method in METHODS:
                rows = [r for r in records if (r.get("d") or 0) == d and r["method"] == method]
                eps_values = sorted({r["eps"] for r in rows}, reverse=True)
                if not eps_values:
                    continue
                medians = [statistics.median(r["l2re"] for r in rows if r["eps"] == e) for e in eps_values]
                ax.loglog(eps_values, medians, "o-", ms=4, label=method)
            ax.invert_xaxis()
            ax.set(xlabel="eps", ylabel="L2RE", title=PROBLEMS[name].title + (f", d = {d}" if d else ""))
            ax.title.set_fontsize(9)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
    return path


def report(out: Path, name: str, extra: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Write ``out/README.md`` (the table, then ``extra`` lines) and ``out/l2re.png`` from every record in ``out``."""
    records = load_records(out) if out.exists() else []
    if records:
        print(harness.write_page(out, [*table_page(name, records), *extra]))
        plot_l2re(out, name, records)
    return records


# ---- command line -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks run`` (``--force`` and ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("problem", choices=sorted(PROBLEMS), help="problem of the catalogue")
    parser.add_argument("--eps", type=float, nargs="+", default=None,
                        help="target eps values (default: the catalogue's targets)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=None,
                        help="methods to run (default: all that apply to the problem)")
    parser.add_argument("--d", type=int, default=None, help="dimension (helmholtz only; default 2)")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="full",
                        help="full: the real budget; small: tiny point counts and iterations (smoke test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the network and the collocation points")
    parser.add_argument("--widths", type=int, nargs="+", default=list(DEFAULT_WIDTHS), help="hidden layer widths")
    parser.add_argument("--points", type=int, default=None,
                        help="interior collocation points (default: the problem's rule, growing as eps shrinks)")
    parser.add_argument("--max-wall-s", type=float, default=None,
                        help="wall-time budget of ours, over all its pieces: when spent, the run ends at the "
                             "last accepted point and its record says so (status wall_budget)")
    parser.add_argument("--option", type=option_pair, action="append", default=[], metavar="NAME=VALUE",
                        help="an option of ours (continuation.Options) other than its default, e.g. "
                             "final_iterations=600; repeat for several; tagged in the file name")
    parser.add_argument("--jobs", type=int, default=1,
                        help="configurations run at once, each in its own process with one torch thread")


def option_pair(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as ``(name, value)``: the value read as a Python literal, else kept as text.

    Examples
    --------
    >>> option_pair("final_iterations=600"), option_pair("step_control=corrector")
    (('final_iterations', 600), ('step_control', 'corrector'))
    """
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def check_options(pairs: Sequence[tuple[str, Any]], methods: Sequence[str]) -> None:
    """Refuse ``--option`` pairs that :class:`continuation.Options` does not take, or that no method would use."""
    if not pairs:
        return
    unused = [name for name, _ in pairs if not any(name in dict(options_for(m, pairs)) for m in methods)]
    if unused:
        raise SystemExit(f"--option {', '.join(unused)}: no method of --methods {' '.join(methods)} takes it "
                         f"(ours takes every option, direct-lm those of its corrector: {', '.join(LM_OPTIONS)})")
    engine = {name: value for name, value in pairs if name not in RUN_OPTIONS}
    piece, layout = dict(pairs).get(FINAL_PIECE), dict(pairs).get(RESAMPLE)
    if piece is not None and not (isinstance(piece, int) and not isinstance(piece, bool) and piece > 0):
        raise SystemExit(f"--option {FINAL_PIECE} must be a positive whole number of iterations, got {piece!r}")
    if RESAMPLE in dict(pairs) and layout not in RESAMPLE_LAYOUTS:
        raise SystemExit(f"--option {RESAMPLE} must be one of {', '.join(RESAMPLE_LAYOUTS)}, got {layout!r}")
    try:
        Options().replace(**engine)
    except (TypeError, ValueError) as error:
        raise SystemExit(f"--option {' '.join(f'{n}={v!r}' for n, v in pairs)}: {error}") from None


def _parser() -> argparse.ArgumentParser:
    """The parser of a recorded ``run`` command (``--device`` included, which :mod:`benchmarks.__main__` adds)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks run")
    add_arguments(parser)
    parser.add_argument("--device", type=harness.device, default="cpu")
    return parser


def check_device(methods: Sequence[str], device: str) -> None:
    """Refuse ``--device`` other than the CPU for a method that runs on the CPU only (DeepXDE's baseline)."""
    if device != "cpu" and "deepxde" in methods:
        raise SystemExit(f"--methods deepxde runs on the CPU only, not on --device {device}")


@dataclass(frozen=True)
class Job:
    """A configuration to run: where its JSON goes and the command that reruns it."""

    config: harness.Config
    command: str
    path: Path
    force: bool = False
    max_wall_s: Optional[float] = None
    device: str = "cpu"


def job_of(data: dict[str, Any], path: Path, force: bool = False, device: Optional[str] = None) -> Job:
    """The job that reruns the record ``data`` into ``path`` (network, points and wall budget from its command),
    on ``device`` (default: the record's own)."""
    args = _parser().parse_args(shlex.split(data["command"])[4:])
    config = harness.Config(data["problem"], data["method"], data["eps"], data["seed"], tuple(args.widths),
                            args.points, data["budget"], data.get("d"),
                            options_for(data["method"], args.option))
    recorded = str(args.device)
    device = recorded if device is None else device
    command = data["command"] if device == recorded else command_line([config], args.max_wall_s, device)
    return Job(config, command, path, force, args.max_wall_s, device)


def run_configuration(job: Job) -> bool:
    """Run one job (or skip it when its JSON exists); ``False`` if it failed (nothing written)."""
    torch.set_num_threads(1)
    checkpoint = record.checkpoint_path(job.path, job.force)
    try:
        record.cached(job.path, lambda: run_one(job.config, job.command, checkpoint, job.max_wall_s, job.device),
                      force=job.force)
    except Exception:  # one failing method must not lose the others
        traceback.print_exc()
        return False
    return True


def check_eps(name: str, eps_values: Sequence[float]) -> None:
    """Refuse target values outside the problem's homotopy, naming ``--eps`` and the value."""
    spec = PROBLEMS[name]
    for eps in eps_values:
        if not (math.isfinite(eps) and eps > 0) or (not spec.time_homotopy and eps >= spec.start):
            raise SystemExit(f"--eps values must lie in (0, {spec.start}) for {name}, got {eps}")


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the configurations of ``args``, then write the table and the plot; returns all records."""
    name = args.problem
    if args.d is not None and name != "helmholtz":
        raise SystemExit(f"--d applies to helmholtz only, not {name}")
    d = (args.d if args.d is not None else 2) if name == "helmholtz" else None
    if d is not None and d < 1:
        raise SystemExit(f"--d must be a positive integer, got {d}")
    if args.points is not None and args.points < 1:
        raise SystemExit(f"--points must be a positive integer, got {args.points}")
    if args.jobs < 1:
        raise SystemExit(f"--jobs must be a positive integer, got {args.jobs}")
    if args.max_wall_s is not None and not (math.isfinite(args.max_wall_s) and args.max_wall_s > 0):
        raise SystemExit(f"--max-wall-s must be a positive number of seconds, got {args.max_wall_s}")
    if not args.widths or min(args.widths) < 1:
        raise SystemExit(f"--widths must be positive integers, got {args.widths}")
    eps_values = list(args.eps) if args.eps else list(PROBLEMS[name].targets)
    check_eps(name, eps_values)
    methods = args.methods or methods_for(name)
    for method in methods:
        if name not in ONLY_FOR.get(method, (name,)):
            raise SystemExit(f"--methods {method} applies to {', '.join(ONLY_FOR[method])} only, not {name}")
    check_options(args.option, methods)
    device = str(args.device)
    check_device(methods, device)
    budget = BUDGETS[args.budget]
    out = harness.out_folder(args, name, "small" if budget.tiny else "")
    configs = [harness.Config(name, method, eps, args.seed, tuple(args.widths), args.points, budget.name, d,
                              options_for(method, args.option))
               for eps in eps_values for method in methods]
    command = command_line(configs, args.max_wall_s, device)
    jobs = [Job(c, command, out / record_name(c), args.force, args.max_wall_s, device) for c in configs]
    if args.jobs == 1:
        outcomes = [run_configuration(job) for job in jobs]
    else:  # fresh interpreters (spawn), one torch thread each
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            outcomes = list(pool.map(run_configuration, jobs))
    records = report(out, name)
    failures = [f"{job.config.method} at eps = {job.config.eps:g}" for job, ok in zip(jobs, outcomes) if not ok]
    if failures:
        raise SystemExit(f"failed (no JSON written): {', '.join(failures)}")
    return records
