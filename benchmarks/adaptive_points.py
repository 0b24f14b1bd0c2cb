"""``python -m benchmarks adaptive-points``: collocation points that follow the path (issue 20, item 3).

P1 (1D Allen-Cahn, interface of width ``eps`` at 0) traced with the library
defaults from ``eps = 0.5`` to the target, the same network and initial
weights, on

``uniform-N``
    ``N`` uniform points, fixed (the catalogue's layout);
``rad-N``
    ``N`` points drawn again by RAD (:class:`pde.AdaptivePoints`, ``k = c =
    1``) each time ``eps`` has halved, the trace correcting again on the new
    points;
``rad-mirror-N``
    the same with the symmetry ``x -> -x`` kept (``symmetry``): ``N / 2``
    points drawn, the other half their mirror images;
``shishkin-N``
    ``N`` points of a Shishkin grid (:func:`pde.sampling.layer_grid`, half
    the points within :func:`pde.sampling.shishkin_width` of the interface,
    ``scale = eps / sqrt(2)``, ``sigma = 2``, at most 0.5) placed again
    each time ``eps`` has halved (:class:`pde.ScheduledPoints`).

A configuration may also set engine options (``Options``): ``-log-``
configurations step in ``log eps`` (``parametrization="log"``), at most by
the factor ``e^0.5`` (``ds_max=0.5``), rather than by at most 0.1 in
``eps``; the others run the defaults.

The interface (the root of the network farthest from 0) is recorded at
every accepted point (``interface_path``). Every trace gets the same
validation residual, the equation on 2,000 fresh
uniform points (``trace(..., validation=...)``), so that the status says when
the points do not resolve the solution. Each configuration writes one JSON
(skipped when it exists), then the table ``README.md``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, Callable

from torch import Tensor

import continuation
from models import MLP
from pde import AdaptivePoints, AllenCahn1D, ScheduledPoints, sampling

from . import harness, record

START = 0.5
VALIDATION_POINTS = 2_000
CONFIGURATIONS = {  # name: (target eps, layout, points, engine options other than the defaults)
    "uniform-200-eps0.01": (0.01, "uniform", 200, {}),
    "rad-200-eps0.01": (0.01, "rad", 200, {}),
    "uniform-1000-eps0.01": (0.01, "uniform", 1000, {}),
    "uniform-1000-eps0.001": (0.001, "uniform", 1000, {}),
    "rad-1000-eps0.001": (0.001, "rad", 1000, {}),
    "rad-mirror-1000-eps0.001": (0.001, "rad-mirror", 1000, {}),
    "shishkin-1000-eps0.001": (0.001, "shishkin", 1000, {}),
    "shishkin-2000-eps0.001": (0.001, "shishkin", 2000, {}),
    "uniform-2000-eps0.001": (0.001, "uniform", 2000, {}),
    "uniform-1000-log-eps0.001": (0.001, "uniform", 1000, {"parametrization": "log", "ds_max": 0.5}),
    "shishkin-1000-log-eps0.001": (0.001, "shishkin", 1000, {"parametrization": "log", "ds_max": 0.5}),
}


def shishkin_layout(points: int) -> Callable[[float], Tensor]:
    """P1's Shishkin grid of ``points`` points as a function of ``eps``: the layout of ``shishkin-N``."""
    def layout(eps: float) -> Tensor:
        width = sampling.shishkin_width(eps / math.sqrt(2.0), points, cap=0.5)
        return sampling.layer_grid(-1.0, 1.0, points, center=0.0, width=width)
    return layout


def residual_map(problem: AllenCahn1D, layout: str, points: int, seed: int) -> continuation.ResidualMap:
    """The residual the trace follows for ``layout`` (``"uniform"``, ``"rad"``, ``"rad-mirror"`` or ``"shishkin"``)."""
    if layout == "uniform":
        return problem.residual_map
    if layout == "shishkin":
        grid = shishkin_layout(points)
        problem.move_points(grid(START))
        return ScheduledPoints(problem, grid, every=0.5)
    return AdaptivePoints(problem, every=0.5, seed=seed, symmetry=(lambda x: -x) if layout == "rad-mirror" else None)


