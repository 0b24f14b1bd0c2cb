"""P5, Burgers: a physics-informed DeepONet ``u0 -> u_inf`` against finite-difference solvers.

``python -m benchmarks burgers [--nu 0.5 0.1 0.05] [--method ours classical]``
writes one JSON per (nu, method) under ``benchmarks/results/burgers/``
(skipped when present, ``--force`` reruns), then ``README.md`` (a table of
every JSON in the folder) and ``profiles.png`` (predicted against exact
profiles).

Methods (both start from the same DeepONet initialisation and use the same
training functions; no solution data is used):

``ours``
    Two homotopies through :func:`continuation.trace`, Levenberg-Marquardt
    corrector on fixed schedules: (1) the time homotopy in ``s`` from 1 to 0
    at viscosity ``nu_start = 1``, where the answer moves from ``u0`` to the
    steady state of ``nu = 1`` (this is the only stage where ``u0`` matters),
    warm-start predictor; (2) the viscosity homotopy at ``s = 0`` from
    ``nu = 1`` down to the target, geometric schedule, Euler predictor.
``seed-path``
    The seed's order of the two homotopies: one trace in ``s`` from 1 to 0
    in which ``nu`` goes from 1 to the target during the first half
    (``pde.burgers.joint_viscosity``) and stays there, warm-start predictor.
``classical``
    No homotopy: the same LM corrector directly on the steady residual at the
    target ``nu`` (``s = 0``) from the initialisation, with as many iterations
    as ``ours`` used in total.

Each record also times, in the same process (median of repeats for the
network and for Newton, one run of the march): the network's inference on the
100 test functions at 1,000 points, and the finite-difference references on
the same functions (:mod:`pde.burgers_fd`): the explicit time march (to
``max|u_t| <= 1e-8`` or ``t_max``), Newton from ``u0``, and Newton with a
viscosity continuation from ``nu = 1``.
"""

from __future__ import annotations

import functools
import math
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
from pde.burgers import BurgersOperator, InitialData, sample_initial_data, steady_state
from pde.burgers_fd import fd_grid, march_explicit, newton_steady

from . import harness
from .record import cached, load_records

COMMAND = "python -m benchmarks burgers"
NUS = (0.5, 0.1, 0.05)
METHODS = ("ours", "classical", "seed-path")
SEED_L2RE = {0.5: 1.5e-3, 0.1: 7e-4, 0.05: 2.52e-2}
"""The seed's DeepONet L2RE (seed 001, Table 5), for orientation."""


@dataclass(frozen=True)
class Budget:
    """Network size, training data and iteration budgets.

    ``functions`` training functions, each with ``points`` uniform random
    collocation points of its own (redrawn for the second stage), plus the two
    boundary points.
    """

    name: str
    sensors: int
    basis: int
    branch_hidden: tuple[int, ...]
    trunk_hidden: tuple[int, ...]
    functions: int
    points: int
    time_schedule: tuple[float, ...]
    time_initial: int
    time_step: int
    time_final: int
    nu_start: float
    viscosity_ratio: float
    viscosity_step: int
    viscosity_final: int
    test_functions: int
    test_points: int
    march_t_max: float
    inference_repeats: int
    fd_min_intervals: int
    fd_intervals_times_nu: float
    joint_schedule: tuple[float, ...]
    newton_repeats: int


BUDGETS = {
    "full": Budget(
        name="full", sensors=21, basis=20, branch_hidden=(20, 20), trunk_hidden=(30, 30), functions=100,
        points=8, time_schedule=(1.0, 0.8, 0.6, 0.4, 0.2, 0.1, 0.03, 0.0), time_initial=30, time_step=6,
        time_final=20, nu_start=1.0, viscosity_ratio=0.7, viscosity_step=8, viscosity_final=60,
        test_functions=100, test_points=1000, march_t_max=50.0, inference_repeats=20,
        fd_min_intervals=200, fd_intervals_times_nu=20.0,
        joint_schedule=(1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.03, 1e-2, 1e-3, 1e-4, 0.0),
        newton_repeats=5,
    ),
    "tiny": Budget(
        name="tiny", sensors=5, basis=3, branch_hidden=(4,), trunk_hidden=(4,), functions=3, points=4,
        time_schedule=(1.0, 0.5, 0.0), time_initial=2, time_step=1, time_final=1, nu_start=1.0,
        viscosity_ratio=0.5, viscosity_step=1, viscosity_final=2, test_functions=4, test_points=50,
        march_t_max=0.01, inference_repeats=2, fd_min_intervals=20, fd_intervals_times_nu=2.0,
        joint_schedule=(1.0, 0.5, 0.0), newton_repeats=2,
    ),
}


