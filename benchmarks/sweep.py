"""``python -m benchmarks sweep``: the configurations of ``run`` over seeds, eps and methods, on Ray.

Each configuration (problem, eps, method, seed, widths, budget) is one Ray
task with one torch thread (``OMP_NUM_THREADS=1`` in its runtime
environment): it writes its JSON when it finishes and is skipped when its JSON
exists, so a sweep stopped anywhere is resumed by running the same command;
``ours`` resumes a long trace from its checkpoint. ``ray.init()`` starts a
local cluster inside the process by default (nothing to start by hand);
``--address`` joins a running cluster. Without Ray (``pip install .[sweep]``)
the sweep runs its configurations in order in this process, and says so.

The table (``README.md`` of the output folder, the same folder as ``run``'s)
gains a section with the median and range over seeds of every (method, eps).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from tqdm.auto import tqdm

from . import harness
from .run import (
    BUDGETS, DEFAULT_WIDTHS, PROBLEMS, Job, check_device, check_eps, command_line, load_records, methods_for,
    record_name, report, run_configuration,
)

__all__ = ["add_arguments", "configurations", "execute", "seed_table", "main"]

ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command line of ``python -m benchmarks sweep``."""
    parser.add_argument("problem", choices=sorted(PROBLEMS), help="problem of the catalogue")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (network and points)")
    parser.add_argument("--eps", type=float, nargs="+", default=None, help="target eps values (default: the catalogue's)")
    parser.add_argument("--methods", nargs="+", default=None, help="methods of `run` (default: all that apply)")
    parser.add_argument("--widths", type=int, nargs="+", default=list(DEFAULT_WIDTHS), help="hidden layer widths")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="full", help="small: the smoke budget")
    add_ray_arguments(parser)


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the configurations run: ``--address``, ``--cpus``, ``--serial`` (also for ``verify``)."""
    parser.add_argument("--address", default=None, help="join a running Ray cluster (default: a local one)")
    parser.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray cluster (default: all)")
    parser.add_argument("--serial", action="store_true", help="run in order in this process, without Ray")


def configurations(args: argparse.Namespace) -> tuple[Path, list[Job]]:
    """The output folder and the jobs of ``args``, checked before any work."""
    spec = PROBLEMS[args.problem]
    if not args.seeds or min(args.seeds) < 0:
        raise SystemExit(f"--seeds must be non-negative integers, got {args.seeds}")
    if not args.widths or min(args.widths) < 1:
        raise SystemExit(f"--widths must be positive integers, got {args.widths}")
    if args.cpus is not None and args.cpus < 1:
        raise SystemExit(f"--cpus must be a positive integer, got {args.cpus}")
    methods = args.methods or methods_for(args.problem)
    unknown = sorted(set(methods) - set(methods_for(args.problem)))
    if unknown:
        raise SystemExit(f"--methods {unknown} do not apply to {args.problem}; choose from {methods_for(args.problem)}")
    eps_values = list(args.eps) if args.eps else list(spec.targets)
    check_eps(args.problem, eps_values)
    device = str(args.device)
    check_device(methods, device)
    budget = BUDGETS[args.budget]
    out = harness.out_folder(args, args.problem, "small" if budget.tiny else "")
    d = 2 if args.problem == "helmholtz" else None
    found = []
    for seed in args.seeds:
        configs = [harness.Config(args.problem, method, eps, seed, tuple(args.widths), None, budget.name, d)
                   for eps in eps_values for method in methods]
        command = command_line(configs, device=device)
        found += [Job(c, command, out / record_name(c), args.force, device=device) for c in configs]
    return out, found


def _in_order(configurations: list[Job], bar: tqdm) -> list[bool]:
    outcomes = []
    for configuration in configurations:
        outcomes.append(run_configuration(configuration))
        bar.update()
    return outcomes


def _on_ray(configurations: list[Job], address: Optional[str], cpus: Optional[int], bar: tqdm) -> list[bool]:
    import ray

    # workers import `benchmarks` from the repository (it is not installed); one torch thread each
    env = {"OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    runtime_env: dict[str, Any] = {"env_vars": env}
    if address is not None:  # a remote cluster gets the code itself, not the results or the environment
        runtime_env["working_dir"] = str(ROOT)
        runtime_env["excludes"] = [".git", ".venv", "benchmarks/results", "docs/_build"]
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=cpus if address is None else None, include_dashboard=False,
                 log_to_driver=False, runtime_env=runtime_env)
    try:
        task = ray.remote(num_cpus=1)(run_configuration)
        pending = {task.remote(c): i for i, c in enumerate(configurations)}
        outcomes: list[bool] = [False] * len(configurations)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for reference in done:
                outcomes[pending.pop(reference)] = ray.get(reference)
                bar.update()
        return outcomes
    finally:
        if started_here:
            ray.shutdown()


def execute(configurations: list[Job], *, address: Optional[str] = None, cpus: Optional[int] = None,
            serial: bool = False, say: Callable[[str], None] = print) -> list[bool]:
    """Run the configurations (skipping those with a JSON) on Ray, or in order; ``True`` where each succeeded."""
    bar = tqdm(total=len(configurations), desc="configurations", unit="cfg")
    try:
        if serial:
            return _in_order(configurations, bar)
        try:
            import ray  # noqa: F401
        except ImportError:
            say(f"ray is not installed (pip install .[sweep]): running the {len(configurations)} configurations "
                "in order in this process")
            return _in_order(configurations, bar)
        return _on_ray(configurations, address, cpus, bar)
    finally:
        bar.close()


def seed_table(records: list[dict[str, Any]]) -> str:
    """Median [min, max] over seeds of L2RE and wall time, per (method, eps), as markdown."""
    Column = harness.Column
    columns = [Column("method", lambda r: r["method"]), Column("eps", lambda r: r["eps"], "g"),
               Column("seeds", lambda r: r["seed"], "d", listed=True), Column("L2RE", lambda r: r.get("l2re")),
               Column("wall s", lambda r: r.get("wall_s"), ".1f"), Column("status", lambda r: r.get("status"))]
    ordered = sorted(records, key=lambda r: (r["eps"], r["method"], r["seed"]))
    lines = ["## Over seeds", "", "Median [min, max] over the seeds of each (method, eps) on disk.", "",
             *harness.table(ordered, columns, group=lambda r: (r["method"], r["eps"]))]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the sweep, then write the table (rows, and medians over seeds) and the plot."""
    out, found = configurations(args)
    start = time.perf_counter()
    outcomes = execute(found, address=args.address, cpus=args.cpus, serial=args.serial)
    print(f"sweep of {len(found)} configurations: {time.perf_counter() - start:.1f} s")
    records = report(out, args.problem, ["", seed_table(load_records(out))]) if out.exists() else []
    failures = [f"{j.config.method} at eps = {j.config.eps:g}, seed {j.config.seed}"
                for j, ok in zip(found, outcomes) if not ok]
    if failures:
        raise SystemExit(f"failed (no JSON written): {', '.join(failures)}")
    return records


def run_sweep(argv: Sequence[str]) -> list[dict[str, Any]]:
    """``main`` from command-line words (for tests)."""
    from .__main__ import main as command_line_main

    return command_line_main(["sweep", *argv])
