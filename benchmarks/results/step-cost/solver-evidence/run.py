"""Time of one Levenberg-Marquardt iteration, dense against matrix-free, on a fit (P4) and a PINN (P1).

Usage (from the repository root, one thread): ``python benchmarks/results/step-cost/solver-evidence/run.py PROBLEM
WIDTH POINTS`` (``PROBLEM``: ``fit`` or ``ac1d``). The network 1-WIDTH-WIDTH-WIDTH-1 at its seed-0 initialisation,
P4 (``HighFrequencyFit``) or P1 (``AllenCahn1D``) at eps = 0.5 on POINTS points; ``ITERATIONS`` iterations of
:class:`continuation.LevenbergMarquardt` with ``linear_solver="dense"`` and with ``"cg"`` (the engine's defaults:
Nystrom sketch of rank 50), each from the same weights; the time per iteration, the conjugate-gradient iterations,
``||H||`` after them, and the floating-point operations of one product by ``J`` (``jvp``) and of the dense Jacobian
counted by :class:`torch.utils.flop_counter.FlopCounterMode` (matrix products only). Appends one row to
``rows.json`` here and writes ``README.md``, with the choice of ``linear_solver="auto"`` at the current code
(:func:`continuation.setup.auto_linear_solver`, from the sizes and a count of one product). ``run.py table``
writes the README alone.
"""
import json
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
from benchmarks import record  # noqa: E402
from continuation import LevenbergMarquardt  # noqa: E402
from continuation.setup import auto_linear_solver, operation_ratio, product_flops  # noqa: E402
from models import MLP  # noqa: E402
from pde import AllenCahn1D, HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent
ITERATIONS = 4


def flops(work) -> int:
    with FlopCounterMode(display=False) as counter:
        work()
    return counter.get_total_flops()


def build(name: str, width: int, points: int):
    model = MLP([1, width, width, width, 1])
    problem = (HighFrequencyFit(model, n_points=points, seed=0) if name == "fit"
               else AllenCahn1D(model, eps_min=0.5, n_points=points))
    return problem, model.init(seed=0), torch.tensor(0.5, dtype=torch.float64)


def auto_pick(row) -> tuple[float, str]:
    """The estimated operation ratio of a dense to a matrix-free iteration and what ``linear_solver="auto"``
    picks, for the row's problem at the current code."""
    problem, theta, eps = build(row["problem"], row["width"], row["points"])
    flops = product_flops(problem.residual_map, theta, eps)
    return (operation_ratio(row["rows"], row["weights"], flops),
            auto_linear_solver(row["rows"], row["weights"], theta.dtype, flops))


def write_table(rows) -> None:
    lines = ["# One Levenberg-Marquardt iteration, dense against matrix-free", "",
             "Made by `run.py` here (see its docstring and each row's command in `rows.json`; one thread, "
             f"{ITERATIONS} iterations from the seed-0 initialisation at eps = 0.5, time per iteration). "
             "`estimated operations`: `continuation.setup.operation_ratio` from the sizes and a count of one product; "
             "`auto`: what `linear_solver=\"auto\"` picks for the row at the current code (commit `+`: files "
             "other than results differed from it, not the ones timed). The machine has 2 cores "
             "shared with other work: wall times move by tens of percent.", "",
             "| problem | weights | rows | dense s | cg s (CG its in all) | dense / cg | `||H||` dense / cg "
             "| estimated operations dense / cg | auto | commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: (r["problem"] != "fit", r["weights"], r["rows"])):
        dense, cg = row["dense"], row["cg"]
        ratio, pick = auto_pick(row)
        commit = (row["code"]["commit"] or "-")[:7] + ("+" if row["code"]["dirty"] else "")
        lines.append(
            f"| {'P4 fit' if row['problem'] == 'fit' else 'P1 PINN'} | {row['weights']:,} | {row['rows']:,} "
            f"| {dense['seconds_per_iteration']:.3g} | {cg['seconds_per_iteration']:.3g} ({cg['cg_iterations']}) "
            f"| {row['dense_over_cg']:.2g} | {dense['residual_norm']:.3g} / {cg['residual_norm']:.3g} "
            f"| {ratio:.2g} | {pick} | {commit} |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n")


def main(name: str, width: int, points: int):
    torch.set_num_threads(1)
    problem, theta, eps = build(name, width, points)
    residual_map = problem.residual_map
    value, product, _ = residual_map.products(theta, eps)
    row = {"problem": name, "width": width, "points": points, "weights": int(theta.numel()), "rows": int(value.numel()),
           "iterations": ITERATIONS, "jvp_flops": flops(lambda: product(torch.ones_like(theta))),
           "jacobian_flops": flops(lambda: residual_map.jacobian(theta, eps))}
    for solver in ("dense", "cg"):
        began = time.perf_counter()
        report = LevenbergMarquardt(linear_solver=solver).correct(residual_map, theta, eps, iterations=ITERATIONS,
                                                                  tol=0.0)
        row[solver] = {"seconds_per_iteration": (time.perf_counter() - began) / report.iterations,
                       "iterations": report.iterations, "cg_iterations": report.linear_iterations,
                       "residual_norm": float(torch.linalg.vector_norm(residual_map(report.theta, eps)))}
    row["dense_over_cg"] = row["dense"]["seconds_per_iteration"] / row["cg"]["seconds_per_iteration"]
    row.update(code=record.code_version(), machine=record.machine(), torch=torch.__version__,
               command=f"python benchmarks/results/step-cost/solver-evidence/run.py {name} {width} {points}")
    path = HERE / "rows.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    rows = [r for r in rows if (r["problem"], r["width"], r["rows"]) != (name, width, row["rows"])] + [row]
    path.write_text(json.dumps(rows, indent=1))
    write_table(rows)
    print({k: v for k, v in row.items() if k not in ("machine", "code")})


if __name__ == "__main__":
    if sys.argv[1] == "table":
        write_table(json.loads((HERE / "rows.json").read_text()))
    else:
        main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
