"""The Hessian at the end of plain training and exact Newton from there (Rowan 2025, arXiv:2510.11987).

``python -m benchmarks diagnostics --part hessian`` writes:

* ``hessian-classical.json``: P1 (``pde.AllenCahn1D``) at eps = 0.01, MLP
  1-20-20-1 tanh (481 weights; the default 1-30-30-30-1 has 1,951 and one
  dense Hessian of it took 340 s here, too slow for Newton iterations), 1,000
  interior points, Xavier init seed 0, trained by the P1 table's
  ``classical-adam`` recipe (:func:`benchmarks.run.run_classical_adam`:
  Adam 10,000 iterations at lr 1e-3, then L-BFGS 2,000). At its end point: the
  dense Hessian of ``||H||^2 / 2`` (:func:`torch.func.hessian`) and all its
  eigenvalues, the number below ``-1e-10 max |lambda|`` (and below
  ``-1e-6 max |lambda|``); the Lanczos estimates of
  :func:`continuation.hessian_extremes` (80 steps) beside them; the weights.
* ``hessian-<corrector>-from-<start>.json``: from that end point
  (``start = classical``) or from the Xavier init (``start = init``),
  ``STEPS`` iterations of the engine's corrector ``"newton"`` (exact dense
  Hessian, truncated pseudo-inverse with ``Options().rcond``, full steps) or
  ``"lm"`` (Levenberg-Marquardt, damping carried from one iteration to the
  next), one iteration per call of
  :func:`continuation.correctors.corrector_from_options`; after every
  iteration the loss, the L2RE, the interface, the gradient norm and the
  Lanczos extremes (40 steps) of the Hessian.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Callable

import torch
from torch.func import grad, hessian

from continuation import Options, hessian_extremes
from continuation.correctors import corrector_from_options
from models import MLP
from pde import AllenCahn1D

from . import harness
from .record import cached, read_record
from .run import BUDGETS, PROBLEMS, run_classical_adam

EPS, SEED = 0.01, 0
WIDTHS = [1, 20, 20, 1]
BUDGET = dataclasses.replace(BUDGETS["full"], name="full (adam 10000, l-bfgs 2000)")
STEPS = 15
"""Corrector iterations from the start point."""
LANCZOS_END, LANCZOS_STEP = 80, 40
RTOL_NEGATIVE = (1e-10, 1e-6)
CORRECTORS = ("newton", "lm")
STARTS = ("classical", "init")


def build() -> AllenCahn1D:
    return AllenCahn1D(MLP(WIDTHS), eps_min=EPS)


def _loss_function(problem: AllenCahn1D):
    eps = torch.tensor(EPS, dtype=torch.float64)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        residual = problem.residual_map(theta, eps)
        return 0.5 * torch.dot(residual, residual)

    return loss


def _state(problem: AllenCahn1D, theta: torch.Tensor, lanczos_steps: int) -> dict:
    """Loss, errors, gradient norm and Lanczos extremes of the Hessian at ``theta``."""
    extremes = hessian_extremes(problem.residual_map, theta, EPS, k=lanczos_steps)
    return {
        "loss": problem.loss(theta, EPS),
        "l2re": problem.l2re(theta, EPS),
        "interface": problem.interface(theta),
        "gradient_norm": float(torch.linalg.vector_norm(grad(_loss_function(problem))(theta))),
        "lanczos_smallest": extremes.smallest,
        "lanczos_largest": extremes.largest,
        "lanczos_negative_count": extremes.negative_count,
        "lanczos_steps": extremes.iterations,
    }


def _common(problem: AllenCahn1D, command: str) -> dict:
    return {
        "problem": "P1 allen-cahn 1d",
        "eps": EPS,
        "network": WIDTHS,
        "weights": problem.model.num_weights,
        "points": int(problem.points.shape[0]),
        "boundary_points": 2,
        "seed": SEED,
        "command": command,
    }


def run_classical(command: str) -> dict:
    """Classical training, then the dense Hessian spectrum and the Lanczos extremes at its end point."""
    problem = build()
    theta0 = problem.model.init(seed=SEED)
    clock = time.perf_counter()
    outcome = run_classical_adam(problem, theta0, PROBLEMS["ac1d"], EPS, BUDGET)
    train_wall = time.perf_counter() - clock
    theta = outcome.theta
    clock = time.perf_counter()
    dense = hessian(_loss_function(problem))(theta)
    eigenvalues = torch.linalg.eigvalsh(dense)
    dense_wall = time.perf_counter() - clock
    scale = float(eigenvalues.abs().max())
    return {
        **_common(problem, command),
        "method": f"classical-adam recipe ({outcome.detail}), then the Hessian at its end point",
        "status": outcome.message,
        "train_wall_s": train_wall,
        **outcome.extra,
        **_state(problem, theta, LANCZOS_END),
        "dense_lambda_min": float(eigenvalues[0]),
        "dense_lambda_max": float(eigenvalues[-1]),
        "dense_negative_count": {f"{rtol:g}": int((eigenvalues < -rtol * scale).sum()) for rtol in RTOL_NEGATIVE},
        "dense_hessian_wall_s": dense_wall,
        "hessian_eigenvalues": eigenvalues.tolist(),
        "wall_s": train_wall + dense_wall,
        "theta": theta.tolist(),
    }


def run_corrector(name: str, start: str, classical: dict, command: str) -> dict:
    """``STEPS`` single iterations of the engine's corrector ``name`` from the start point."""
    problem = build()
    theta = (torch.tensor(classical["theta"], dtype=torch.float64) if start == "classical"
             else problem.model.init(seed=SEED))
    options = Options()
    corrector = corrector_from_options(name, options)
    eps = torch.tensor(EPS, dtype=torch.float64)
    rows = [{"iteration": 0, **_state(problem, theta, LANCZOS_STEP), "wall_s": 0.0, "message": "start"}]
    state, clock = None, time.perf_counter()
    for iteration in range(1, STEPS + 1):
        result = corrector.correct(problem.residual_map, theta, eps, iterations=1, tol=0.0, state=state)
        theta, state = result.theta, result.state
        row = {"iteration": iteration, "wall_s": time.perf_counter() - clock, "message": result.message}
        if not math.isfinite(result.residual_norm):
            rows.append({**row, "loss": math.nan})
            break
        rows.append({**row, **_state(problem, theta, LANCZOS_STEP)})
    return {
        **_common(problem, command),
        "method": f"corrector {name!r} from the "
        + ("classical-adam end point" if start == "classical" else "xavier init"),
        "corrector": name,
        "start": start,
        "rcond": options.rcond if name == "newton" else None,
        "steps": STEPS,
        "loss": rows[-1]["loss"],
        "l2re": rows[-1].get("l2re", math.nan),
        "rows": rows,
        "wall_s": time.perf_counter() - clock,
    }


