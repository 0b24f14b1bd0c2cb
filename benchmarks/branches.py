"""Multiple solutions: branch points, branch switching and deflated continuation (issue 21).

``python -m benchmarks branches`` writes one JSON per configuration under
``benchmarks/results/branches/`` (skipped when present), a bifurcation
diagram per configuration (PNG, ``eps`` against the signed RMS norm of ``u``) and a markdown table:

* ``fd-switching-{neumann,dirichlet}``: Chafee-Infante on 200 grid values,
  arclength from ``eps = 0.5`` with branch-point detection and branch
  switching (:func:`continuation.branch_switching_diagram`); the branch
  points against the exact ``1 / (k pi)`` and the discrete values;
* ``fd-defcon-{neumann,dirichlet}``: the same problem by deflated continuation;
* ``network-defcon-{neumann,dirichlet}``: a network by deflated continuation,
  each solution at ``eps = 0.1`` against the finite-difference reference;
* ``network-bratu-deflation``: Bratu's two solutions at ``lam = 2`` from one
  initialisation by deflated continuation (up towards the fold and back).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import continuation  # noqa: E402
from models import MLP  # noqa: E402
from pde import BratuNetwork, ChafeeInfanteFD, ChafeeInfanteNetwork, branch_point, solution_count  # noqa: E402

from .harness import commit_cell  # noqa: E402
from .record import RESULTS, cached, save_figure  # noqa: E402

COMMAND = "python -m benchmarks branches"
DT = torch.float64
TARGET = 0.1
FD_POINTS = 200
REFERENCE_POINTS = 1000
FD_OPTIONS = continuation.Options(tol=1e-9, rcond=1e-12, ds_max=0.02)
# tol 1e-6 ended branches at least-squares floors of the 1-20-20-1 network as eps fell (a floor is not a success):
# the branches are followed to 1e-5 and the solutions at the target polished by POLISH LM iterations
NETWORK_OPTIONS = continuation.Options(tol=1e-5, rcond=1e-10, corrector_iterations=12, final_iterations=100)
POLISH = 200
# the network searches start from each known solution stepped both ways along its smallest near-kernel direction
# (continuation.kernel_seeds): both halves of a pair bifurcating from it; random weight perturbations of the previous
# solutions found one half of some pairs only (6 of 9 Neumann, 6 of 7 Dirichlet solutions). A deflated solve that
# reaches a new branch of the 1-20-20-1 network needs up to 200 LM iterations (100 found the k = 1 pair, not the k = 2
# one). The deflated solve stops on ||M H|| <= tol, and the factor M, a 1/d^2 + 1 per known solution, is large with
# 7 known: each search solve is followed by SEARCH_POLISH LM iterations on the deflated residual normalised at its
# end (find_solutions' polish_iterations). The k = 3 pair exists only below eps_3 = 0.106, at eps = 0.1 with RMS 0.27:
# from its kernel seed the deflated solve reaches its basin in 200 iterations but the network's residual then falls
# by about 2 every 100 iterations (to 3.5e-4 after 400): a search may run SEARCH_ITERATIONS, and is cut once its
# residual has not halved over SEARCH_PATIENCE of them (the searches that lead nowhere, most of the cost). The
# searches run at every other value to keep the cost of the diagram down. The problem is odd in u: the mirror image
# -u of each solution a search finds (the network's last layer negated) is tried as a guess too (symmetries=): from
# its own kernel seed, the solve towards k = 3 + ended at a least-squares floor of the network (||H|| 1.2e-2, 0.004
# RMS from the solution) in a diagnostic, with every damping tried
KERNEL_DIRECTIONS = 1
# the steps along the near-kernel direction form a ladder: at eps = 0.1 (b1af6f2 + the safeguarded prediction,
# a diagnostic from the diagram's states at 0.12) the kernel seeds of u = 0 at 0.1 RMS led to a least-squares floor
# (||H|| 4.5, RMS 1.5) and the seed at 0.3 reached the k = 3 solution (RMS 0.27); 0.1 is what found the others
KERNEL_STEP = (0.1, 0.3)
SEARCH_ITERATIONS = 1000
SEARCH_PATIENCE = 150
SEARCH_POLISH = 50
SEARCH_EVERY = 2
EPS_VALUES = [round(v, 10) for v in np.linspace(0.5, TARGET, 21)]


def smooth_perturbation(x: torch.Tensor, amplitude: float = 0.3, modes: int = 6):
    """``theta + amplitude * sum_k a_k cos(k pi x)``, ``a_k`` standard normal over ``sqrt(k)``: a smooth random
    grid function (white noise on the grid is killed by the first Newton step)."""
    k = torch.arange(1, modes + 1, dtype=DT)
    basis = torch.cos(math.pi * k[:, None] * x[None, :])

    def perturb(theta: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        coefficients = torch.randn(modes, generator=generator, dtype=DT) / k.sqrt()
        return theta + amplitude * coefficients @ basis

    return perturb


def _distances(states: list[torch.Tensor], outputs: Callable) -> dict[str, Any]:
    """The smallest RMS distance between two of the solutions (no duplicate when it is well above 0)."""
    values = [outputs(s) for s in states]
    pairs = [float(continuation.rms_distance(a, b)) for i, a in enumerate(values) for b in values[i + 1:]]
    return {"min_pairwise_rms_distance": min(pairs) if pairs else None}


def _cost(diagram: continuation.BifurcationDiagram) -> dict[str, Any]:
    return {"wall_s": diagram.wall_time, "corrector_iterations": diagram.corrector_iterations,
            "failed_search_iterations": diagram.failed_search_iterations, "searches": diagram.searches,
            "jacobian_evaluations": diagram.jacobian_evaluations, "branches": len(diagram.branches)}


def _branches(diagram: continuation.BifurcationDiagram, measure: Callable) -> list[dict[str, Any]]:
    """Each branch as ``eps`` and the measure plotted (:func:`signed_norm`) at its points."""
    return [{"eps": list(b.eps), "measure": [measure(t) for t in b.thetas], "status": b.status.value,
             "found_by": b.steps[0].reason, "events": [{"kind": e.kind, "eps": e.eps} for e in b.events]}
            for b in diagram.branches]


def signed_norm(u: torch.Tensor) -> float:
    """``sign(u(0+)) ||u||_rms``: the y axis of the diagrams (``u(0) = 0`` under Dirichlet conditions)."""
    return float(torch.sign(u[0]) * continuation.rms_distance(u, torch.zeros_like(u)))


def _fd_starts(problem: ChafeeInfanteFD) -> list[torch.Tensor]:
    """Three guesses at ``eps = 0.5``: 0 and a smooth random function of each sign."""
    perturb = smooth_perturbation(problem.x, amplitude=0.8)
    generator = torch.Generator().manual_seed(1)
    zero = torch.zeros(problem.n, dtype=DT)
    return [zero] + [sign * perturb(zero, generator).abs() for sign in (1, -1)]


def run_fd(boundary: str, method: str) -> dict[str, Any]:
    problem = ChafeeInfanteFD(FD_POINTS, boundary)
    starts = _fd_starts(problem) if boundary == "neumann" else [torch.zeros(problem.n, dtype=DT)]
    if method == "switching":
        diagram = continuation.branch_switching_diagram(problem, starts, [0.5, TARGET], options=FD_OPTIONS)
    else:
        diagram = continuation.deflated_continuation(
            problem, starts, EPS_VALUES, options=FD_OPTIONS.replace(ds_max=0.1), search_iterations=100,
            perturbation=smooth_perturbation(problem.x), perturbations=2)
    solutions = diagram.solutions_at(TARGET)
    found = sorted(float(e.eps) for b in diagram.branches for e in b.events if e.kind == "branch_point")
    discrete = problem.branch_points(3)
    record = {
        "problem": f"chafee-infante {boundary}, finite differences", "method": method, "eps": TARGET,
        "points": FD_POINTS, "weights": FD_POINTS, "seed": None, "command": COMMAND, **_cost(diagram),
        "eps_values": list(diagram.eps_values),
        "solutions_at_target": len(solutions), "expected_at_target": solution_count(TARGET, boundary),
        "measure_at_target": sorted(signed_norm(s) for s in solutions),
        **_distances(solutions, lambda s: s),
        "branch_points_found": found,
        "branch_points_discrete": discrete,
        "branch_points_exact": [branch_point(k) for k in (1, 2, 3)],
        "grid_relative_error": [d / branch_point(k) - 1 for k, d in enumerate(discrete, start=1)],
        "diagram": _branches(diagram, signed_norm),
        "summary": diagram.summary(),
    }
    if method == "switching":  # each branch point once, from the trivial branch (the others have none)
        distinct = sorted({round(e, 9) for e in found})
        record["branch_points_relative_error_to_discrete"] = [
            min(abs(f / d - 1) for f in distinct) for d in discrete]
        record["branch_points_relative_error_to_exact"] = [
            min(abs(f * k * math.pi - 1) for f in distinct) for k in (1, 2, 3)]
    return record


def reference_solutions(boundary: str) -> tuple[ChafeeInfanteFD, list[torch.Tensor]]:
    """The solutions at the target on a fine grid: the FD diagram's, interpolated and corrected by LM."""
    coarse = ChafeeInfanteFD(FD_POINTS, boundary)
    fine = ChafeeInfanteFD(REFERENCE_POINTS, boundary)
    diagram = continuation.branch_switching_diagram(coarse, _fd_starts(coarse) if boundary == "neumann" else
                                                    [torch.zeros(coarse.n, dtype=DT)], [0.5, TARGET],
                                                    options=FD_OPTIONS)
    lm, eps = continuation.LevenbergMarquardt(), torch.tensor(TARGET, dtype=DT)
    return fine, [lm.correct(fine, coarse.interpolate(s, fine.x), eps, iterations=50, tol=1e-9).theta
                  for s in diagram.solutions_at(TARGET)]


