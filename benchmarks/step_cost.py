"""P3 cost of one continuation step as the dimension grows (the d = 100 stretch of the suite).

For the Helmholtz problem of ``python -m benchmarks run helmholtz`` (same
network, point counts and seed) in each dimension ``d``, the wall time of the
pieces a step of ``ours`` is made of, each the median of ``--repeats`` calls
at the network's initial weights:

* ``residual``: one evaluation of ``H(theta, eps)`` (a corrector's trial step);
* ``linearize``: ``H`` and its Jacobian ``J`` (vmap over the pointwise residual,
  Taylor-mode Laplacian);
* ``predictor``: the Euler tangent ``-J^+ dH/deps`` (Jacobian, ``dH/deps``,
  truncated pseudo-inverse);
* ``damped_solve``: one Levenberg-Marquardt solve from ``J`` (Gram matrix and
  Cholesky factor);
* ``pinv_gelsd`` and ``pinv_svd``: the predictor's truncated pseudo-inverse
  solve alone, by LAPACK's ``gelsd`` (the engine's choice on the CPU) and by
  an explicit SVD, on the same ``J`` (their ratio is the speed-up of the
  engine's choice);

and ``step_estimate_s`` = predictor + ``corrector_iterations`` x (linearize +
damped solve + residual), the cost of a step that uses the default corrector
budget. The matrix-free path (``Options(linear_solver="cg")``) beside it:

* ``cg_damped_solve``: one Levenberg-Marquardt solve without ``J`` (the
  Nystrom sketch of ``J^T J`` and preconditioned conjugate gradients, products
  by ``jvp`` / ``vjp``), with its CG iterations, the relative residual of the
  normal equations it reached (``cg_tol``) and its difference from the dense
  solve (which the conditioning of ``J^T J + mu I`` can make larger than the
  residual);
* ``cg_predictor``: the Euler tangent without ``J`` (Tikhonov in place of
  the truncated SVD), with its difference from the dense tangent;

and the memory each path holds: the dense Jacobian (``M P`` floats) against
the sketch (``P`` times the sketch rank). One JSON per (d, eps) under
``benchmarks/results/step-cost/``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable

import torch

from continuation import EulerPredictor, Options
from continuation.linalg import DampedLeastSquares, MatrixFreeLeastSquares, pinv_solve

from . import harness
from .record import cached
from .run import DEFAULT_WIDTHS, PROBLEMS

COMMAND = "python -m benchmarks step-cost"


def median_time(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``call()`` over ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(d: int, eps: float, repeats: int, seed: int = 0, tiny: bool = False) -> dict:
    """The cost of the pieces of one step of ``ours`` on P3 in dimension ``d`` at ``eps``.

    ``tiny`` uses the smoke-test point counts of ``python -m benchmarks run --budget small``.
    """
    problem = PROBLEMS["helmholtz"].build(eps, d, seed, DEFAULT_WIDTHS, tiny, None)
    residual_map = problem.residual_map
    theta = problem.model.init(seed=seed)
    eps_t = torch.tensor(eps, dtype=theta.dtype)
    options = Options()
    predictor = EulerPredictor(options.rcond)
    residual, jacobian = residual_map.linearize(theta, eps_t)
    velocity_rhs = residual_map.eps_derivative(theta, eps_t)

    def damped_solve() -> torch.Tensor:
        solver = DampedLeastSquares(jacobian, residual)
        return solver.step(options.lm_mu * solver.scale)

    matrix_free = Options(linear_solver="cg")
    free_predictor = EulerPredictor.from_options(matrix_free)

    def cg_damped_solve() -> tuple[torch.Tensor, MatrixFreeLeastSquares]:
        value, jvp, vjp = residual_map.products(theta, eps_t)
        solver = MatrixFreeLeastSquares(jvp, vjp, value, theta.numel(), matrix_free.sketch_rank, matrix_free.cg_tol,
                                        matrix_free.cg_maxiter)
        return solver.step(options.lm_mu * solver.scale), solver

    pieces = {
        "residual": median_time(lambda: residual_map(theta, eps_t), repeats),
        "linearize": median_time(lambda: residual_map.linearize(theta, eps_t), repeats),
        "predictor": median_time(lambda: predictor.velocity(residual_map, theta, eps_t, None), repeats),
        "damped_solve": median_time(damped_solve, repeats),
        "pinv_gelsd": median_time(lambda: pinv_solve(jacobian, velocity_rhs, options.rcond, "gelsd"), repeats),
        "pinv_svd": median_time(lambda: pinv_solve(jacobian, velocity_rhs, options.rcond, "svd"), repeats),
        "cg_damped_solve": median_time(cg_damped_solve, repeats),
        "cg_predictor": median_time(lambda: free_predictor.velocity(residual_map, theta, eps_t, None), repeats),
    }
    free_step, free_solver = cg_damped_solve()
    dense_step = damped_solve()
    dense_velocity = predictor.velocity(residual_map, theta, eps_t, None)
    free_velocity = free_predictor.velocity(residual_map, theta, eps_t, None)
    bytes_per_float = torch.finfo(theta.dtype).bits // 8
    iteration = pieces["linearize"] + pieces["damped_solve"] + pieces["residual"]
    gelsd = pinv_solve(jacobian, velocity_rhs, options.rcond, "gelsd")
    svd = pinv_solve(jacobian, velocity_rhs, options.rcond, "svd")
    return {
        "problem": f"P3 helmholtz d={d}",
        "method": "ours (cost of one step)",
        "d": d,
        "eps": eps,
        "weights": problem.model.num_weights,
        "network": problem.model.widths,
        "points": problem.points.shape[0],
        "boundary_points": problem.boundary_points.shape[0],
        "jacobian_shape": list(jacobian.shape),
        "seed": seed,
        "repeats": repeats,
        "seconds": pieces,
        "corrector_iterations": options.corrector_iterations,
        "lm_iteration_s": iteration,
        "step_estimate_s": pieces["predictor"] + options.corrector_iterations * iteration,
        "svd_over_gelsd": pieces["pinv_svd"] / pieces["pinv_gelsd"],
        "gelsd_svd_difference": float(torch.linalg.vector_norm(gelsd - svd) / torch.linalg.vector_norm(svd)),
        "cg_iterations": free_solver.iterations,
        "cg_relative_residual": free_solver.relative_residual,
        "cg_step_difference": float(torch.linalg.vector_norm(free_step - dense_step)
                                    / torch.linalg.vector_norm(dense_step)),
        "cg_predictor_difference": float(torch.linalg.vector_norm(free_velocity - dense_velocity)
                                         / torch.linalg.vector_norm(dense_velocity)),
        "memory_bytes": {"jacobian": jacobian.numel() * bytes_per_float,
                         "sketch": theta.numel() * matrix_free.sketch_rank * bytes_per_float},
        "command": f"{COMMAND} --d {d} --eps {eps:g} --repeats {repeats}",
    }


def _matrix_free(r: dict) -> list[str]:
    """The matrix-free cells of a row (``-`` for a row made before they were measured)."""
    s = r["seconds"]
    if "cg_damped_solve" not in s:
        return ["-", "-", "-"]
    return [f"{s['cg_damped_solve']:.3g} ({r['cg_iterations']}, {r['cg_step_difference']:.1e})",
            f"{s['cg_predictor']:.3g} ({r['cg_predictor_difference']:.1e})",
            f"{r['memory_bytes']['jacobian'] / 1e6:.1f} / {r['memory_bytes']['sketch'] / 1e6:.1f}"]


def _columns() -> list[harness.Column]:
    Column = harness.Column
    seconds = [Column(f"{title} s", lambda r, key=key: r["seconds"][key], ".3g")
               for title, key in (("residual", "residual"), ("linearize", "linearize"), ("predictor", "predictor"),
                                  ("damped solve", "damped_solve"))]
    matrix_free = [Column(title, lambda r, k=k: _matrix_free(r)[k]) for k, title in enumerate(
        ("matrix-free LM solve s (CG its, diff)", "matrix-free predictor s (diff)", "memory J / sketch MB"))]
    return [
        Column("d", lambda r: r["d"], "d"), Column("eps", lambda r: r["eps"], "g"),
        Column("weights", lambda r: r["weights"], ","),
        Column("points (interior + boundary)", lambda r: f"{r['points']:,} + {r['boundary_points']:,}"),
        *seconds, Column("LM iteration s", lambda r: r["lm_iteration_s"], ".3g"),
        Column("step (8 LM iterations) s", lambda r: r["step_estimate_s"], ".3g"),
        Column("pinv: SVD / gelsd", lambda r: f"{r['seconds']['pinv_svd']:.3g} / {r['seconds']['pinv_gelsd']:.3g} s "
                                              f"({r['svd_over_gelsd']:.1f}x)"),
        *matrix_free, Column("load", lambda r: r["machine"]["load_average"][0], ".1f"),
    ]


def write_table(out: Path, records: list[dict]) -> str:
    """``README.md`` of the step-cost folder: one row per record, sorted by ``d``."""
    lines = [
        "# P3: cost of one continuation step against the dimension",
        "",
        f"Made by `{COMMAND}` (one JSON per row; medians of repeated calls at the initial weights, one torch "
        "thread). A step of `ours` is one predictor and up to `corrector_iterations` LM iterations "
        "(linearize + damped solve + trial residual). Last columns: the predictor's truncated pseudo-inverse "
        "solve by an explicit SVD and by LAPACK's gelsd (the engine's choice), same matrix, same run; the "
        "matrix-free solves (`linear_solver=\"cg\"`, Nystrom sketch of rank 50) with their relative difference from "
        "the dense ones (`-`: a row made before they were measured).",
        "",
        *harness.table(sorted(records, key=lambda r: (r["d"], -r["eps"])), _columns()),
    ]
    return harness.write_page(out, lines)


def check_arguments(args) -> None:
    """Refuse bad arguments before any work, naming the argument and the value."""
    if any(d < 1 for d in args.d):
        raise SystemExit(f"--d: dimensions must be positive integers, got {args.d}")
    if any(not 0.0 < eps <= 1.0 for eps in args.eps):
        raise SystemExit(f"--eps: values must lie in (0, 1] (the homotopy starts at 1), got {args.eps}")
    if args.repeats < 1:
        raise SystemExit(f"--repeats: must be at least 1, got {args.repeats}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks step-cost`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--d", type=int, nargs="+", default=[2, 10, 100], help="dimensions")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.5], help="eps of the problem measured")
    parser.add_argument("--repeats", type=int, default=3, help="calls per piece (the median is kept)")
    parser.add_argument("--budget", choices=("full", "small"), default="full",
                        help="small: the smoke-test point counts of `run --budget small`")


def main(args: argparse.Namespace) -> list[dict]:
    """``python -m benchmarks step-cost``: measure each (d, eps) not on disk, then write the table."""
    check_arguments(args)
    torch.set_num_threads(1)
    tiny = args.budget == "small"
    out = harness.out_folder(args, "step-cost", "small" if tiny else "")
    records = [
        cached(
            out / f"helmholtz_d{d}_eps{eps:g}.json",
            lambda d=d, eps=eps: {**measure(d, eps, args.repeats, tiny=tiny), "budget": args.budget},
            args.force,
        )
        for d in args.d
        for eps in args.eps
    ]
    print(write_table(out, records))
    return records
