"""The cost of one continuation step as the dimension (P3) and the network (P1) grow.

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

Against the network size (``--width``): P1 with :data:`SIZE_POINTS` points at
eps = :data:`SIZE_EPS` and the network 1-w-w-w-1 (w = 30, 98, 222: about 2e3,
2e4 and 1e5 weights), one JSON per (width, solver), each measured in a fresh
process (:func:`measure_size`) so that its peak resident memory is the step's
own: the residual, the predictor, one LM solve (linearization and damped
solve) and the step estimate, with :class:`Step`. ``--trace-width`` then runs
a whole trace from eps = 0.5 to ``--trace-eps`` at that width with each
``--solver`` (:func:`trace_size`). ``--device`` places the networks and points.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import torch

from continuation import EulerPredictor, Options, ResidualMap
from continuation.linalg import DampedLeastSquares, MatrixFreeLeastSquares, pinv_solve
from models import MLP
from pde import AllenCahn1D

from . import harness, record
from .record import cached
from .run import BUDGETS, DEFAULT_WIDTHS, PROBLEMS, run_ours

T = TypeVar("T")

COMMAND = "python -m benchmarks step-cost"


def median_time(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``call()`` over ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_bytes() -> int:
    """The peak resident memory of this process so far, in bytes (``ru_maxrss``: kibibytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def in_fresh_process(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` in a fresh interpreter (spawn), so that its :func:`peak_rss_bytes` is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(call, *args).result()


@dataclass
class Step:
    """The pieces of one step of ``ours`` at ``(theta, eps)`` with one linear solver.

    A step is one Euler predictor and up to ``corrector_iterations`` LM iterations, each a
    linearization (the Jacobian ``J``, or the ``jvp`` / ``vjp`` products and their sketch),
    one damped solve and a trial residual; the medians of ``repeats`` calls.
    """

    residual_map: ResidualMap
    theta: torch.Tensor
    eps: torch.Tensor
    options: Options
    repeats: int

    def damped_solve(self) -> tuple[torch.Tensor, Any]:
        """The LM step at ``mu = lm_mu * scale`` and the solver that made it (with its counters)."""
        options, theta, eps = self.options, self.theta, self.eps
        if options.linear_solver == "dense":
            residual, jacobian = self.residual_map.linearize(theta, eps)
            solver = DampedLeastSquares(jacobian, residual)
        else:
            value, jvp, vjp = self.residual_map.products(theta, eps)
            solver = MatrixFreeLeastSquares(jvp, vjp, value, theta.numel(), options.sketch_rank, options.cg_tol,
                                            options.cg_maxiter)
        return solver.step(options.lm_mu * solver.scale), solver

    def velocity(self) -> torch.Tensor:
        """The Euler predictor's tangent."""
        return EulerPredictor.from_options(self.options).velocity(self.residual_map, self.theta, self.eps, None)

    def seconds(self) -> dict[str, float]:
        """``residual``, ``predictor`` and ``lm_solve`` (linearization and damped solve), ``lm_iteration``
        (``lm_solve`` + ``residual``) and ``step`` (predictor + ``corrector_iterations`` iterations)."""
        pieces = {
            "residual": median_time(lambda: self.residual_map(self.theta, self.eps), self.repeats),
            "predictor": median_time(self.velocity, self.repeats),
            "lm_solve": median_time(self.damped_solve, self.repeats),
        }
        iteration = pieces["lm_solve"] + pieces["residual"]
        return {**pieces, "lm_iteration": iteration,
                "step": pieces["predictor"] + self.options.corrector_iterations * iteration}

    def held_bytes(self, rows: int) -> int:
        """What the linear solver holds: the Jacobian (``rows`` x P floats) or the sketch (P x rank)."""
        columns = rows if self.options.linear_solver == "dense" else self.options.sketch_rank
        return self.theta.numel() * columns * (torch.finfo(self.theta.dtype).bits // 8)


def measure(d: int, eps: float, repeats: int, seed: int = 0, tiny: bool = False, device: str = "cpu") -> dict:
    """The cost of the pieces of one step of ``ours`` on P3 in dimension ``d`` at ``eps``.

    ``tiny`` uses the smoke-test point counts of ``python -m benchmarks run --budget small``.
    """
    problem = PROBLEMS["helmholtz"].build(eps, d, seed, DEFAULT_WIDTHS, tiny, None, device=device)
    residual_map = problem.residual_map
    theta = problem.model.init(seed=seed)
    eps_t = torch.tensor(eps, dtype=theta.dtype, device=theta.device)
    options = Options()
    predictor = EulerPredictor(options.rcond)
    residual, jacobian = residual_map.linearize(theta, eps_t)
    velocity_rhs = residual_map.eps_derivative(theta, eps_t)

    def damped_solve() -> torch.Tensor:
        solver = DampedLeastSquares(jacobian, residual)
        return solver.step(options.lm_mu * solver.scale)

    matrix_free = Step(residual_map, theta, eps_t, Options(linear_solver="cg"), repeats)
    pieces = {
        "residual": median_time(lambda: residual_map(theta, eps_t), repeats),
        "linearize": median_time(lambda: residual_map.linearize(theta, eps_t), repeats),
        "predictor": median_time(lambda: predictor.velocity(residual_map, theta, eps_t, None), repeats),
        "damped_solve": median_time(damped_solve, repeats),
        "pinv_gelsd": median_time(lambda: pinv_solve(jacobian, velocity_rhs, options.rcond, "gelsd"), repeats),
        "pinv_svd": median_time(lambda: pinv_solve(jacobian, velocity_rhs, options.rcond, "svd"), repeats),
        "cg_damped_solve": median_time(matrix_free.damped_solve, repeats),
        "cg_predictor": median_time(matrix_free.velocity, repeats),
    }
    free_step, free_solver = matrix_free.damped_solve()
    dense_step = damped_solve()
    dense_velocity = predictor.velocity(residual_map, theta, eps_t, None)
    free_velocity = matrix_free.velocity()
    iteration = pieces["linearize"] + pieces["damped_solve"] + pieces["residual"]
    gelsd = pinv_solve(jacobian, velocity_rhs, options.rcond, "gelsd")
    svd = pinv_solve(jacobian, velocity_rhs, options.rcond, "svd")
    return {
        "problem": f"P3 helmholtz d={d}",
        "method": "ours (cost of one step)",
        "d": d,
        "eps": eps,
        "device": str(theta.device),
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
        "memory_bytes": {"jacobian": Step(residual_map, theta, eps_t, options, repeats).held_bytes(jacobian.shape[0]),
                         "sketch": matrix_free.held_bytes(jacobian.shape[0])},
        "command": f"{COMMAND} --d {d} --eps {eps:g} --repeats {repeats} --width --device {theta.device}",
    }


SOLVERS = ("dense", "cg")
"""The linear solvers compared (``Options(linear_solver=...)``)."""

SIZE_POINTS = 1_000
"""Interior collocation points of the network-size rows (P1)."""

SIZE_EPS = 0.5
"""The eps of the network-size rows: the start of P1's homotopy."""


def p1_problem(width: int, device: str) -> AllenCahn1D:
    """P1 with :data:`SIZE_POINTS` points and the network 1-``width``-``width``-``width``-1 on ``device``."""
    return AllenCahn1D(MLP([1, width, width, width, 1], device=device), n_points=SIZE_POINTS)


def measure_size(width: int, solver: str, repeats: int, device: str, seed: int = 0) -> dict:
    """The cost and peak memory of one step of ``ours`` on P1 at ``eps`` = :data:`SIZE_EPS` with ``solver``.

    Run it in a fresh process (:func:`in_fresh_process`): ``peak_rss_bytes`` is then the peak of
    this step's pieces over the interpreter, torch and the problem (``baseline_rss_bytes``, before them).
    """
    torch.set_num_threads(1)
    problem = p1_problem(width, device)
    theta = problem.model.init(seed=seed)
    step = Step(problem.residual_map, theta, torch.tensor(SIZE_EPS, dtype=theta.dtype, device=theta.device),
                Options(linear_solver=solver), repeats)
    baseline = peak_rss_bytes()
    seconds = step.seconds()
    _, linear = step.damped_solve()
    rows = problem.points.shape[0] + problem.boundary_points.shape[0]
    return {
        "problem": "P1 ac1d", "method": "ours (cost of one step)", "solver": solver, "eps": SIZE_EPS,
        "device": str(theta.device), "weights": problem.model.num_weights, "network": problem.model.widths,
        "points": problem.points.shape[0], "boundary_points": problem.boundary_points.shape[0],
        "seed": seed, "repeats": repeats, "seconds": seconds,
        "corrector_iterations": step.options.corrector_iterations,
        "cg_iterations": getattr(linear, "iterations", None),
        "held_bytes": step.held_bytes(rows), "baseline_rss_bytes": baseline, "peak_rss_bytes": peak_rss_bytes(),
        "command": f"{COMMAND} --d --width {width} --solver {solver} --repeats {repeats} --device {device}",
    }


def trace_size(width: int, solver: str, target: float, max_wall_s: Optional[float], device: str,
               checkpoint: Path, seed: int = 0) -> dict:
    """``ours`` on P1 with the network of :func:`p1_problem` from eps = 0.5 to ``target`` with ``solver``.

    Run it in a fresh process (:func:`in_fresh_process`) for its peak memory. The trace keeps a
    checkpoint and stops at ``max_wall_s`` as ``python -m benchmarks run`` does
    (:func:`benchmarks.run.run_ours`); after a resume, the peak memory is that of the last process.
    """
    torch.set_num_threads(1)
    problem = p1_problem(width, device)
    theta0 = problem.model.init(seed=seed)
    budget = replace(BUDGETS["full"], ours=Options(linear_solver=solver))
    clock = time.perf_counter()
    outcome = run_ours(problem, theta0, PROBLEMS["ac1d"], target, budget, checkpoint, max_wall_s)
    what = {"problem": "P1 ac1d", "method": "ours (whole trace)", "solver": solver, "eps": target,
            "device": str(theta0.device), "weights": problem.model.num_weights, "network": problem.model.widths,
            "points": problem.points.shape[0], "boundary_points": problem.boundary_points.shape[0], "seed": seed}
    metrics = {"l2re": problem.l2re(outcome.theta, target), "loss": problem.loss(outcome.theta, target),
               "wall_s": time.perf_counter() - clock + outcome.earlier_wall_s, "peak_rss_bytes": peak_rss_bytes()}
    wall = "" if max_wall_s is None else f" --max-wall-s {max_wall_s:g}"
    return harness.make_record(
        what, metrics, outcome.trace, status=outcome.status, message=outcome.message, **outcome.extra,
        command=f"{COMMAND} --d --width --trace-width {width} --solver {solver} --trace-eps {target:g}{wall} "
                f"--device {device}",
    )


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


def _size_columns() -> list[harness.Column]:
    Column = harness.Column
    seconds = [Column(f"{title} s", lambda r, key=key: r["seconds"][key], ".3g")
               for title, key in (("residual", "residual"), ("predictor", "predictor"),
                                  ("LM solve (linearize + solve)", "lm_solve"), ("LM iteration", "lm_iteration"),
                                  ("step (8 LM iterations)", "step"))]
    return [
        Column("weights", lambda r: r["weights"], ","), Column("solver", lambda r: r["solver"]),
        Column("points (interior + boundary)", lambda r: f"{r['points']:,} + {r['boundary_points']:,}"),
        *seconds, Column("CG its (one LM solve)", lambda r: r["cg_iterations"], "d"),
        Column("J / sketch MB", lambda r: r["held_bytes"] / 1e6, ".1f"),
        Column("peak RSS MB (before the step)",
               lambda r: f"{r['peak_rss_bytes'] / 1e6:,.0f} ({r['baseline_rss_bytes'] / 1e6:,.0f})"),
        Column("device", lambda r: r["device"]), Column("load", lambda r: r["machine"]["load_average"][0], ".1f"),
    ]


def _trace_columns() -> list[harness.Column]:
    Column = harness.Column
    return [
        Column("weights", lambda r: r["weights"], ","), Column("solver", lambda r: r["solver"]),
        Column("eps", lambda r: f"{SIZE_EPS:g} -> {r['eps']:g}"),
        Column("L2RE", lambda r: r["l2re"]), Column("status", lambda r: r["status"]),
        Column("reached eps", lambda r: r["trace"]["eps"][-1] if r["trace"]["eps"] else None, "g"),
        Column("steps acc/rej", lambda r: f"{r['trace']['accepted']}/{r['trace']['rejected']}"),
        Column("wall s", lambda r: r["wall_s"], ".0f"),
        Column("peak RSS MB", lambda r: r["peak_rss_bytes"] / 1e6, ",.0f"),
        Column("device", lambda r: r["device"]), Column("load", lambda r: r["machine"]["load_average"][0], ".1f"),
    ]


def write_table(out: Path, records: list[dict]) -> str:
    """``README.md`` of the step-cost folder: the dimension rows (P3, by ``d``), the network-size rows (P1,
    by weights and solver) and the whole traces."""
    dims = sorted((r for r in records if "d" in r), key=lambda r: (r["d"], -r["eps"]))
    sizes = sorted((r for r in records if "solver" in r and "trace" not in r),
                   key=lambda r: (r["weights"], r["solver"]))
    traces = [r for r in records if "trace" in r]
    lines = [
        "# Cost of one continuation step against the dimension and the network size",
        "",
        f"Made by `{COMMAND}` (one JSON per row; medians of repeated calls at the initial weights, one torch "
        "thread; see each JSON for its command). A step of `ours` is one predictor and up to "
        "`corrector_iterations` LM iterations (linearize + damped solve + trial residual). The machine has 2 "
        "cores shared with other work: a load above 2 inflates the wall times.",
    ]
    if dims:
        lines += [
            "",
            "### P3 against the dimension",
            "",
            "Last columns: the predictor's truncated pseudo-inverse "
            "solve by an explicit SVD and by LAPACK's gelsd (the engine's choice), same matrix, same run; the "
            "matrix-free solves (`linear_solver=\"cg\"`, Nystrom sketch of rank 50) with their relative difference "
            "from the dense ones (`-`: a row made before they were measured).",
            "",
            *harness.table(dims, _columns()),
        ]
    if sizes:
        lines += [
            "",
            "### P1 against the network size, dense against matrix-free",
            "",
            f"P1 (1D Allen-Cahn) at eps = {SIZE_EPS:g} with {SIZE_POINTS:,} interior points and the network "
            "1-w-w-w-1, each solver in a fresh process: `dense` forms `J` (LM by the smaller Gram matrix and a "
            "Cholesky factor, the predictor by LAPACK's gelsd), `cg` never does (`jvp` / `vjp`, Nystrom sketch "
            "of rank 50, preconditioned CG). LM solve: the linearization and one damped solve. Peak RSS: "
            "`ru_maxrss` of that process, which includes the interpreter, torch and the problem (the figure "
            "in brackets, before the step's pieces ran).",
            "",
            *harness.table(sizes, _size_columns()),
        ]
    if traces:
        lines += [
            "",
            "### P1: whole traces at the largest network",
            "",
            "`ours` with its default options but the linear solver, from eps = 0.5 to the target, in a fresh "
            "process (peak RSS: `ru_maxrss` of that process); wall time over all pieces of a resumed trace.",
            "",
            *harness.table(traces, _trace_columns()),
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
    if any(w < 1 for w in args.width):
        raise SystemExit(f"--width: widths must be positive integers, got {args.width}")
    if args.trace_width is not None and args.trace_width < 1:
        raise SystemExit(f"--trace-width: must be a positive integer, got {args.trace_width}")
    if not 0.0 < args.trace_eps < SIZE_EPS:
        raise SystemExit(f"--trace-eps: must lie in (0, {SIZE_EPS:g}), got {args.trace_eps}")
    if args.max_wall_s is not None and not args.max_wall_s > 0:
        raise SystemExit(f"--max-wall-s: must be a positive number of seconds, got {args.max_wall_s}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks step-cost`` (``--force``, ``--out``, ``--device``:
    :mod:`benchmarks.__main__`)."""
    parser.add_argument("--d", type=int, nargs="*", default=[2, 10, 100],
                        help="dimensions of the P3 rows (none: no P3 row)")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.5], help="eps of the P3 rows")
    parser.add_argument("--width", type=int, nargs="*", default=[30, 98, 222],
                        help="hidden width w of the P1 rows, network 1-w-w-w-1 (default: about 2e3, 2e4 and 1e5 "
                             "weights; none: no P1 row)")
    parser.add_argument("--solver", nargs="+", choices=SOLVERS, default=["dense", "cg"],
                        help="linear solvers of the P1 rows and of --trace-width")
    parser.add_argument("--repeats", type=int, default=3, help="calls per piece (the median is kept)")
    parser.add_argument("--budget", choices=("full", "small"), default="full",
                        help="small: the smoke-test point counts of `run --budget small` (P3 rows)")
    parser.add_argument("--trace-width", type=int, default=None,
                        help="also trace P1 from eps = 0.5 to --trace-eps with this width and each --solver")
    parser.add_argument("--trace-eps", type=float, default=0.05, help="target of --trace-width")
    parser.add_argument("--max-wall-s", type=float, default=None,
                        help="wall-time budget of a --trace-width trace (it keeps a checkpoint and resumes)")


def main(args: argparse.Namespace) -> list[dict]:
    """``python -m benchmarks step-cost``: measure each configuration not on disk, then write the table."""
    check_arguments(args)
    torch.set_num_threads(1)
    tiny = args.budget == "small"
    out = harness.out_folder(args, "step-cost", "small" if tiny else "")
    device = str(args.device)
    for d in args.d:
        for eps in args.eps:
            cached(out / f"helmholtz_d{d}_eps{eps:g}.json",
                   lambda d=d, eps=eps: {**measure(d, eps, args.repeats, tiny=tiny, device=device),
                                         "budget": args.budget},
                   args.force)
    for width in args.width:
        for solver in args.solver:
            cached(out / f"ac1d_w{width}_{solver}.json",
                   lambda width=width, solver=solver: in_fresh_process(measure_size, width, solver, args.repeats,
                                                                       device),
                   args.force)
    if args.trace_width is not None:
        for solver in args.solver:
            path = out / f"ac1d_w{args.trace_width}_{solver}_trace_eps{args.trace_eps:g}.json"
            checkpoint = record.checkpoint_path(path, args.force)
            cached(path, lambda solver=solver: in_fresh_process(trace_size, args.trace_width, solver, args.trace_eps,
                                                               args.max_wall_s, device, checkpoint),
                   args.force)
    records = harness.load_records(out)
    print(write_table(out, records))
    return records