def polish(residual: continuation.ResidualMap, states: list[torch.Tensor], eps: float,
           outputs: Callable) -> list[continuation.CorrectorResult]:
    """``POLISH`` Levenberg-Marquardt iterations at ``eps`` from each state, deflated by the others
    (:func:`continuation.polish_solutions`: an undeflated polish pulled a small k = 3 solution onto another one)."""
    return continuation.polish_solutions(residual, states, eps, options=continuation.Options(tol=1e-9),
                                         iterations=POLISH, outputs=outputs)


def run_network(boundary: str, seed: int = 0) -> dict[str, Any]:
    problem = ChafeeInfanteNetwork(boundary, model=MLP([1, 20, 20, 1]), n_points=100)
    theta0 = problem.model.init(seed=seed)
    generator = torch.Generator().manual_seed(seed + 1)
    guesses = [theta0, problem.model.init(generator=generator)]
    began = time.perf_counter()
    diagram = continuation.deflated_continuation(
        problem.residual_map, guesses, EPS_VALUES, outputs=problem.outputs, options=NETWORK_OPTIONS,
        search_iterations=SEARCH_ITERATIONS, search_patience=SEARCH_PATIENCE, polish_iterations=SEARCH_POLISH,
        search_every=SEARCH_EVERY, perturbations=0, symmetries=[problem.mirror],
        kernel_directions=KERNEL_DIRECTIONS, kernel_step=KERNEL_STEP, seed=seed,
        progress=lambda eps, live: print(f"  eps = {eps:.3f}: {live} branches, {time.perf_counter() - began:.0f} s",
                                         flush=True))
    fine, references = reference_solutions(boundary)
    found = diagram.solutions_at(TARGET)
    polished = polish(problem.residual_map, found, TARGET, problem.outputs)
    solutions = [r.theta for r in polished]
    x = problem.test_points[:, 0]
    rows = []
    for theta, before, report in zip(solutions, found, polished):
        u = problem.predict(theta, problem.test_points).detach()
        distances = [float(continuation.rms_distance(u, fine.interpolate(r, x))) for r in references]
        nearest = int(np.argmin(distances))
        rows.append({"u0": float(u[0]), "nearest_reference": nearest,
                     "l2re": problem.l2re_against(theta, fine, references[nearest]),
                     "l2re_before_polish": problem.l2re_against(before, fine, references[nearest]),
                     "polish": report.message,
                     "residual_norm": float(torch.linalg.vector_norm(
                         problem.residual_map(theta, torch.tensor(TARGET, dtype=DT))))})
    matched = sorted({r["nearest_reference"] for r in rows})
    return {
        "problem": f"chafee-infante {boundary}, network u = {'N(cos pi x)' if boundary == 'neumann' else 'x(1-x) N(x)'}",
        "method": f"deflated continuation (lm, natural continuation of branches, tol {NETWORK_OPTIONS.tol:g}; "
                  f"searches from each known solution +- {' and '.join(f'{size:g}' for size in KERNEL_STEP)} (RMS) "
                  f"along its {KERNEL_DIRECTIONS} near-kernel direction(s), up to {SEARCH_ITERATIONS} deflated LM iterations a search (cut when the "
                  f"residual has not halved over {SEARCH_PATIENCE}) + {SEARCH_POLISH} normalised deflated ones, at "
                  f"every {SEARCH_EVERY}nd value; the mirror image -u of each new solution tried too), "
                  f"then {POLISH} LM iterations at the target, each solution deflated by the others", "eps": TARGET,
        "points": problem.points.shape[0], "weights": problem.model.num_weights, "seed": seed, "command": COMMAND,
        **_cost(diagram), "eps_values": list(diagram.eps_values),
        "solutions_at_target": len(solutions), "expected_at_target": solution_count(TARGET, boundary),
        "distinct_references_matched": len(matched),
        "solutions": sorted(rows, key=lambda r: r["u0"]),
        "max_l2re": max((r["l2re"] for r in rows), default=None),
        **_distances(solutions, problem.outputs),
        "reference": f"finite differences on {REFERENCE_POINTS} points (the 200-point diagram's solutions, corrected)",
        "diagram": _branches(diagram, lambda t: signed_norm(problem.outputs(t))),
        "summary": diagram.summary(),
    }


