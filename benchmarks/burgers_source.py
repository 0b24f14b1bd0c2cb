"""Burgers with a source: a physics-informed DeepONet ``f -> u`` against batched Newton.

``python -m benchmarks burgers-source [--nu 0.5 0.1 0.05] [--method homotopy direct]``
writes one JSON per (nu, method) under ``benchmarks/results/burgers_source/``
(skipped when present, ``--force`` reruns), then ``README.md`` (a table of
every JSON in the folder) and ``profiles.png``.

The problem (:class:`pde.burgers_source.SourceBurgersOperator`):
``nu u'' - u u' = f`` on ``(-1, 1)``, ``u(+-1) = 0``, ``f`` a Gaussian random
field (squared-exponential kernel, length scale 0.5, amplitude 1). Both
methods start from the same DeepONet initialisation, the same 100 training
sources and the same collocation points (8 random points per source plus
the two ends); no solution data is used.

``homotopy``
    :func:`continuation.trace` in ``nu`` from 1 down to the target
    (geometric schedule, Euler predictor, Levenberg-Marquardt corrector,
    fixed step budgets).
``direct``
    The same LM corrector directly at the target ``nu``, with as many
    iterations as the homotopy's budget.

The test set is 100 unseen sources. The reference is batched damped Newton
(:func:`pde.burgers_fd.newton_steady` with ``source=``, viscosity continuation
from 1) on a grid of ``reference_intervals`` intervals; its discretisation
error is estimated from the same solve on half as many intervals (Richardson,
order 2). The network is scored (relative L2 per source, mean and worst) and
timed on the reference grid's nodes; in the same process batched Newton is
timed on the reference grid and on a coarse grid, for the 100 test sources at
once and for one source.
"""

from __future__ import annotations

import functools
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import continuation
from continuation import LevenbergMarquardt
from models import DeepONet
from pde.burgers import RandomField, sample_random_field
from pde.burgers_fd import fd_grid, newton_steady
from pde.burgers_source import SourceBurgersOperator

from .burgers import inference_time, plot_predictions, viscosity_schedule
from . import harness
from .record import CODE, cached, load_records

COMMAND = "python -m benchmarks burgers-source"
NUS = (0.5, 0.1, 0.05)
METHODS = ("homotopy", "direct")


@dataclass(frozen=True)
class Budget:
    """Network, sources, collocation points, iteration budgets and reference grids."""

    name: str
    sensors: int
    basis: int
    branch_hidden: tuple[int, ...]
    trunk_hidden: tuple[int, ...]
    length_scale: float
    amplitude: float
    functions: int
    points: int
    nu_start: float
    viscosity_ratio: float
    initial_iterations: int
    step_iterations: int
    final_iterations: int
    test_functions: int
    reference_intervals: int
    coarse_intervals: int
    repeats: int


BUDGETS = {
    "full": Budget(
        name="full", sensors=21, basis=20, branch_hidden=(20, 20), trunk_hidden=(30, 30), length_scale=0.5,
        amplitude=1.0, functions=60, points=25, nu_start=1.0, viscosity_ratio=0.7, initial_iterations=40,
        step_iterations=8, final_iterations=60, test_functions=100, reference_intervals=2000,
        coarse_intervals=200, repeats=5,
    ),
    # P5's data layout (100 sources x 8 points): 10 conditions per source for 20 basis coefficients
    "sparse": Budget(
        name="sparse", sensors=21, basis=20, branch_hidden=(20, 20), trunk_hidden=(30, 30), length_scale=0.5,
        amplitude=1.0, functions=100, points=8, nu_start=1.0, viscosity_ratio=0.7, initial_iterations=40,
        step_iterations=8, final_iterations=60, test_functions=100, reference_intervals=2000,
        coarse_intervals=200, repeats=5,
    ),
    "tiny": Budget(
        name="tiny", sensors=5, basis=3, branch_hidden=(4,), trunk_hidden=(4,), length_scale=0.5, amplitude=1.0,
        functions=3, points=4, nu_start=1.0, viscosity_ratio=0.5, initial_iterations=2, step_iterations=1,
        final_iterations=1, test_functions=4, reference_intervals=40, coarse_intervals=20, repeats=1,
    ),
}


