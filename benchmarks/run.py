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
``resume``; commit the file to carry a run over to another session); the
record's wall time and counters are those of the whole trace. ``--max-wall-s T`` gives ``ours`` a wall-time budget
over all its pieces: when it is spent the run ends at its last accepted point
and the record says where (status ``wall_budget``, ``reached_parameter``).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch

import continuation
from continuation import LBFGS, Adam, LevenbergMarquardt, Options
from models import MLP
from pde import AllenCahn1D, AllenCahn2D, Helmholtz, HighFrequencyFit, NetworkProblem, resonance_gap

from . import record

__all__ = [
    "PROBLEMS", "METHODS", "methods_for", "BUDGETS", "Budget", "ProblemSpec", "schedule", "run", "add_arguments",
    "main",
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
    build: Callable[[float, int, int, Sequence[int], bool, Optional[int]], NetworkProblem]
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


def _mlp(d_in: int, widths: Sequence[int]) -> MLP:
    return MLP([d_in, *widths, 1])


def _time_homotopy_2d(title: str, homotopy: str) -> ProblemSpec:
    return ProblemSpec(
        title, 1.0, (0.1, 0.05, 0.02),
        lambda eps, d, seed, widths, tiny, points: AllenCahn2D(
            _mlp(2, widths), homotopy=homotopy, eps=eps, seed=seed,
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
        lambda eps, d, seed, widths, tiny, points: AllenCahn1D(
            _mlp(1, widths), eps_min=eps, n_points=points or (24 if tiny else None)
        ),
        metric="interface",
    ),
    "ac2d": ProblemSpec(
        "P2 Allen-Cahn 2D, eps homotopy", 0.5, (0.1, 0.05, 0.02),
        lambda eps, d, seed, widths, tiny, points: AllenCahn2D(
            _mlp(2, widths), eps_min=eps, seed=seed,
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
        lambda eps, d, seed, widths, tiny, points: Helmholtz(
            d, _mlp(d, widths), eps_min=eps, seed=seed,
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
        lambda eps, d, seed, widths, tiny, points: HighFrequencyFit(
            _mlp(1, widths), n_points=points or (64 if tiny else 2_000), seed=seed
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
    earlier_wall_s: float = 0.0
    """Wall time spent by earlier processes on a resumed run (added to the record's ``wall_s``)."""


def _trace_extra(result: continuation.TraceResult, options: Options, path: Sequence[float]) -> dict[str, Any]:
    return {
        "accepted_steps": result.accepted,
        "rejected_steps": result.rejected,
        "corrector_iterations": result.corrector_iterations,
        "jacobian_evaluations": result.jacobian_evaluations,
        "reached_parameter": result.eps[-1] if result.eps else None,
        "path": _accepted_path(result),
        "schedule": [float(v) for v in path],
        "options": asdict(options),
    }


def _accepted_path(result: continuation.TraceResult) -> list[list[float]]:
    """``[eps, ||H||]`` of the accepted points of a trace, in order."""
    return [[float(e), float(r)] for e, r in zip(result.eps, result.residual_norms)]


def _trace_theta(result: continuation.TraceResult, fallback: torch.Tensor) -> torch.Tensor:
    return result.theta if len(result.thetas) else fallback


CHECKPOINT_SECONDS = 600.0
"""``ours`` saves its trace this often (wall seconds), so that a stopped run resumes there."""


def run_ours(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget,
    checkpoint: Optional[Path] = None, max_wall_s: Optional[float] = None,
) -> Outcome:
    """``trace`` with its defaults from the start value to the target (``small``: a few large steps).

    With ``checkpoint``, the trace runs in pieces of about :data:`CHECKPOINT_SECONDS`
    (the callback stops it), and after each piece the trace is saved there
    (:meth:`continuation.TraceResult.save`); a run that finds the file resumes
    it (``trace(..., resume=saved.state)``), which continues the path exactly
    as one uninterrupted trace would. The file is removed when the trace ends.
    Counters and wall time are those of the whole trace.

    With ``max_wall_s`` the run also ends when its wall time (over all pieces)
    reaches that budget: the outcome has the status ``"wall_budget"`` and the
    weights of the last accepted point, wherever on the path it is.
    """
    start, target = spec.start, spec.target(eps)
    options = budget.ours.replace(**(spec.ours_changes or {}))
    if budget.tiny:  # large steps and few attempts: seconds, not minutes
        span = abs(start - target)
        options = options.replace(ds=span / 2, ds_max=span)
    resumed = checkpoint is not None and checkpoint.exists()
    result = continuation.TraceResult.load(checkpoint) if resumed else None
    earlier_wall = result.wall_time if result is not None else 0.0
    in_pieces = checkpoint is not None or max_wall_s is not None
    budget_spent = False
    while True:
        spent = result.wall_time if result is not None else 0.0
        seconds = CHECKPOINT_SECONDS if max_wall_s is None else min(CHECKPOINT_SECONDS, max_wall_s - spent)
        deadline = time.perf_counter() + seconds
        stop = (lambda record, theta: time.perf_counter() > deadline) if in_pieces else None
        result = continuation.trace(
            problem.residual_map, theta0 if result is None else result.theta, [start, target], options=options,
            callback=stop, resume=None if result is None else result.state,
        )
        if result.status is not continuation.Status.STOPPED_BY_CALLBACK:
            break
        if max_wall_s is not None and result.wall_time >= max_wall_s:
            budget_spent = True
            break
        if checkpoint is not None:
            result.save(checkpoint)
    if checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()
    extra = _trace_extra(result, options, [start, target])
    pieces = result.state.pieces if result.state is not None else 1
    if checkpoint is not None:
        extra.update(pieces=pieces, resumed_from_checkpoint=resumed)
    if max_wall_s is not None:
        extra.update(max_wall_s=max_wall_s)
    if budget_spent:
        status = "wall_budget"
        message = f"wall-time budget of {max_wall_s:g} s spent at eps = {result.eps[-1]:g}"
    else:
        status, message = result.status.value, result.message
    return Outcome(
        _trace_theta(result, theta0), status,
        message if pieces == 1 else f"{message}; {pieces} pieces, {result.accepted} accepted steps in all",
        "trace: euler predictor, lm corrector, adaptive, "
        + ("small-budget options (see options)" if budget.tiny else "default options")
        + (f", except {spec.ours_changes}" if spec.ours_changes else ""),
        extra, earlier_wall_s=earlier_wall,
    )


def run_direct_lm(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """Levenberg-Marquardt at the target from the initialisation."""
    parameter = torch.tensor(spec.target(eps), dtype=theta0.dtype)
    report = LevenbergMarquardt().correct(problem.residual_map, theta0, parameter, iterations=budget.lm, tol=0.0)
    return Outcome(
        report.theta, report.message, report.message, f"levenberg-marquardt at the target ({budget.lm} iterations)",
        {"iterations": report.iterations},
    )


def run_classical_adam(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """Adam (lr 1e-3) then L-BFGS at the target: plain training."""
    parameter = torch.tensor(spec.target(eps), dtype=theta0.dtype)
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
        _trace_extra(result, options, path),
    )


def run_strategy1(
    problem: NetworkProblem, theta0: torch.Tensor, spec: ProblemSpec, eps: float, budget: Budget
) -> Outcome:
    """The seed's Strategy 1: LM at the start value, then forward Euler without corrector."""
    path = schedule(spec.start, spec.target(eps), budget.strategy1_ratio, budget.s_floor)
    start = torch.tensor(spec.start, dtype=theta0.dtype)
    first = LevenbergMarquardt().correct(
        problem.residual_map, theta0, start, iterations=budget.strategy1_initial, tol=0.0
    )
    options = Options()
    result = continuation.trace(
        problem.residual_map, first.theta, path, predictor="euler", corrector="none", adaptive=False,
        options=options,
    )
    extra = _trace_extra(result, options, path)
    extra["start_correction"] = {"iterations": first.iterations, "residual_norm": first.residual_norm}
    return Outcome(
        _trace_theta(result, first.theta), result.status.value, result.message,
        f"homotopy dynamics: lm ({budget.strategy1_initial}) at the start, then forward euler, no corrector, "
        f"on {len(path)} geometric values (ratio {budget.strategy1_ratio})",
        extra,
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


def _record_name(
    problem: str, d: Optional[int], eps: float, method: str, seed: int, variant: str = ""
) -> str:
    dim = f"_d{d}" if d is not None else ""
    return f"{problem}{dim}_eps{eps:g}{variant}_{method}_seed{seed}.json"


def _variant(widths: Sequence[int], points: Optional[int]) -> str:
    """The file-name tag of a non-default network or point count ("" for the defaults)."""
    tag = "" if list(widths) == list(DEFAULT_WIDTHS) else "_w" + "-".join(map(str, widths))
    return tag + (f"_n{points}" if points is not None else "")


def run_one(
    name: str, spec: ProblemSpec, problem: NetworkProblem, eps: float, method: str, seed: int,
    d: Optional[int], budget: Budget, widths: Sequence[int], command: str, checkpoint: Optional[Path] = None,
    max_wall_s: Optional[float] = None,
) -> dict[str, Any]:
    """Run ``method`` on ``problem`` at ``eps`` and return its JSON record (without the machine).

    ``checkpoint`` is where ``ours`` keeps its point on the path between pieces, ``max_wall_s``
    its wall-time budget (see :func:`run_ours`); the other methods have fixed budgets.
    """
    theta0 = problem.model.init(seed=seed)
    clock = time.perf_counter()
    resumable = {"checkpoint": checkpoint, "max_wall_s": max_wall_s} if method == "ours" else {}
    outcome = RUNNERS[method](problem, theta0, spec, eps, budget, **resumable)
    wall = time.perf_counter() - clock + outcome.earlier_wall_s
    target = spec.target(eps)
    record_: dict[str, Any] = {
        "problem": name,
        "title": spec.title,
        "method": method,
        "method_detail": outcome.detail,
        "eps": eps,
        "d": d,
        "parameter": "s" if spec.time_homotopy else "eps",
        "start": spec.start,
        "target": target,
        "l2re": problem.l2re(outcome.theta, eps),
        "loss": problem.loss(outcome.theta, target),
        "wall_s": wall,
        "weights": problem.model.num_weights,
        "network": [problem.model.widths[0], *widths, 1],
        "points": int(problem.points.shape[0]),
        "boundary_points": int(problem.boundary_points.shape[0]) if hasattr(problem, "boundary_points") else 0,
        "test_points": int(problem.test_points.shape[0]),
        "seed": seed,
        "budget": budget.name,
        "status": outcome.status,
        "message": outcome.message,
        "command": command,
    }
    if spec.metric is not None:
        record_[spec.metric] = getattr(problem, "interface" if spec.metric == "interface" else spec.metric)(
            outcome.theta
        )
    if spec.extra_metrics is not None:
        record_.update(spec.extra_metrics(problem, outcome.theta, eps))
    record_.update(outcome.extra)
    record_["theta"] = outcome.theta.tolist()  # the final weights: the scores can be recomputed from the record
    return record_


# ---- report -----------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = ".2e") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else format(value, spec)
    return str(value)


def load_records(out: Path) -> list[dict[str, Any]]:
    """Every JSON record in ``out``, sorted by d, decreasing eps, method and seed."""
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    order = {m: i for i, m in enumerate(METHODS)}
    return sorted(
        records, key=lambda r: (r.get("d") or 0, -r["eps"], order.get(r["method"], len(order)), r["seed"])
    )


def write_table(out: Path, name: str, records: list[dict[str, Any]]) -> str:
    """``out/README.md``: a markdown table of ``records``; returns its text."""
    spec = PROBLEMS[name]
    metric = spec.metric
    has_d = any(r.get("d") is not None for r in records)
    header = ["method"] + (["d"] if has_d else []) + ["eps", "L2RE", "loss"]
    header += [metric.replace("_", " ")] if metric else []
    header += ["status", "steps acc/rej", "wall s", "load", "weights", "points", "budget", "seed", "commit"]
    lines = [
        f"# {spec.title}: methods side by side",
        "",
        f"Command: `python -m benchmarks run {name} ...` (see each JSON for the exact command and budget). "
        "Every method of a row group starts from the same initialisation on the same points; L2RE on a dense "
        "test set separate from the collocation points; loss = ||H||^2 at the target. One JSON per row here. "
        "steps: accepted/rejected steps of a trace; load: the machine's 1-minute load average when the run "
        "ended (2 cores: above 2, wall times are inflated by other work). commit: the code that made the row "
        "(`-`: not recorded, an older row). Rows made before 8cec683 (the engine's honest status) say `success` "
        "when a trace reached its last eps, whatever its residual there; from 8cec683 on, `success` means "
        "||H|| <= tol at the last point, else `floor` or `not_converged`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for r in records:
        cells = [r["method"]] + ([_fmt(r.get("d"))] if has_d else []) + [
            _fmt(r["eps"], "g"), _fmt(r["l2re"]), _fmt(r["loss"])
        ]
        cells += [_fmt(r.get(metric))] if metric else []
        points = f"{r['points']}+{r.get('boundary_points', 0)}"
        steps = f"{r['accepted_steps']}/{r['rejected_steps']}" if "accepted_steps" in r else "-"
        load = r["machine"].get("load_average", [None])[0]
        commit = (r["machine"].get("code") or {}).get("commit") or "-"
        cells += [r["status"], steps, _fmt(r["wall_s"], ".1f"), _fmt(load, ".1f"), _fmt(r["weights"]), points,
                  r["budget"], _fmt(r["seed"]), commit[:7]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "![L2RE against eps](l2re.png)", ""]
    text = "\n".join(lines)
    (out / "README.md").write_text(text)
    return text


def plot_l2re(out: Path, name: str, records: list[dict[str, Any]]) -> Path:
    """``out/l2re.png``: L2RE against eps per method (one panel per d); the median over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted({r.get("d") or 0 for r in records}) or [0]
    fig, axes = plt.subplots(1, len(dims), figsize=(5.5 * len(dims), 4), squeeze=False)
    for ax, d in zip(axes[0], dims):
        for method in METHODS:
            rows = [r for r in records if (r.get("d") or 0) == d and r["method"] == method]
            eps_values = sorted({r["eps"] for r in rows}, reverse=True)
            if not eps_values:
                continue
            medians = [
                float(torch.tensor([r["l2re"] for r in rows if r["eps"] == e], dtype=torch.float64).median())
                for e in eps_values
            ]
            ax.loglog(eps_values, medians, "o-", ms=4, label=method)
        ax.invert_xaxis()
        title = PROBLEMS[name].title + (f", d = {d}" if d else "")
        ax.set(xlabel="eps", ylabel="L2RE", title=title)
        ax.title.set_fontsize(9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    path = out / "l2re.png"
    record.save_figure(fig, path, dpi=110)
    return path


# ---- command line -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks run``."""
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
    parser.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    parser.add_argument("--max-wall-s", type=float, default=None,
                        help="wall-time budget of ours, over all its pieces: when spent, the run ends at the "
                             "last accepted point and its record says so (status wall_budget)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="configurations run at once, each in its own process with one torch thread")
    parser.add_argument(
        "--out", default=None,
        help="output folder (default benchmarks/results/<problem>, .../<problem>/small for --budget small)",
    )


@dataclass(frozen=True)
class Configuration:
    """One row of a table: what :func:`run_configuration` runs and where its JSON goes."""

    problem: str
    eps: float
    method: str
    seed: int
    d: Optional[int]
    budget: str
    widths: tuple[int, ...]
    points: Optional[int]
    command: str
    path: Path
    force: bool
    max_wall_s: Optional[float] = None


def run_configuration(configuration: Configuration) -> bool:
    """Run one configuration (or skip it when its JSON exists); ``False`` if it failed (nothing written)."""
    c = configuration
    torch.set_num_threads(1)
    spec, budget = PROBLEMS[c.problem], BUDGETS[c.budget]
    checkpoint = record.checkpoint_path(c.path, c.force)
    try:
        problem = spec.build(c.eps, c.d, c.seed, c.widths, budget.tiny, c.points)
        record.cached(
            c.path,
            lambda: run_one(
                c.problem, spec, problem, c.eps, c.method, c.seed, c.d, budget, c.widths, c.command, checkpoint,
                c.max_wall_s,
            ),
            force=c.force,
        )
    except Exception:  # one failing method must not lose the others
        traceback.print_exc()
        return False
    return True


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the configurations of ``args``, then write the table and the plot; returns all records."""
    name = args.problem
    spec = PROBLEMS[name]
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
    eps_values = list(args.eps) if args.eps else list(spec.targets)
    methods = args.methods or methods_for(name)
    for eps in eps_values:
        if not (math.isfinite(eps) and eps > 0) or (not spec.time_homotopy and eps >= spec.start):
            raise SystemExit(f"--eps values must lie in (0, {spec.start}) for {name}, got {eps}")
    for method in methods:
        if name not in ONLY_FOR.get(method, (name,)):
            raise SystemExit(f"--methods {method} applies to {', '.join(ONLY_FOR[method])} only, not {name}")
    budget = BUDGETS[args.budget]
    out = Path(args.out) if args.out else record.RESULTS / name / ("small" if budget.tiny else "")
    command = (
        f"python -m benchmarks run {name} --eps {' '.join(f'{e:g}' for e in eps_values)} "
        f"--methods {' '.join(methods)}" + (f" --d {d}" if d is not None else "")
        + f" --budget {budget.name} --seed {args.seed} --widths {' '.join(map(str, args.widths))}"
        + (f" --points {args.points}" if args.points is not None else "")
        + (f" --max-wall-s {args.max_wall_s:g}" if args.max_wall_s is not None else "")
    )
    configurations = [
        Configuration(name, eps, method, args.seed, d, budget.name, tuple(args.widths), args.points, command,
                      out / _record_name(name, d, eps, method, args.seed, _variant(args.widths, args.points)),
                      args.force, args.max_wall_s)
        for eps in eps_values for method in methods
    ]
    if args.jobs == 1:
        outcomes = [run_configuration(c) for c in configurations]
    else:  # fresh interpreters (spawn), one torch thread each
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            outcomes = list(pool.map(run_configuration, configurations))
    failures = [f"{c.method} at eps = {c.eps:g}" for c, ok in zip(configurations, outcomes) if not ok]
    records = load_records(out) if out.exists() else []
    if records:
        print(write_table(out, name, records))
        plot_l2re(out, name, records)
    if failures:
        raise SystemExit(f"failed (no JSON written): {', '.join(failures)}")
    return records


def main(argv: Optional[Sequence[str]] = None) -> list[dict[str, Any]]:
    """``python -m benchmarks.run PROBLEM ...`` (also ``python -m benchmarks run``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks run", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
