"""P6, Bratu: pseudo-arclength round the fold on finite differences and on a network.

``python -m benchmarks bratu`` writes one JSON per configuration under
``benchmarks/results/bratu/`` (skipped when present), a plot of the branch
(u(1/2) against lam, both branches, the fold marked) and a markdown table.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

import continuation
from continuation.arclength import output_inner_product
from pde import LAMBDA_CRITICAL, BratuFD, BratuNetwork, bratu_exact

from . import harness
from .record import cached

COMMAND = "python -m benchmarks bratu"
FD_OPTIONS = continuation.Options(rcond=1e-12, tol=1e-9, ds_max=0.5)
NETWORK_OPTIONS = continuation.Options(rcond=1e-8, tol=1e-6, ds_max=0.5, max_steps=400)
HALF = torch.tensor([0.5], dtype=torch.float64)


def exact_midpoint(lam: float, branch: str) -> float:
    return float(bratu_exact(HALF, lam, branch)[0])


def _folds(result: continuation.TraceResult) -> dict:
    folds = [e.eps for e in result.events if e.kind == "fold"]
    return {"folds": folds, "fold_relative_error": [abs(f - LAMBDA_CRITICAL) / LAMBDA_CRITICAL for f in folds]}


def run_fd(start: float, n: int = 200) -> dict:
    problem = BratuFD(n)
    began = time.perf_counter()
    result = continuation.trace(problem, torch.zeros(n, dtype=torch.float64), [start, 4.0],
                                method="arclength", options=FD_OPTIONS)
    wall = time.perf_counter() - began
    upper_mid = problem.midpoint(result.theta)
    what = {"problem": "P6 bratu, finite differences", "method": "arclength (lm corrector, euclidean)",
            "eps": start, "points": n, "weights": n, "seed": None, "command": COMMAND}
    return harness.make_record(what, {
        "wall_s": wall, **_folds(result),
        "upper_midpoint": upper_mid,
        "upper_midpoint_exact": exact_midpoint(start, "upper"),
        "upper_midpoint_relative_error": abs(upper_mid / exact_midpoint(start, "upper") - 1),
        "l2re": float(torch.linalg.vector_norm(result.theta - bratu_exact(problem.x, start, "upper"))
                      / torch.linalg.vector_norm(bratu_exact(problem.x, start, "upper"))),
        "loss": result.steps[-1].residual_norm ** 2,
    }, result, branch={"lam": result.eps, "u_half": [problem.midpoint(t) for t in result.thetas]})


def run_network(inner: str, seed: int = 0) -> dict:
    problem = BratuNetwork(n_points=100)
    theta0 = problem.model.init(seed=seed)
    inner_product = output_inner_product(problem.outputs) if inner == "function-space" else None
    began = time.perf_counter()
    result = continuation.trace(problem.residual_map, theta0, [1.0, 4.0], method="arclength",
                                options=NETWORK_OPTIONS, inner_product=inner_product)
    wall = time.perf_counter() - began
    mid = [float(problem.predict(t, HALF[:, None])[0]) for t in result.thetas]
    what = {"problem": "P6 bratu, network u = x(1-x) N(x)", "method": f"arclength (lm corrector, {inner})",
            "eps": 1.0, "points": problem.points.shape[0], "weights": problem.model.num_weights, "seed": seed,
            "command": COMMAND}
    return harness.make_record(what, {
        "wall_s": wall, **_folds(result),
        "l2re_lower_at_1": problem.l2re(result.thetas[0], 1.0, "lower"),
        "l2re_upper_at_1": problem.l2re(result.theta, result.eps[-1], "upper") if result.eps[-1] == 1.0 else math.nan,
        "l2re": problem.l2re(result.theta, result.eps[-1], "upper"),
        "loss": result.steps[-1].residual_norm ** 2,
    }, result, branch={"lam": result.eps, "u_half": mid})


def plot(records: dict, path: Path) -> None:
    t = np.linspace(0.05, 14.0, 800)
    lam = t**2 / (2 * np.cosh(t / 4) ** 2)
    with harness.figure(path, size=(7, 4.5), dpi=120) as (fig, ((ax,),)):
        ax.plot(lam, 2 * np.log(np.cosh(t / 4)), "k-", lw=3, alpha=0.25, label="exact (both branches)")
        styles = {"fd-0.1": ("o", "finite differences, 200 points"),
                  "network-function-space": ("s", "MLP, function-space inner product"),
                  "network-euclidean": ("^", "MLP, euclidean inner product")}
        for name, (marker, label) in styles.items():
            if name in records:
                branch = records[name]["branch"]
                ax.plot(branch["lam"], branch["u_half"], marker=marker, ms=3, lw=0.8, label=label)
        ax.axvline(LAMBDA_CRITICAL, color="r", ls="--", lw=0.8)
        folds = records["fd-0.1"]["folds"]
        ax.plot(folds, [exact_midpoint(LAMBDA_CRITICAL, "lower")] * len(folds), "r*", ms=12,
                label=f"fold found: lam = {folds[0]:.6f}")
        ax.set(xlabel="lam", ylabel="u(1/2)", title="Bratu: u'' + lam e^u = 0, round the fold", xlim=(0, 4),
               ylim=(0, 8))
        ax.legend(fontsize=8)


def _check(name: str, r: dict) -> str:
    """The upper-branch check of a row: the midpoint against the exact one (FD), or the L2RE at lam = 1."""
    if name.startswith("fd"):
        return (f"u(1/2) at lam={r['eps']:g}: {r['upper_midpoint']:.6f} vs {r['upper_midpoint_exact']:.6f} "
                f"(rel {r['upper_midpoint_relative_error']:.1e})")
    lower, upper = (f"{v:.1e}" if v is not None else "none" for v in (r["l2re_lower_at_1"], r["l2re_upper_at_1"]))
    return f"L2RE at lam=1: lower {lower}, upper {upper}" + (
        " (the trace did not reach that branch)" if "none" in (lower, upper) else "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``python -m benchmarks bratu`` has only ``--force`` and ``--out`` (added by :mod:`benchmarks.__main__`)."""


def main(args: argparse.Namespace) -> None:
    """Compute (or load) the four configurations, then the plot and the table."""
    out = harness.out_folder(args, "bratu")
    runs = {
        "fd-0.1": lambda: run_fd(0.1),
        "fd-1.0": lambda: run_fd(1.0),
        "network-function-space": lambda: run_network("function-space"),
        "network-euclidean": lambda: run_network("euclidean"),
    }
    records = {name: {**cached(out / f"{name}.json", run, force=args.force), "name": name}
               for name, run in runs.items()}
    plot(records, out / "bratu_branch.png")
    Column = harness.Column
    columns = [
        Column("configuration", lambda r: r["name"]),
        Column("fold found", lambda r: ", ".join(f"{f:.9f}" for f in r["folds"]) or "none"),
        Column("relative error", lambda r: ", ".join(f"{e:.1e}" for e in r["fold_relative_error"]) or "-"),
        Column("upper-branch check", lambda r: _check(r["name"], r)),
        Column("wall s", lambda r: r["wall_s"], ".1f"),
        Column("steps (acc/rej)", lambda r: f"{r['trace']['accepted']}/{r['trace']['rejected']}"),
    ]
    print(harness.write_page(out, [
        "# P6 Bratu: pseudo-arclength round the fold", "",
        f"Command: `{COMMAND}`. Exact fold lam_c = {LAMBDA_CRITICAL}. One JSON per row.", "",
        *harness.table(list(records.values()), columns),
    ]))
