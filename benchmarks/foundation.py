"""P1 at eps = 0.01: the homotopy against training directly at the target, and Jacobian timing.

One JSON per configuration under ``benchmarks/results/foundation/`` (skipped
when it exists, ``--force`` reruns), then a markdown table of all of them.

* ``homotopy``: :func:`continuation.trace` from eps = 0.5 with the defaults.
* ``direct-adam-lbfgs``: the same network, points and initialisation, trained
  at eps = 0.01 with Adam (lr 1e-3) and then L-BFGS: the PINN recipe.
* ``direct-lm``: Levenberg-Marquardt at eps = 0.01 from the same start.
* ``jacobian``: the Jacobian of P1's residual (1,000 points, 1,951 weights)
  by the pointwise vmap path against ``jacrev`` of the batched residual.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch.func import grad, jacrev

import continuation
from continuation import LBFGS, Adam, LevenbergMarquardt
from pde import AllenCahn1D

from . import harness
from .record import cached

EPS, EPS_START, SEED = 0.01, 0.5, 0


def _metrics(problem: AllenCahn1D, theta: torch.Tensor) -> dict:
    return {
        "l2re": problem.l2re(theta, EPS),
        "interface": problem.interface(theta),
        "loss": problem.loss(theta, EPS),
    }


def p1_fields(problem: AllenCahn1D, method: str, command: str, eps: float = EPS) -> dict:
    """What ran, for a record on P1 (the network's weights and points of ``problem``, seed :data:`SEED`)."""
    return {"problem": "P1 allen-cahn 1d", "method": method, "eps": eps, "weights": problem.model.num_weights,
            "points": problem.points.shape[0], "seed": SEED, "command": command}


def run_homotopy(problem: AllenCahn1D, command: str) -> dict:
    theta0 = problem.model.init(seed=SEED)
    start = time.perf_counter()
    result = continuation.trace(problem.residual_map, theta0, [EPS_START, EPS], progress=True)
    wall = time.perf_counter() - start
    return harness.make_record(p1_fields(problem, "homotopy (euler + lm, adaptive)", command),
                               {**_metrics(problem, result.theta), "wall_s": wall}, result,
                               status=result.status.value)


def run_direct_adam_lbfgs(problem: AllenCahn1D, adam: int, lbfgs: int, command: str) -> dict:
    theta0 = problem.model.init(seed=SEED)
    eps = torch.tensor(EPS, dtype=theta0.dtype)
    start = time.perf_counter()
    after_adam = Adam(lr=1e-3).correct(problem.residual_map, theta0, eps, iterations=adam, tol=0.0)
    adam_wall = time.perf_counter() - start
    after_lbfgs = LBFGS().correct(problem.residual_map, after_adam.theta, eps, iterations=lbfgs, tol=0.0)
    wall = time.perf_counter() - start
    return {
        **p1_fields(problem, f"direct adam ({adam}, lr 1e-3) then l-bfgs ({lbfgs})", command),
        **_metrics(problem, after_lbfgs.theta),
        "wall_s": wall,
        "after_adam": {**_metrics(problem, after_adam.theta), "wall_s": adam_wall},
        "lbfgs_iterations": after_lbfgs.iterations,
    }


def run_direct_lm(problem: AllenCahn1D, iterations: int, command: str) -> dict:
    theta0 = problem.model.init(seed=SEED)
    eps = torch.tensor(EPS, dtype=theta0.dtype)
    start = time.perf_counter()
    report = LevenbergMarquardt().correct(problem.residual_map, theta0, eps, iterations=iterations, tol=0.0)
    wall = time.perf_counter() - start
    return {
        **p1_fields(problem, f"direct lm ({iterations} iterations)", command),
        **_metrics(problem, report.theta),
        "wall_s": wall,
        "iterations": report.iterations,
        "stop": report.message,
    }


def batched_residual(problem: AllenCahn1D):
    """P1's interior residual written the batched way: derivatives of sums over all points."""

    def residual(theta: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        x = problem.points

        def u(x):
            return problem.model.apply(theta, x)[:, 0]

        def u_x(x):
            return grad(lambda y: u(y).sum())(x)[:, 0]

        u_xx = grad(lambda y: u_x(y).sum())(x)[:, 0]
        values = u(x)
        return (eps**2 * u_xx + values - values**3) / x.shape[0] ** 0.5

    return residual


def run_jacobian_timing(problem: AllenCahn1D, command: str, repeats: int = 3) -> dict:
    theta = problem.model.init(seed=SEED)
    eps = torch.tensor(0.05, dtype=theta.dtype)
    interior = problem.residual_map.blocks[0]
    batched = batched_residual(problem)

    def best_of(fn):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - start)
        return min(times), value

    vmap_s, j_vmap = best_of(lambda: interior.jacobian(theta, eps))
    jacrev_s, j_jacrev = best_of(lambda: jacrev(batched)(theta, eps))
    return {
        **p1_fields(problem, "jacobian: vmap over points vs jacrev of batched residual", command),
        "eps": 0.05,
        "shape": list(j_vmap.shape),
        "vmap_s": vmap_s,
        "jacrev_batched_s": jacrev_s,
        "speed_ratio": jacrev_s / vmap_s,
        "max_abs_difference": float((j_vmap - j_jacrev).abs().max()),
        "wall_s": vmap_s + jacrev_s,
        "repeats": repeats,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks foundation`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--adam", type=int, default=10_000, help="Adam iterations of the direct baseline")
    parser.add_argument("--lbfgs", type=int, default=2_000, help="L-BFGS iterations after Adam")
    parser.add_argument("--lm", type=int, default=500, help="iterations of direct LM")


COLUMNS = [harness.Column("method", lambda r: r["method"]), harness.Column("eps", lambda r: r["eps"], "g"),
           *(harness.Column(title, lambda r, key=key: r[key]) for title, key in
             (("L2RE", "l2re"), ("interface", "interface"), ("loss", "loss"))),
           harness.Column("wall s", lambda r: r["wall_s"], ".1f")]


def main(args: argparse.Namespace) -> None:
    """Compute (or load) the four records, then write the table."""
    out = harness.out_folder(args, "foundation")
    command = "python -m benchmarks foundation"
    problem = AllenCahn1D(eps_min=EPS)
    runs = {
        "homotopy": lambda: run_homotopy(problem, command),
        "direct-adam-lbfgs": lambda: run_direct_adam_lbfgs(problem, args.adam, args.lbfgs, command),
        "direct-lm": lambda: run_direct_lm(problem, args.lm, command),
        "jacobian": lambda: run_jacobian_timing(problem, command),
    }
    records = {name: cached(out / f"{name}.json", run, force=args.force) for name, run in runs.items()}
    lines = [
        "# P1 (1D Allen-Cahn) at eps = 0.01: homotopy against direct training",
        "",
        f"Command: `{command}`. Same network (1-30-30-30-1 tanh, 1,951 weights), 1,000 interior points, "
        "seed 0, float64. One JSON per row in this folder.",
        "",
        *harness.table([records[name] for name in ("homotopy", "direct-adam-lbfgs", "direct-lm")], COLUMNS),
    ]
    homotopy = records["homotopy"]["l2re"]
    for name in ("direct-adam-lbfgs", "direct-lm"):
        lines.append(f"\nL2RE ratio {name} / homotopy: {records[name]['l2re'] / homotopy:.3g}")
    timing = records["jacobian"]
    lines += [
        "",
        f"Jacobian {timing['shape'][0]} x {timing['shape'][1]}: vmap over points {timing['vmap_s']:.3f} s, "
        f"jacrev of the batched residual {timing['jacrev_batched_s']:.3f} s, "
        f"ratio {timing['speed_ratio']:.0f}x (max difference {timing['max_abs_difference']:.1e}).",
        "",
    ]
    print(harness.write_page(out, lines))
    print(json.dumps({k: v.get("machine") for k, v in list(records.items())[:1]}, indent=1))