def run_configuration(name: str, seed: int = 0) -> dict[str, Any]:
    """Trace P1 for the configuration ``name`` and score it: the JSON record (without the machine)."""
    eps, layout, points, options = CONFIGURATIONS[name]
    problem = AllenCahn1D(MLP([1, 30, 30, 30, 1]), eps_min=eps, n_points=points)
    validation = problem.on_interior_points(problem.uniform_points(VALIDATION_POINTS, seed=10_007))
    residual = residual_map(problem, layout, points, seed)
    theta0 = problem.model.init(seed=seed)
    clock = time.perf_counter()
    result = continuation.trace(residual, theta0, [START, eps], validation=validation,
                                options=continuation.Options(**options),
                                diagnostics={"interface": lambda _, theta, eps: problem.interface(theta)})
    wall = time.perf_counter() - clock
    accepted = [s for s in result.steps if s.accepted]
    what = {"problem": "ac1d", "configuration": name, "layout": layout, "points": points, "eps": eps, "seed": seed,
            "weights": int(theta0.numel()), "validation_points": VALIDATION_POINTS, "options": options,
            "command": f"python -m benchmarks adaptive-points --only {name}" + (f" --seed {seed}" if seed else "")}
    metrics = {"l2re": problem.l2re(result.theta, eps), "interface": problem.interface(result.theta),
               "validation_norm": accepted[-1].validation_norm if accepted else None,
               "residual_norm": accepted[-1].residual_norm if accepted else None, "wall_s": wall}
    return harness.make_record(what, metrics, result, status=result.status.value,
                               draws=getattr(residual, "draws", 0), theta=result.theta.tolist(),
                               interface_path=[[d["eps"], d["interface"]] for d in result.diagnostics])


def write_table(out: Path, records: list[dict[str, Any]]) -> str:
    """``out/README.md`` from ``records``; returns its text."""
    Column = harness.Column
    columns = [
        Column("configuration", lambda r: r["configuration"]), Column("seed", lambda r: r["seed"], "d"),
        Column("eps", lambda r: r["eps"], "g"),
        Column("points", lambda r: r["points"], "d"), Column("draws", lambda r: r["draws"], "d"),
        Column("L2RE", lambda r: r["l2re"]), Column("interface", lambda r: r["interface"]),
        Column("||H||", lambda r: r["residual_norm"]), Column("validation residual", lambda r: r["validation_norm"]),
        Column("status", lambda r: r["status"]),
        Column("bound", lambda r: (r["trace"]["conditioning"] or {}).get("bound")),
        *harness.trace_columns(wall_spec=".0f"),
    ]
    return harness.write_page(out, [
        "# P1 with points that follow the path against fixed uniform points",
        "",
        "Command: `python -m benchmarks adaptive-points [--seed K]`. Layouts: `uniform` fixed; `rad` drawn again by "
        "RAD each time eps has halved; `rad-mirror` the same with half the points drawn and half their mirror "
        "images (`AdaptivePoints(symmetry=...)`); `shishkin` a Shishkin grid, half the points within "
        "2 (eps / sqrt 2) ln N of the interface, placed again each time eps has halved (`ScheduledPoints`, "
        "`pde.sampling.layer_grid`). Library defaults from eps = 0.5, 1-30-30-30-1 network, "
        "the same initial weights per seed; bound: the first-order error bound of `continuation.conditioning`; "
        "validation: the equation on 2,000 fresh uniform points at every accepted "
        "point (`trace(..., validation=...)`); status `under_resolved` when it exceeds tol and 10 ||H|| at the "
        "end, `ill_conditioned` when the equations do not pin the solution (P1's interface: see "
        "docs/reliability.md). Wall times on a shared 2-core machine (load in each JSON).",
        "",
        *harness.table(records, columns),
    ])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks adaptive-points`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--only", nargs="+", choices=list(CONFIGURATIONS), default=None,
                        help="configurations to run (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the network and the draws (default 0)")


def file_name(name: str, seed: int) -> str:
    """The JSON of configuration ``name`` with ``seed``: ``name.json`` for seed 0, else ``name_seedK.json``."""
    return f"{name}.json" if seed == 0 else f"{name}_seed{seed}.json"


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the configurations one at a time (each skipped when its JSON exists), then write the table."""
    out = harness.out_folder(args, "adaptive_points")
    if args.seed < 0:
        raise SystemExit(f"--seed must be a non-negative integer, got {args.seed}")
    records = [record.cached(out / file_name(name, args.seed),
                             lambda name=name: run_configuration(name, args.seed), force=args.force)
               for name in args.only or CONFIGURATIONS]
    every = [record.read_record(path) for name in CONFIGURATIONS
             for path in [out / f"{name}.json", *sorted(out.glob(f"{name}_seed*.json"))]
             if path.exists()]  # the table holds every configuration and seed run so far
    print(write_table(out, every))
    return records