def run(out: Path, command: str, force: bool = False, starts=STARTS) -> None:
    classical = cached(out / "hessian-classical.json", lambda: run_classical(command), force=force)
    for start in starts:
        for name in CORRECTORS:
            cached(out / f"hessian-{name}-from-{start}.json",
                   lambda: run_corrector(name, start, classical, command), force=force)


def load(out: Path) -> tuple[dict, dict]:
    path = out / "hessian-classical.json"
    classical = read_record(path) if path.exists() else {}
    runs = {(name, start): read_record(p) for start in STARTS for name in CORRECTORS
            if (p := out / f"hessian-{name}-from-{start}.json").exists()}
    return classical, runs


def plot(classical: dict, runs: dict, path: Path) -> None:
    """Hessian spectrum at the classical end point; loss, L2RE and negative curvature by iteration."""
    with harness.figure(path, 1, 4, size=(19, 4), legend=7, grid=True) as (fig, (axes,)):
        if classical:
            ev = torch.tensor(classical["hessian_eigenvalues"])
            axes[0].semilogy(range(1, int((ev > 0).sum()) + 1), sorted(ev[ev > 0].tolist(), reverse=True), ".",
                             ms=3, label="positive eigenvalues")
            axes[0].semilogy(range(1, int((ev < 0).sum()) + 1), sorted((-ev[ev < 0]).tolist(), reverse=True), ".",
                             ms=3, color="C3", label="|negative eigenvalues|")
            axes[0].axhline(RTOL_NEGATIVE[0] * float(ev.abs().max()), color="k", ls=":", lw=0.8,
                            label=f"{RTOL_NEGATIVE[0]:g} max |lambda|")
            axes[0].set(title=f"Hessian after Adam + L-BFGS (P1, eps = {EPS:g})", xlabel="index",
                        ylabel="|eigenvalue|")
        styles = {"newton": "C3", "lm": "C0"}
        for (name, start), r in sorted(runs.items()):
            rows = [row for row in r["rows"] if "l2re" in row]
            it = [row["iteration"] for row in rows]
            ls = "-" if start == "classical" else "--"
            label = f"{name} from {start}"
            axes[1].semilogy(it, [row["loss"] for row in rows], "o" + ls, ms=3, color=styles[name], label=label)
            axes[2].semilogy(it, [row["l2re"] for row in rows], "o" + ls, ms=3, color=styles[name], label=label)
            axes[3].plot(it, [row["lanczos_smallest"] / abs(row["lanczos_largest"]) for row in rows], "o" + ls, ms=3,
                         color=styles[name], label=label)
        axes[1].set(xlabel="corrector iteration", ylabel="loss ||H||^2", title="loss")
        axes[2].set(xlabel="corrector iteration", ylabel="L2RE", title="L2RE")
        axes[3].set(xlabel="corrector iteration", ylabel="lambda_min / lambda_max (Lanczos)",
                    title="most negative curvature, relative")
        axes[3].set_yscale("symlog", linthresh=1e-8)