BRATU_PATH = [2.0, 2.5, 3.0, 3.3, 3.45, 3.5, 3.45, 3.3, 3.0, 2.5, 2.0]
"""Up towards the fold, where the two solutions are close, and back: deflated continuation over this path."""


def run_bratu(seed: int = 0, lam: float = 2.0) -> dict[str, Any]:
    problem = BratuNetwork(n_points=100)
    theta0 = problem.model.init(seed=seed)
    options = NETWORK_OPTIONS
    began = time.perf_counter()
    # a direct deflated solve at lam = 2 from the initialisation finds the lower solution, then nothing: the
    # upper one lies beyond a wall of large residuals; near the fold the two are close, so the path goes there
    diagram = continuation.deflated_continuation(
        problem.residual_map, [theta0], BRATU_PATH, outputs=problem.outputs, options=options,
        search_iterations=100, perturbation=0.1, perturbations=3, seed=seed,
        progress=lambda eps, live: print(f"  lam = {eps:.3f}: {live} branches, {time.perf_counter() - began:.0f} s",
                                         flush=True))
    finals = [b.theta for b in diagram.branches if b.success and b.eps[-1] == lam]
    polished = [r.theta for r in polish(problem.residual_map, finals, lam, problem.outputs)]
    rows = [{"branch": problem.branch_of(t, lam), "l2re": problem.l2re(t, lam), "l2re_before_polish":
             problem.l2re(f, lam), "residual_norm": float(torch.linalg.vector_norm(
                 problem.residual_map(t, torch.tensor(lam, dtype=DT))))} for t, f in zip(polished, finals)]
    return {
        "problem": "P6 bratu, network u = x(1-x) N(x)",
        "method": f"deflated continuation (lm, tol {NETWORK_OPTIONS.tol:g}) from one initialisation over lam = "
                  f"{BRATU_PATH}, then {POLISH} LM iterations at lam = 2, each solution deflated by the other",
        "eps": lam, "points": problem.points.shape[0], "weights": problem.model.num_weights, "seed": seed,
        "command": COMMAND, **_cost(diagram), "wall_s": time.perf_counter() - began,
        "solutions_at_target": len(finals), "expected_at_target": 2,
        "solutions": rows, "max_l2re": max((r["l2re"] for r in rows), default=None),
        **_distances(polished, problem.outputs),
        "diagram": _branches(diagram, lambda t: float(problem.predict(t, torch.tensor([[0.5]], dtype=DT))[0])),
        "summary": diagram.summary(),
    }


