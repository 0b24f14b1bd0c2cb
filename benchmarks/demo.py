"""``make demo``: trace P1 (1D Allen-Cahn) from eps = 0.5 to 0.01 with the default method.

Prints the per-eps table (eps, L2RE, interface, loss), writes a plot of the
solution path and a JSON record to ``--out``: by default ``demo-output/`` in
the working directory, which git ignores, so that a first ``make demo`` leaves
the work tree clean. The reference run committed under
``benchmarks/results/demo/`` was written with ``--out benchmarks/results/demo``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from matplotlib import colormaps

import continuation
from pde import AllenCahn1D

from . import harness
from .record import write_json

EPS_START, EPS_TARGET, SEED = 0.5, 0.01, 0
DEFAULT_OUT = Path("demo-output")
"""Where ``make demo`` writes, relative to the working directory (ignored by git)."""


def path_table(problem: AllenCahn1D, result: continuation.TraceResult) -> list[dict]:
    """L2RE, interface and loss at every accepted eps."""
    return [
        {
            "eps": eps,
            "l2re": problem.l2re(theta, eps),
            "interface": problem.interface(theta),
            "loss": problem.loss(theta, eps),
        }
        for eps, theta in zip(result.eps, result.thetas)
    ]


def plot_path(problem: AllenCahn1D, result: continuation.TraceResult, rows: list[dict], path: Path) -> None:
    """Solutions along the path (left) and L2RE against eps (right)."""
    x = problem.test_points
    shown = sorted(set(range(0, len(result.eps), max(1, len(result.eps) // 6))) | {len(result.eps) - 1})
    with harness.figure(path, 1, 2, size=(11, 4), dpi=120) as (fig, ((left, right),)):
        colors = colormaps["viridis"]([i / max(1, len(shown) - 1) for i in range(len(shown))])
        with torch.no_grad():
            for color, i in zip(colors, shown):
                eps = result.eps[i]
                left.plot(x[:, 0], problem.predict(result.thetas[i], x), color=color, label=f"eps = {eps:.3g}")
                left.plot(x[:, 0], problem.exact(x, eps), color="k", lw=0.6, ls="--")
        left.set(xlabel="x", ylabel="u", title="P1 solution path (dashed: exact)")
        left.legend(fontsize=8)
        right.loglog([r["eps"] for r in rows], [r["l2re"] for r in rows], "o-", ms=3)
        right.invert_xaxis()
        right.set(xlabel="eps", ylabel="L2RE", title="relative L2 error along the path")
        right.grid(True, which="both", alpha=0.3)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``python -m benchmarks demo`` has only ``--out`` (added by :mod:`benchmarks.__main__`)."""


def main(args: argparse.Namespace) -> dict:
    """Trace P1, print the per-eps table, write the plot and the record to ``--out`` (default :data:`DEFAULT_OUT`)."""
    out = Path(args.out) if args.out else DEFAULT_OUT
    problem = AllenCahn1D(eps_min=EPS_TARGET)
    theta0 = problem.model.init(seed=SEED)
    print(
        f"P1 Allen-Cahn 1D: {problem.model}, {problem.points.shape[0]} interior points; "
        f"tracing eps {EPS_START} -> {EPS_TARGET} (Euler predictor, LM corrector, adaptive)"
    )
    start = time.perf_counter()
    # fresh points the corrector never sees: the end status says whether the collocation points resolve it
    result = continuation.trace(problem.residual_map, theta0, [EPS_START, EPS_TARGET], progress=True,
                                validation=problem.validation_map())
    wall = time.perf_counter() - start
    rows = path_table(problem, result)
    print(f"\n{'eps':>10} {'L2RE':>10} {'interface':>11} {'loss':>10}")
    for r in rows:
        print(f"{r['eps']:>10.5f} {r['l2re']:>10.2e} {r['interface']:>11.2e} {r['loss']:>10.2e}")
    print(f"\n{result.status.value}: {result.message}")
    print(
        f"accepted {result.accepted}, rejected {result.rejected}, corrector iterations "
        f"{result.corrector_iterations}, Jacobians {result.jacobian_evaluations}, trace wall time {wall:.1f} s"
    )
    out.mkdir(parents=True, exist_ok=True)
    plot_path(problem, result, rows, out / "p1_path.png")
    record = harness.make_record(
        {"command": "make demo  (python -m benchmarks demo)", "out": str(out), "problem": "P1 allen-cahn 1d",
         "method": "ours: natural continuation, euler predictor, lm corrector, adaptive", "eps": EPS_TARGET,
         "weights": problem.model.num_weights, "points": problem.points.shape[0], "seed": SEED},
        {**{key: rows[-1][key] for key in ("l2re", "interface", "loss")}, "wall_s": wall},
        result, options=continuation.Options().__dict__, path=rows,
    )
    write_json(out / "p1_demo.json", record)
    print(f"wrote {out / 'p1_path.png'} and {out / 'p1_demo.json'}")
    return record