def viscosity_schedule(start: float, target: float, ratio: float) -> list[float]:
    """``start * ratio^k`` while above ``target``, then ``target``.

    Examples
    --------
    >>> viscosity_schedule(1.0, 0.2, 0.5)
    [1.0, 0.5, 0.25, 0.2]
    """
    count = math.ceil(math.log(target / start) / math.log(ratio) - 1e-9)
    return [start * ratio**k for k in range(count)] + [target]


def _stage(name: str, result: continuation.TraceResult, options: continuation.Options, path, predictor: str,
           functions: int, rows: int) -> dict[str, Any]:
    return {
        "stage": name, "path": list(path), "predictor": predictor, "corrector": "lm",
        "functions": functions, "rows": rows, "initial_iterations": options.initial_iterations,
        "step_iterations": options.corrector_iterations, "final_iterations": options.final_iterations,
        "corrector_iterations": result.corrector_iterations, "jacobian_evaluations": result.jacobian_evaluations,
        "status": result.status.value, "message": result.message, "wall_s": result.wall_time,
        "residual_norms": [step.residual_norm for step in result.steps if step.accepted],
    }


def _fixed_trace(residual_map, theta0: torch.Tensor, path, predictor: str, iterations: tuple[int, int, int]):
    """A trace with the LM corrector on the fixed schedule ``path`` (tol 1e-12; iterations at the start, at
    each step and at the end); returns the result and its options."""
    initial, step, final = iterations
    options = continuation.Options(tol=1e-12, initial_iterations=initial, corrector_iterations=step,
                                   final_iterations=final)
    result = continuation.trace(residual_map, theta0, path, predictor=predictor, adaptive=False, options=options)
    return result, options


def train_ours(problem: BurgersOperator, train: InitialData, theta0: torch.Tensor, budget: Budget):
    """The two homotopies; returns the weights, the stage records and the final training map."""
    points = problem.random_points(train.count, budget.points, seed=0)
    time_map = problem.residual_map(train, points, "time", nu=budget.nu_start)
    first, time_options = _fixed_trace(time_map, theta0, budget.time_schedule, "none",
                                       (budget.time_initial, budget.time_step, budget.time_final))
    rows = train.count * (budget.points + 2)
    stages = [_stage(f"time homotopy s: 1 -> 0 at nu = {budget.nu_start:g}", first, time_options,
                     budget.time_schedule, "none", train.count, rows)]
    points = problem.random_points(train.count, budget.points, seed=1)
    steady_map = problem.residual_map(train, points, "viscosity")
    path = viscosity_schedule(budget.nu_start, problem.nu, budget.viscosity_ratio)
    second, viscosity_options = _fixed_trace(steady_map, first.theta, path, "euler",
                                             (budget.viscosity_step, budget.viscosity_step, budget.viscosity_final))
    stages.append(_stage(f"viscosity homotopy nu: {budget.nu_start:g} -> {problem.nu:g} at s = 0", second,
                         viscosity_options, path, "euler", train.count, rows))
    return second.theta, stages, steady_map, torch.tensor(problem.nu, dtype=theta0.dtype)


def train_classical(problem: BurgersOperator, train: InitialData, theta0: torch.Tensor, budget: Budget):
    """LM directly on the steady residual at the target, as many iterations as ``ours`` uses in total."""
    points = problem.random_points(train.count, budget.points, seed=1)
    steady_map = problem.residual_map(train, points, "viscosity")
    steps = len(viscosity_schedule(budget.nu_start, problem.nu, budget.viscosity_ratio)) - 2
    time_steps = len(budget.time_schedule) - 2
    iterations = (budget.time_initial + time_steps * budget.time_step + budget.time_final
                  + budget.viscosity_step * (steps + 1) + budget.viscosity_final)
    eps = torch.tensor(problem.nu, dtype=theta0.dtype)
    began = time.perf_counter()
    report = LevenbergMarquardt().correct(steady_map, theta0, eps, iterations=iterations, tol=1e-12)
    stage = {
        "stage": f"LM directly at nu = {problem.nu:g}, s = 0", "path": [problem.nu], "predictor": "none",
        "corrector": "lm", "functions": train.count, "rows": train.count * (budget.points + 2),
        "initial_iterations": iterations, "corrector_iterations": report.iterations, "status": report.message,
        "wall_s": time.perf_counter() - began, "residual_norms": [report.residual_norm],
    }
    return report.theta, [stage], steady_map, eps


