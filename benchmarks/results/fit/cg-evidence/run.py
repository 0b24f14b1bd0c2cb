"""What the matrix-free Levenberg-Marquardt step spends on P4 deep into the path, by sketch rank and CG tolerance.

Usage (from the repository root, one thread): ``python benchmarks/results/fit/cg-evidence/run.py
TOL:RANK[:MAX_RANK] ...``. From ``point.pt`` here, an accepted point of the P4 trace at eps = 0.02 on the
1-50-50-50-1 network (8,000 points, ``linear_solver="cg"``; its weights, eps and damping, taken from the trace's
checkpoint), one step of 3e-4 further in eps with no predictor, then 8 iterations of
:class:`continuation.LevenbergMarquardt` (``linear_solver="cg"``) from the trace's damping, for each
``cg_tol:sketch_rank:sketch_rank_max`` (``MAX_RANK`` defaults to ``RANK``: a sketch of fixed rank); writes each
row into ``rows.json`` here (``||H||`` after them, conjugate-gradient iterations in all, the rank reached, wall
time, and the code that made it), replacing the row of the same setting and keeping the others.
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
    path = HERE / "rows.json"
    result = json.loads(path.read_text()) if path.exists() else {"rows": []}
    result.update({"point": point["source"], "eps_of_point": point["eps"], "eps": float(eps),
                   "residual_norm_at_start": start, "damping": damping})
    for setting in settings:
        parts = setting.split(":")
        tol, rank = float(parts[0]), int(parts[1])
        most = int(parts[2]) if len(parts) > 2 else rank
        corrector = LevenbergMarquardt(linear_solver="cg", cg_tol=tol, sketch_rank=rank, sketch_rank_max=most)
        began = time.perf_counter()
        report = corrector.correct(problem.residual_map, theta, eps, iterations=8, tol=1e-5, state=damping)
        row = {"cg_tol": tol, "sketch_rank": rank, "sketch_rank_max": most, "iterations": report.iterations,
               "cg_iterations": report.linear_iterations,
               "final_rank": corrector.sketch_ranks.rank, "seconds": time.perf_counter() - began,
               "residual_norm": float(torch.linalg.vector_norm(problem.residual_map(report.theta, eps))),
               "code": record.code_version(), "machine": record.machine(), "torch": torch.__version__,
               "command": f"python benchmarks/results/fit/cg-evidence/run.py {setting}"}
        print({k: row[k] for k in ("cg_tol", "sketch_rank", "sketch_rank_max", "cg_iterations",
                                   "final_rank", "seconds", "residual_norm")}, flush=True)
        same = (tol, rank, most)
        result["rows"] = [r for r in result["rows"]
                          if (r["cg_tol"], r["sketch_rank"], r.get("sketch_rank_max", r["sketch_rank"])) != same]
        result["rows"].append(row)
        path.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