def plot(name: str, record: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for branch in record["diagram"]:
        ax.plot(branch["eps"], branch["measure"], ".-", ms=2, lw=1)
    bratu = name.startswith("network-bratu")
    for k in () if bratu else (1, 2, 3):
        ax.axvline(branch_point(k), color="0.6", ls=":", lw=0.8)
    for e in record.get("branch_points_found", []):
        ax.plot([e], [0.0], "r*", ms=9)
    ax.set(xlabel="lam" if bratu else "eps", ylabel="u(1/2)" if bratu else "sign(u(0+)) ||u||",
           title=f"{'Bratu' if bratu else 'Chafee-Infante'}, {name}: {record['solutions_at_target']} solutions at "
                 f"{'lam' if bratu else 'eps'} = {record['eps']:g}")
    save_figure(fig, path, dpi=110)


def add_arguments(parser) -> None:
    """The options of ``python -m benchmarks branches`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--only", nargs="+", default=None,
                        choices=("fd-switching-neumann", "fd-switching-dirichlet", "fd-defcon-neumann",
                                 "fd-defcon-dirichlet", "network-bratu-deflation", "network-defcon-neumann",
                                 "network-defcon-dirichlet"), help="configurations to run (default: all)")


def main(args) -> None:
    out = Path(args.out) if args.out else RESULTS / "branches"
    runs = {
        "fd-switching-neumann": lambda: run_fd("neumann", "switching"),
        "fd-switching-dirichlet": lambda: run_fd("dirichlet", "switching"),
        "fd-defcon-neumann": lambda: run_fd("neumann", "defcon"),
        "fd-defcon-dirichlet": lambda: run_fd("dirichlet", "defcon"),
        "network-bratu-deflation": run_bratu,
        "network-defcon-neumann": lambda: run_network("neumann"),
        "network-defcon-dirichlet": lambda: run_network("dirichlet"),
    }
    for name in args.only or list(runs):
        print(f"{name} ...", flush=True)
        record = cached(out / f"{name}.json", runs[name], force=args.force)
        plot(name, record, out / f"{name}.png")
    # the table holds every configuration that has a record, run now or before
    records = {name: json.loads((out / f"{name}.json").read_text()) for name in runs
               if (out / f"{name}.json").exists()}
    lines = [
        "# Multiple solutions: branch points, branch switching, deflated continuation", "",
        f"Command: `{COMMAND}`. One JSON per row; the target is eps = {TARGET:g} (lam = 2 for Bratu).", "",
        "| configuration | solutions found / expected | min distance between two | max L2RE | wall s | "
        "corrector iterations | branches | commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in records.items():
        l2re = f"{r['max_l2re']:.1e}" if r.get("max_l2re") is not None else "-"
        distance = r.get("min_pairwise_rms_distance")
        distance = f"{distance:.3f}" if distance is not None else "-"
        lines.append(f"| {name} | {r['solutions_at_target']} / {r['expected_at_target']} | {distance} | {l2re} | "
                     f"{r['wall_s']:.1f} | {r['corrector_iterations']} | {r.get('branches', '-')} | "
                     f"{commit_cell(r)} |")
    lines += ["", "Branch points of u = 0 found by `BranchPointTest` (200 grid values), against the discrete values "
              "h / (2 sin(k pi h / 2)) and the exact 1 / (k pi) (the difference of the last two is the grid's error):",
              "", "| configuration | k | found | discrete | relative error to discrete | exact | grid's relative error |",
              "|---|---|---|---|---|---|---|"]
    for name, r in records.items():
        for k, (found, discrete, exact, error, grid) in enumerate(zip(
                sorted(r.get("branch_points_found", []), reverse=True), r.get("branch_points_discrete", []),
                r.get("branch_points_exact", []), r.get("branch_points_relative_error_to_discrete", []),
                r.get("grid_relative_error", [])), start=1):
            lines.append(f"| {name} | {k} | {found:.10f} | {discrete:.10f} | {error:.1e} | {exact:.10f} | {grid:.1e} |")
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