def _last(r: dict) -> dict:
    """The last row of a run's curve with scores (a non-finite iterate ends the curve early)."""
    return [row for row in r["rows"] if "l2re" in row][-1]


def _columns() -> list[harness.Column]:
    Column = harness.Column

    def change(key: str) -> Callable[[dict], str]:
        return lambda r: f"{r['rows'][0][key]:.2e} -> {_last(r)[key]:.2e}"

    def stop(r: dict) -> str:
        return "" if len(r["rows"]) == STEPS + 1 else f" (non-finite at iteration {r['rows'][-1]['iteration']})"

    return [
        Column("corrector", lambda r: r["key"][0]), Column("start", lambda r: r["key"][1]),
        Column("loss start -> end", lambda r: change("loss")(r) + stop(r)), Column("L2RE start -> end", change("l2re")),
        Column("interface end", lambda r: _last(r)["interface"], ".3f"),
        Column("gradient norm end", lambda r: _last(r)["gradient_norm"]),
        Column("Lanczos lambda_min / lambda_max end",
               lambda r: f"{_last(r)['lanczos_smallest']:.2e} / {_last(r)['lanczos_largest']:.2e}"),
        Column("negative Ritz end", lambda r: _last(r)["lanczos_negative_count"], "d"),
        Column("wall s", lambda r: r["wall_s"], ".0f"),
    ]


def readme_lines(classical: dict, runs: dict) -> list[str]:
    lines = [
        "## (c) The Hessian at the end of plain training, and exact Newton from there (Rowan 2025)",
        "",
    ]
    if not classical:
        return lines + ["not run", ""]
    negatives = classical["dense_negative_count"]
    keys = [(name, start) for start in STARTS for name in CORRECTORS]
    lines += [
        f"P1 at eps = {EPS:g}, MLP {'-'.join(map(str, WIDTHS))} tanh ({classical['weights']} weights), "
        f"{classical['points']} + 2 points, Xavier seed {SEED}; `classical-adam` recipe: {classical['method']}. "
        "Hessian of `||H||^2 / 2`, dense (`torch.func.hessian`, `eigvalsh`) and by Lanczos "
        f"({classical['lanczos_steps']} steps).",
        "",
        "| after classical training | value |",
        "|---|---|",
        f"| loss / L2RE / interface | {classical['loss']:.3e} / {classical['l2re']:.3e} "
        f"/ {classical['interface']:.3f} |",
        f"| gradient norm | {classical['gradient_norm']:.2e} |",
        f"| dense lambda_min / lambda_max | {classical['dense_lambda_min']:.3e} "
        f"/ {classical['dense_lambda_max']:.3e} |",
        f"| negative eigenvalues (dense), below -1e-10 / -1e-6 max abs | {negatives['1e-10']} / {negatives['1e-06']} "
        f"of {classical['weights']} |",
        f"| Lanczos smallest / largest Ritz value | {classical['lanczos_smallest']:.3e} / "
        f"{classical['lanczos_largest']:.3e} |",
        f"| Lanczos negative Ritz values (a lower bound) | {classical['lanczos_negative_count']} |",
        f"| wall s (training / dense Hessian) | {classical['train_wall_s']:.0f} / "
        f"{classical['dense_hessian_wall_s']:.0f} |",
        "",
        f"Then {STEPS} iterations of the engine's correctors (one call each, `corrector_from_options`, default "
        "Options; Newton: exact dense Hessian, truncated pseudo-inverse, full steps):",
        "",
        *harness.table([{**runs[key], "key": key} for key in keys if key in runs], _columns(),
                       not_run=[key for key in keys if key not in runs]),
    ]
    lines += ["", "Figure: `hessian_newton.png`.", ""]
    return lines


def report(out: Path) -> list[str]:
    classical, runs = load(out)
    if classical or runs:
        plot(classical, runs, out / "hessian_newton.png")
    return readme_lines(classical, runs)