def iterations_of(budget: Budget, nu: float) -> int:
    """LM iterations the homotopy may spend at target ``nu`` (and ``direct`` is given).

    Examples
    --------
    >>> iterations_of(BUDGETS["full"], 0.05)   # 10 viscosities: 40 + 8 x 8 + 60
    164
    """
    inner = len(viscosity_schedule(budget.nu_start, nu, budget.viscosity_ratio)) - 2
    return budget.initial_iterations + inner * budget.step_iterations + budget.final_iterations


class _Counter:
    """An LM observer that counts the iterations."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, theta: torch.Tensor, residual_norm: float) -> None:
        self.calls += 1


def train_homotopy(problem: SourceBurgersOperator, H, theta0: torch.Tensor, budget: Budget) -> tuple:
    """The viscosity homotopy from ``nu_start`` to the target; the weights and the stage record."""
    path = viscosity_schedule(budget.nu_start, problem.nu, budget.viscosity_ratio)
    options = continuation.Options(
        tol=1e-12, initial_iterations=budget.initial_iterations, corrector_iterations=budget.step_iterations,
        final_iterations=budget.final_iterations,
    )
    counter = _Counter()
    result = continuation.trace(H, theta0, path, predictor="euler", corrector=LevenbergMarquardt(observer=counter),
                                adaptive=False, options=options)
    stage = {"stage": f"viscosity homotopy nu: {budget.nu_start:g} -> {problem.nu:g}", "path": path,
             "predictor": "euler", "status": result.status.value, "success": result.success,
             "iterations": counter.calls, "residual_norms": list(result.residual_norms)}
    return result.theta, stage


def train_direct(problem: SourceBurgersOperator, H, theta0: torch.Tensor, budget: Budget) -> tuple:
    """LM directly at the target, with the homotopy's iteration budget."""
    counter = _Counter()
    iterations = iterations_of(budget, problem.nu)
    report = LevenbergMarquardt(observer=counter).correct(
        H, theta0, torch.tensor(problem.nu, dtype=theta0.dtype), iterations=iterations, tol=1e-12
    )
    stage = {"stage": f"LM directly at nu = {problem.nu:g}", "path": [problem.nu], "predictor": "none",
             "status": report.message, "iterations": counter.calls, "residual_norms": [report.residual_norm]}
    return report.theta, stage


TRAINERS: dict[str, Callable] = {"homotopy": train_homotopy, "direct": train_direct}