def train_seed_path(problem: BurgersOperator, train: InitialData, theta0: torch.Tensor, budget: Budget):
    """The seed's order: one trace in ``s`` from 1 to 0 with ``nu`` going from 1 to the target while ``s >= 1/2``."""
    points = problem.random_points(train.count, budget.points, seed=0)
    joint_map = problem.residual_map(train, points, "joint", nu=budget.nu_start)
    result, options = _fixed_trace(joint_map, theta0, budget.joint_schedule, "none",
                                   (budget.time_initial, budget.viscosity_step, budget.viscosity_final))
    stage = _stage(f"joint homotopy s: 1 -> 0, nu: {budget.nu_start:g} -> {problem.nu:g} while s >= 1/2", result,
                   options, budget.joint_schedule, "none", train.count, train.count * (budget.points + 2))
    # score the loss on the steady residual with the points of the other methods' final stage
    steady_map = problem.residual_map(train, problem.random_points(train.count, budget.points, seed=1), "viscosity")
    return result.theta, [stage], steady_map, torch.tensor(problem.nu, dtype=theta0.dtype)


TRAINERS: dict[str, Callable] = {"ours": train_ours, "classical": train_classical, "seed-path": train_seed_path}


def _relative_errors(u: np.ndarray, exact: np.ndarray) -> np.ndarray:
    return np.linalg.norm(u - exact, axis=1) / np.linalg.norm(exact)


