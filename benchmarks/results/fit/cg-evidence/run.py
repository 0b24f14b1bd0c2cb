"""What the matrix-free Levenberg-Marquardt step spends on P4 deep into the path, by sketch rank and CG tolerance.

Usage (from the repository root, one thread): ``python benchmarks/results/fit/cg-evidence/run.py TOL:RANK ...``.
From ``point.pt`` here, an accepted point of the P4 trace at eps = 0.02 on the 1-50-50-50-1 network (8,000
points, ``linear_solver="cg"``; its weights, eps and damping, taken from the trace's checkpoint), one step of 3e-4 further in eps with no predictor, then 8 iterations of
:class:`continuation.LevenbergMarquardt` (``linear_solver="cg"``) from the trace's damping, for each
``cg_tol:sketch_rank``; writes ``rows.json`` here (``||H||`` after them, conjugate-gradient iterations in all,
wall time).
"""
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
from benchmarks import record  # noqa: E402
from continuation import LevenbergMarquardt  # noqa: E402
from models import MLP  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(settings: list[str]) -> None:
    torch.set_num_threads(1)
    point = torch.load(HERE / "point.pt", weights_only=True)
    problem = HighFrequencyFit(MLP([1, 50, 50, 50, 1]), n_points=8000, seed=0)
    theta, damping = point["theta"], point["damping"]
    eps = torch.tensor(point["eps"] - 3e-4, dtype=torch.float64)
    start = float(torch.linalg.vector_norm(problem.residual_map(theta, eps)))
    rows = []
    for setting in settings:
        tol, rank = float(setting.split(":")[0]), int(setting.split(":")[1])
        began = time.perf_counter()
        report = LevenbergMarquardt(linear_solver="cg", cg_tol=tol, sketch_rank=rank).correct(
            problem.residual_map, theta, eps, iterations=8, tol=1e-5, state=damping)
        rows.append({"cg_tol": tol, "sketch_rank": rank, "iterations": report.iterations,
                     "cg_iterations": report.linear_iterations, "seconds": time.perf_counter() - began,
                     "residual_norm": float(torch.linalg.vector_norm(problem.residual_map(report.theta, eps)))})
        print(rows[-1], flush=True)
    result = {"point": point["source"], "eps_of_point": point["eps"], "eps": float(eps),
              "residual_norm_at_start": start, "damping": damping, "rows": rows,
              "code": record.code_version(), "machine": record.machine(), "torch": torch.__version__,
              "command": "python benchmarks/results/fit/cg-evidence/run.py " + " ".join(settings)}
    (HERE / "rows.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
