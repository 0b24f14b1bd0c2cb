"""Natural continuation asked to go past a fold, on a network problem written as a user would write it.

Usage (from the repository root): ``python benchmarks/results/bratu/natural-past-fold/run_past_fold.py``.

Bratu ``u'' + lam e^u = 0`` on (0, 1), ``u(0) = u(1) = 0`` (no solution above ``lam_c = 3.513830719``), with a
``torch.nn`` network 1-20-20-1 (seed 0), 60 interior grid points and a Dirichlet block, as in ``docs/guide.md``;
``continuation.trace(residual, theta0, [0.5, 4.0])`` with the library defaults, then the same with
``method="arclength"`` (``max_steps = 200``). Along the natural trace it measures, every tenth accepted point, the
range defect of the Euler predictor, ``rho = ||J v + dH/dlam|| / ||dH/dlam||`` with ``v = -J^+ dH/dlam`` (truncated
SVD, ``rcond = 1e-4``, weight space): how much of the change of the problem the network's first-order change cannot
follow. For comparison, ``rho`` at every accepted point of the default traces of the eight 1D problems of the
generalization suite (``python -m benchmarks generalization``, full budget, seed 0), and at the points of the
committed checkpoint of the P2 flow-sign time homotopy at eps = 0.02 (``../../ac2d-flow/budget-evidence/budget-30/``;
the finite-difference path exists there, no fold). Writes ``past_fold.json`` in this folder (about 15 minutes).
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
import models  # noqa: E402
from benchmarks import generalization, record, run  # noqa: E402
from continuation.linalg import pinv_solve  # noqa: E402
from pde import boundary, calculus, sampling  # noqa: E402

HERE = Path(__file__).resolve().parent
SUITE_1D = ["cd-one", "rd-two", "turning-point", "ac-offcentre", "burgers", "bratu", "troesch", "fit"]
LAM_C = 3.513830719125162
FLOW_CHECKPOINT = HERE.parent.parent / "ac2d-flow" / "budget-evidence" / "budget-30" / \
    "ac2d-flow_eps0.02_ours_seed0.checkpoint.pt"


def bratu():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 20), torch.nn.Tanh(), torch.nn.Linear(20, 20), torch.nn.Tanh(),
                              torch.nn.Linear(20, 1)).double()
    model = models.from_module(net)

    def u(theta, x):
        return model.apply(theta, x)[0]

    def interior(theta, x, lam):
        return calculus.laplacian(lambda y: u(theta, y))(x) + lam * torch.exp(u(theta, x))

    points = sampling.grid([0.0], [1.0], 60, interior=True)
    ends = sampling.box_boundary([0.0], [1.0], 2)
    residual = continuation.StackedResidual([continuation.PointwiseResidual(interior, points),
                                             boundary.dirichlet(u, 0.0, ends)])
    return residual, model.init()


def range_defects(residual, eps_values, thetas, rcond=1e-4):
    """``[(eps, rho, ||H||)]`` at the given points."""
    rows = []
    for eps, theta in zip(eps_values, thetas):
        e = torch.as_tensor(float(eps), dtype=theta.dtype)
        jacobian, derivative = residual.jacobian(theta, e), residual.eps_derivative(theta, e)
        v = -pinv_solve(jacobian, derivative, rcond)
        rows.append({"eps": float(eps), "rho": float((jacobian @ v + derivative).norm() / derivative.norm()),
                     "residual_norm": float(residual(theta, e).norm())})
    return rows


def summary(result, wall):
    accepted = [step for step in result.steps if step.accepted]
    return {"status": result.status.value, "message": result.message, "last_eps": float(result.eps[-1]),
            "steps_accepted": len(accepted) - 1, "steps_rejected": sum(not s.accepted for s in result.steps),
            "corrector_iterations": result.corrector_iterations, "wall_s": wall,
            "events": [{"kind": e.kind, "eps": e.eps} for e in result.events],
            "path": [{"eps": s.eps, "residual_norm": s.residual_norm, "criterion": s.criterion} for s in accepted]}


def suite_range_defects():
    """``{problem: {status, largest rho, rows}}`` along the default traces of the suite's 1D problems."""
    out = {}
    budget = generalization.BUDGETS["full"]
    for name in SUITE_1D:
        problem = generalization.PROBLEMS[name]
        case = generalization.make_case(problem, budget)
        result, _, _ = generalization.trace_method(case, problem, "defaults", budget)
        rows = range_defects(case.residual, result.eps, result.thetas)
        out[name] = {"status": result.status.value, "largest_rho": max(row["rho"] for row in rows), "rows": rows}
        print(name, result.status.value, f"largest rho {out[name]['largest_rho']:.2g}", flush=True)
    return out


def main():
    residual, theta0 = bratu()
    began = time.perf_counter()
    natural = continuation.trace(residual, theta0, [0.5, 4.0])
    natural_wall = time.perf_counter() - began
    began = time.perf_counter()
    arclength = continuation.trace(residual, theta0, [0.5, 4.0], method="arclength",
                                   options=continuation.Options(max_steps=200))
    arclength_wall = time.perf_counter() - began
    flow = continuation.TraceResult.load(FLOW_CHECKPOINT)
    flow_problem = run.PROBLEMS["ac2d-flow"].build(0.02, 2, 0, run.DEFAULT_WIDTHS, False, None)
    payload = {
        "problem": "Bratu u'' + lam e^u = 0 on (0, 1), torch.nn 1-20-20-1, 60 interior points; lam 0.5 -> 4",
        "lam_c": LAM_C, "weights": int(theta0.numel()), "points": 62,
        "natural": summary(natural, natural_wall),
        "arclength": summary(arclength, arclength_wall),
        "natural_range_defect": range_defects(residual, natural.eps[::10], natural.thetas[::10]),
        "suite_range_defect": suite_range_defects(),
        "flow_time_homotopy_range_defect": range_defects(flow_problem.residual_map, flow.eps[::3], flow.thetas[::3]),
        "command": "python benchmarks/results/bratu/natural-past-fold/run_past_fold.py",
        "code": record.code_version(), "machine": record.machine(),
    }
    record.write_json(HERE / "past_fold.json", payload)
    for name in ("natural", "arclength"):
        print(name, {k: payload[name][k] for k in ("status", "last_eps", "steps_accepted", "steps_rejected",
                                                   "wall_s", "events")})
    print("rho natural:", [(round(r["eps"], 4), f"{r['rho']:.2g}") for r in payload["natural_range_defect"]])
    print("rho flow:", [(round(r["eps"], 4), f"{r['rho']:.2g}") for r in payload["flow_time_homotopy_range_defect"]])


if __name__ == "__main__":
    main()