def _fd_record(name: str, solve: Callable[[], Any], nu: float, grid: np.ndarray, repeats: int = 1) -> dict[str, Any]:
    """Run ``solve`` ``repeats`` times; the median wall time and the errors of the last run."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = solve()
        times.append(time.perf_counter() - began)
    errors = _relative_errors(result.u, -np.tanh(grid / (2 * nu)))
    return {
        "solver": name, "wall_s": statistics.median(times), "repeats": repeats,
        "converged": int(result.converged.sum()), "iterations": result.iterations, "time_reached": result.time,
        "max_residual": float(result.residual.max()),
        "l2re_mean": float(errors.mean()), "l2re_worst": float(errors.max()),
    }


def fd_references(test: InitialData, nu: float, budget: Budget) -> dict[str, Any]:
    """The three finite-difference references on the test functions.

    The grid has ``n = max(fd_min_intervals, fd_intervals_times_nu / nu)``
    intervals (200 at nu = 0.5 and 0.1, 400 at 0.05 on the full budget: at
    least ten intervals across the shock width ``2 nu``).
    """
    n = max(budget.fd_min_intervals, math.ceil(budget.fd_intervals_times_nu / nu - 1e-9))
    grid = fd_grid(n)
    start = test(torch.tensor(grid)).numpy()
    newton_steady(start[:1, :5], nu)  # import scipy outside the timed region
    return {
        "grid_intervals": n,
        "error_on": "the FD grid nodes, relative L2 per function against u_inf",
        "march": _fd_record(
            "explicit Euler time march (cfl 0.9, to max|u_t| <= 1e-8 or t_max)",
            lambda: march_explicit(start, nu, tol=1e-8, t_max=budget.march_t_max), nu, grid,
        ) | {"t_max": budget.march_t_max},
        "newton": _fd_record("damped Newton from u0 (tol 1e-9, at most 100 iterations)",
                             lambda: newton_steady(start, nu), nu, grid, budget.newton_repeats),
        "newton_continuation": _fd_record(
            "damped Newton with viscosity continuation nu = 1 * 0.5^k -> target (tol 1e-9)",
            lambda: newton_steady(start, nu, nu_start=1.0, ratio=0.5), nu, grid, budget.newton_repeats,
        ),
        # u_inf does not depend on u0: one solve answers every query
        "newton_continuation_one": _fd_record(
            "the same Newton with continuation for the first test function only",
            lambda: newton_steady(start[:1], nu, nu_start=1.0, ratio=0.5), nu, grid, budget.newton_repeats,
        ),
    }


def inference_time(problem: BurgersOperator, theta: torch.Tensor, sensors: torch.Tensor, repeats: int) -> float:
    """Median wall time of the network on all test functions at all test points (sensor values given)."""
    points = problem.test_points[:, None]
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            began = time.perf_counter()
            problem.model.apply(theta, sensors, points)
            times.append(time.perf_counter() - began)
    return statistics.median(times[1:])  # the first call warms up


def run_one(nu: float, method: str, budget: Budget, seed: int = 0) -> dict[str, Any]:
    """Train, test and time one (nu, method); the JSON record."""
    torch.set_num_threads(1)
    model = DeepONet(budget.sensors, budget.basis, budget.branch_hidden, budget.trunk_hidden)
    problem = BurgersOperator(nu, model=model, n_test=budget.test_points)
    train = sample_initial_data(budget.functions, nu, seed=seed)
    test = sample_initial_data(budget.test_functions, nu, split="test", seed=seed)
    theta0 = model.init(seed=seed)
    began = time.perf_counter()
    theta, stages, steady_map, eps = TRAINERS[method](problem, train, theta0, budget)
    train_wall = time.perf_counter() - began
    errors = problem.l2re(theta, test)
    train_errors = problem.l2re(theta, train)
    with torch.no_grad():
        loss = float(steady_map(theta, eps).pow(2).sum())
    inference = inference_time(problem, theta, problem.sensors(test), budget.inference_repeats)
    fd = fd_references(test, nu, budget)
    shown = problem.predict(theta, test.subset(min(3, test.count)))
    return {
        "problem": "P5 steady Burgers, operator u0 -> u_inf, physics-informed DeepONet",
        "method": method, "nu": nu, "seed": seed, "command": COMMAND, "budget": asdict(budget),
        "weights": model.num_weights, "network": repr(model),
        "initial_data": {"kernel": "squared exponential", "length_scale": train.length_scale,
                         "amplitude": train.amplitude, "form": "(1 - x^2) w(x) - g x"},
        "training_functions": train.count, "collocation_points_per_function": budget.points,
        "stages": stages, "train_wall_s": train_wall, "loss": loss,
        "l2re_mean": float(errors.mean()), "l2re_worst": float(errors.max()),
        "l2re_median": float(errors.median()), "train_l2re_mean": float(train_errors.mean()),
        "test_functions": test.count, "test_points": problem.test_points.numel(),
        "seed_l2re": SEED_L2RE.get(nu),
        "inference_s": inference, "fd": fd,
        "ratios": {name: fd[name]["wall_s"] / inference for name in fd if isinstance(fd[name], dict)},
        "profiles": {"x": problem.test_points.tolist(), "exact": steady_state(problem.test_points, nu).tolist(),
                     "predicted": shown.tolist(), "u0": test.subset(shown.shape[0])(problem.test_points).tolist()},
    }


def _columns() -> tuple[list[harness.Column], list[harness.Column]]:
    """The columns of the results table and of the training-budget table (one row per stage)."""
    Column, cell = harness.Column, harness.cell
    results = [
        Column("nu", lambda r: r["nu"], "g"), Column("method", lambda r: r["method"]),
        Column("test L2RE mean", lambda r: r["l2re_mean"]), Column("worst", lambda r: r["l2re_worst"]),
        Column("seed", lambda r: r["seed_l2re"]), Column("loss", lambda r: r["loss"]),
        Column("train s", lambda r: r["train_wall_s"], ".0f"),
        Column("inference s (100 u0 x 1000 pts)", lambda r: r["inference_s"], ".4f"),
        Column("Newton+cont. s (L2RE)", lambda r: f"{r['fd']['newton_continuation']['wall_s']:.3f} "
                                                  f"({cell(r['fd']['newton_continuation']['l2re_mean'])})"),
        Column("Newton from u0 s (conv.)", lambda r: f"{r['fd']['newton']['wall_s']:.3f} "
               f"({r['fd']['newton']['converged']}/{r['test_functions']}, L2RE {cell(r['fd']['newton']['l2re_mean'])})"),
        Column("march s (t reached, L2RE)", lambda r: f"{r['fd']['march']['wall_s']:.1f} (t = "
                                                      f"{r['fd']['march']['time_reached']:.1f}, "
                                                      f"{cell(r['fd']['march']['l2re_mean'])})"),
        Column("Newton+cont. / inference", lambda r: r["ratios"]["newton_continuation"], ".1f"),
        Column("march / inference", lambda r: r["ratios"]["march"], ".0f"),
        Column("one Newton+cont. s", lambda r: r["fd"].get("newton_continuation_one", {}).get("wall_s"), ".4f"),
    ]
    stages = [
        Column("nu", lambda s: s["nu"], "g"), Column("method", lambda s: s["method"]),
        Column("stage", lambda s: s["stage"]),
        Column("path", lambda s: f"{len(s['path'])} values {s['path'][0]:g} .. {s['path'][-1]:g}"
               if len(s["path"]) > 1 else f"{s['path'][0]:g}"),
        Column("functions", lambda s: s["functions"], "d"), Column("rows", lambda s: s["rows"], "d"),
        Column("iterations (initial / step / final)", lambda s: f"{s['initial_iterations']} / "
               f"{s.get('step_iterations', '-')} / {s.get('final_iterations', '-')}"),
        Column("used", lambda s: s["corrector_iterations"], "d"), Column("wall s", lambda s: s["wall_s"], ".0f"),
        Column("final norm of H", lambda s: s["residual_norms"][-1]),
    ]
    return results, stages


def write_table(out: Path, records: list[dict[str, Any]]) -> str:
    """``out/README.md``: the results per (nu, method), then the training budget of every stage."""
    results, stages = _columns()
    rows = [{**s, "nu": r["nu"], "method": r["method"]} for r in records for s in r["stages"]]
    return harness.write_page(out, [
        "# P5 Burgers: physics-informed DeepONet against finite differences", "",
        f"Command: `{COMMAND}`. One JSON per row. Test: {records[0]['test_functions']} unseen u0 at "
        f"{records[0]['test_points']} points, L2RE against u_inf = -tanh(x / (2 nu)). Timings on a shared "
        "2-core machine, one thread (load average in each JSON): compare the ratios, measured in one run.", "",
        *harness.table(records, results),
        "", "Training budgets (LM corrector throughout; rows = functions x (points + 2 boundary)):", "",
        *harness.table(rows, stages, commit=False),
    ])


def plot_predictions(values, errors, r: dict[str, Any], exact: list, colour: str) -> None:
    """The predicted profiles of record ``r`` on the axes ``values``, their distance to ``exact`` (a row per
    profile) on ``errors`` (log scale); the first is labelled with the method and its mean L2RE."""
    p = r["profiles"]
    x = np.array(p["x"])
    for k, (row, reference) in enumerate(zip(p["predicted"], exact)):
        label = f"{r['method']} (L2RE {r['l2re_mean']:.1e})" if k == 0 else None
        values.plot(x, row, color=colour, lw=1, label=label)
        errors.semilogy(x, np.abs(np.array(row) - np.array(reference)) + 1e-16, color=colour, lw=0.8, label=label)


def plot_profiles(out: Path, records: list[dict[str, Any]]) -> Path:
    """Top: predicted profiles of three test functions against ``u_inf`` (inputs ``u0`` dotted); bottom: errors."""
    nus = sorted({r["nu"] for r in records}, reverse=True)
    colours = {"ours": "C0", "classical": "C3", "seed-path": "C2"}
    path = out / "profiles.png"
    with harness.figure(path, 2, len(nus), size=(4.5 * len(nus), 7)) as (fig, axes):
        for column, nu in enumerate(nus):
            top, bottom = axes[0, column], axes[1, column]
            for r in (r for r in records if r["nu"] == nu):
                p = r["profiles"]
                x, exact = np.array(p["x"]), np.array(p["exact"])
                for row in p.get("u0", []):
                    top.plot(x, row, ":", color="0.6", lw=0.8)
                plot_predictions(top, bottom, r, [exact] * len(p["predicted"]), colours[r["method"]])
                top.plot(x, exact, "k-", lw=3, alpha=0.25)
            top.set(title=f"nu = {nu:g}: three test u0 (dotted), u_inf (grey)", xlabel="x", ylabel="u")
            bottom.set(title="|predicted - u_inf|", xlabel="x", ylim=(1e-10, 10))
            top.legend(fontsize=7)
            bottom.legend(fontsize=7)
    return path


def add_arguments(parser) -> None:
    """The options of ``python -m benchmarks burgers`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--nu", type=float, nargs="+", default=list(NUS), help="target viscosities")
    parser.add_argument("--method", nargs="+", choices=METHODS, default=["ours", "classical"],
                        help="ours: time then viscosity homotopy; classical: LM directly at the target; "
                        "seed-path: the seed's joint homotopy (nu moves in the first half of s)")
    parser.add_argument("--budget", choices=("full", "tiny"), default="full", help="tiny: the smoke budget")


def main(args) -> list[dict[str, Any]]:
    """Run each (nu, method) not on disk, then write the table and the profiles from every record present."""
    out = harness.out_folder(args, "burgers")
    budget = BUDGETS[args.budget]
    for nu in args.nu:
        for method in args.method:
            compute = functools.partial(run_one, nu, method, budget)
            cached(out / f"burgers_nu{nu:g}_{method}.json", compute, force=args.force)
    records = load_records(out, "burgers_nu*.json")
    records.sort(key=lambda r: (-r["nu"], METHODS.index(r["method"])))
    print(write_table(out, records))
    plot_profiles(out, records)
    return records