def _timed(solve: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The result of ``solve`` and the median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = solve()
        times.append(time.perf_counter() - began)
    return result, statistics.median(times)


def _relative_errors(u: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.linalg.norm(u - reference, axis=1) / np.linalg.norm(reference, axis=1)


def newton_solve(sources: RandomField, nu: float, intervals: int):
    """Batched Newton with viscosity continuation from 1 for every source on a grid of ``intervals``."""
    f = sources(torch.tensor(fd_grid(intervals))).numpy()
    return newton_steady(np.zeros_like(f), nu, source=f, boundary=(0.0, 0.0), nu_start=1.0, ratio=0.5)


def references(test: RandomField, nu: float, budget: Budget) -> tuple[np.ndarray, dict[str, Any]]:
    """The reference solutions on the fine grid and the Newton records (timings and errors)."""
    n, coarse = budget.reference_intervals, budget.coarse_intervals
    if n % 2 or n % coarse:
        raise ValueError(f"reference_intervals ({n}) must be even and a multiple of coarse_intervals ({coarse})")
    newton_solve(test.subset(1), nu, coarse)  # import scipy outside the timed region
    records = {}
    reference, records["reference_wall_s"] = _timed(lambda: newton_solve(test, nu, n), budget.repeats)
    half = newton_solve(test, nu, n // 2)
    estimate = _relative_errors(half.u, reference.u[:, ::2]) / 3  # Richardson, order 2: error of the fine grid
    _, single_wall = _timed(lambda: newton_solve(test.subset(1), nu, n), budget.repeats)
    coarse_result, coarse_wall = _timed(lambda: newton_solve(test, nu, coarse), budget.repeats)
    _, coarse_single_wall = _timed(lambda: newton_solve(test.subset(1), nu, coarse), budget.repeats)
    coarse_errors = _relative_errors(coarse_result.u, reference.u[:, :: n // coarse])
    records.update({
        "solver": "damped Newton, batched (one banded solve per iteration), viscosity continuation "
                  "nu = 1 * 0.5^k -> target, tol 1e-9", "repeats": budget.repeats,
        "reference_intervals": n, "reference_converged": int(reference.converged.sum()),
        "reference_iterations": reference.iterations,
        "reference_error_estimate_mean": float(estimate.mean()),
        "reference_error_estimate_worst": float(estimate.max()),
        "reference_one_wall_s": single_wall, "coarse_intervals": coarse, "coarse_wall_s": coarse_wall,
        "coarse_one_wall_s": coarse_single_wall, "coarse_converged": int(coarse_result.converged.sum()),
        "coarse_l2re_mean": float(coarse_errors.mean()), "coarse_l2re_worst": float(coarse_errors.max()),
    })
    return reference.u, records


def run_one(nu: float, method: str, budget: Budget, seed: int = 0) -> dict[str, Any]:
    """Train, test and time one (nu, method); the JSON record."""
    torch.set_num_threads(1)
    model = DeepONet(budget.sensors, budget.basis, budget.branch_hidden, budget.trunk_hidden)
    problem = SourceBurgersOperator(nu, model=model, n_test=budget.reference_intervals + 1)
    draw = functools.partial(sample_random_field, seed=seed, length_scale=budget.length_scale,
                             amplitude=budget.amplitude)
    train, test = draw(budget.functions), draw(budget.test_functions, split="test")
    H = problem.residual_map(train, problem.random_points(train.count, budget.points, seed=seed))
    theta0 = model.init(seed=seed)
    began = time.perf_counter()
    theta, stage = TRAINERS[method](problem, H, theta0, budget)
    train_wall = time.perf_counter() - began
    with torch.no_grad():
        loss = float(H(theta, torch.tensor(nu, dtype=theta.dtype)).pow(2).sum())
    reference, newton = references(test, nu, budget)
    prediction = problem.predict(theta, test).numpy()
    errors = _relative_errors(prediction, reference)
    train_errors = _relative_errors(problem.predict(theta, train).numpy(),
                                    newton_solve(train, nu, budget.reference_intervals).u)
    inference = inference_time(problem, theta, problem.sensors(test), budget.repeats)
    shown, stride = min(3, test.count), max(1, budget.reference_intervals // 500)
    x_shown = problem.test_points[::stride]
    return {
        "problem": "steady Burgers with a source, nu u'' - u u' = f, u(+-1) = 0, operator f -> u, "
                   "physics-informed DeepONet",
        "method": method, "nu": nu, "seed": seed, "command": f"{COMMAND} --nu {nu:g} --method {method}"
        + ("" if budget.name == "full" else f" --budget {budget.name}"), "budget": asdict(budget),
        "weights": model.num_weights, "network": repr(model),
        "sources": {"kernel": "squared exponential", "length_scale": budget.length_scale,
                    "amplitude": budget.amplitude},
        "training_functions": train.count, "points": {"per_function": budget.points, "boundary_per_function": 2,
                                                     "residual_rows": train.count * (budget.points + 2)},
        "iterations_budget": iterations_of(budget, nu), "stage": stage, "train_wall_s": train_wall, "loss": loss,
        "l2re_mean": float(errors.mean()), "l2re_worst": float(errors.max()),
        "l2re_median": float(np.median(errors)), "test_functions": test.count,
        "train_l2re_mean": float(train_errors.mean()), "train_l2re_worst": float(train_errors.max()),
        "error_on": f"the {budget.reference_intervals + 1} nodes of the reference grid, relative L2 per source",
        "inference_s": inference, "newton": newton,
        "speedup": {"reference_grid": newton["reference_wall_s"] / inference,
                    "coarse_grid": newton["coarse_wall_s"] / inference},
        "torch": torch.__version__, "commit": CODE["commit"], "dirty": CODE["dirty"],
        "profiles": {"x": x_shown.tolist(), "reference": reference[:shown, ::stride].tolist(),
                     "predicted": prediction[:shown, ::stride].tolist(),
                     "source": test.subset(shown)(x_shown).tolist()},
    }


def _columns() -> list[harness.Column]:
    Column, cell = harness.Column, harness.cell
    newton = [
        Column("Newton s, reference grid (est. error)", lambda r: f"{r['newton']['reference_wall_s']:.3f} (n = "
               f"{r['newton']['reference_intervals']}, {cell(r['newton']['reference_error_estimate_mean'])})"),
        Column("Newton s, coarse grid (L2RE)", lambda r: f"{r['newton']['coarse_wall_s']:.3f} (n = "
               f"{r['newton']['coarse_intervals']}, {cell(r['newton']['coarse_l2re_mean'])})"),
        Column("one f: Newton s ref. / coarse", lambda r: f"{r['newton']['reference_one_wall_s']:.4f} / "
               f"{r['newton']['coarse_one_wall_s']:.4f}"),
        Column("speed-up over Newton ref. / coarse", lambda r: f"{r['speedup']['reference_grid']:.0f} / "
               f"{r['speedup']['coarse_grid']:.1f}"),
    ]
    return [
        Column("nu", lambda r: r["nu"], "g"), Column("method", lambda r: r["method"]),
        Column("LM iterations", lambda r: r["stage"]["iterations"], "d"),
        Column("test L2RE mean", lambda r: r["l2re_mean"]), Column("worst", lambda r: r["l2re_worst"]),
        Column("train L2RE mean", lambda r: r.get("train_l2re_mean")), Column("loss", lambda r: r["loss"]),
        Column("train s", lambda r: r["train_wall_s"], ".0f"),
        Column("inference s (all test f)", lambda r: r["inference_s"], ".4f"), *newton,
    ]


def write_table(out: Path, records: list[dict[str, Any]]) -> str:
    """``out/README.md``: one row per (nu, method)."""
    first = records[0]
    return harness.write_page(out, [
        "# Burgers with a source: physics-informed DeepONet f -> u against batched Newton", "",
        f"Command: `{COMMAND}`. One JSON per row. Test: {first['test_functions']} unseen sources, relative L2 "
        f"error per source on the {first['budget']['reference_intervals'] + 1} nodes of the Newton reference. "
        "Network: " + first["network"] + f", {first['weights']} weights; {first['training_functions']} training "
        f"sources x ({first['points']['per_function']} random points + 2 ends). Timings on a shared 2-core machine, "
        "one thread, median of repeats (load average in each JSON): compare the ratios, measured in one run. "
        f"Newton: batched over the {first['test_functions']} test sources, viscosity continuation from 1.", "",
        *harness.table(records, _columns()),
    ])


def plot_profiles(out: Path, records: list[dict[str, Any]]) -> Path:
    """Top: three test sources; middle: predicted against reference solutions; bottom: the errors."""
    nus = sorted({r["nu"] for r in records}, reverse=True)
    colours = {"homotopy": "C0", "direct": "C3"}
    path = out / "profiles.png"
    with harness.figure(path, 3, len(nus), size=(4.5 * len(nus), 9), sharex=True) as (fig, axes):
        for column, nu in enumerate(nus):
            rows = [r for r in records if r["nu"] == nu]
            p = rows[0]["profiles"]
            x = np.array(p["x"])
            for k, (source, exact) in enumerate(zip(p["source"], p["reference"])):
                axes[0, column].plot(x, source, color=f"C{k + 4}", lw=1)
                axes[1, column].plot(x, exact, "k-", lw=3, alpha=0.25)
            for r in rows:
                plot_predictions(axes[1, column], axes[2, column], r, r["profiles"]["reference"], colours[r["method"]])
            axes[0, column].set(title=f"nu = {nu:g}: three test sources f", ylabel="f")
            axes[1, column].set(title="u: network (lines), Newton (grey)", ylabel="u")
            axes[2, column].set(title="|network - Newton|", xlabel="x", ylim=(1e-8, 10))
            axes[1, column].legend(fontsize=7)
    return path


def add_arguments(parser) -> None:
    """The options of ``python -m benchmarks burgers-source`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--nu", type=float, nargs="+", default=list(NUS), help="target viscosities")
    parser.add_argument("--method", nargs="+", choices=METHODS, default=list(METHODS),
                        help="homotopy: viscosity from 1 to the target; direct: LM at the target")
    parser.add_argument("--budget", choices=("full", "sparse", "tiny"), default="full",
                        help="sparse: P5's layout, 100 sources x 8 points; tiny: the smoke budget")


def main(args) -> list[dict[str, Any]]:
    """Run each (nu, method) not on disk, then write the table and the profiles from every record present."""
    out = harness.out_folder(args, "burgers_source")
    budget = BUDGETS[args.budget]
    for nu in args.nu:
        for method in args.method:
            cached(out / f"nu{nu:g}_{method}.json", functools.partial(run_one, nu, method, budget), force=args.force)
    records = load_records(out, "nu*.json")
    records.sort(key=lambda r: (-r["nu"], METHODS.index(r["method"])))
    print(write_table(out, records))
    plot_profiles(out, records)
    return records
