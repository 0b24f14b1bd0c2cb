"""Where on [-1, 1] the error of a P4 fit lies: spread over the domain, or in a spike between the points.

Usage (from the repository root): ``python benchmarks/results/fit/spike-evidence/run.py SOURCE POINTS WIDTH...``
with ``SOURCE`` a record of ``python -m benchmarks run fit`` (its last weights) or a trace checkpoint
(``<record>.checkpoint.pt``, each of its accepted points), ``POINTS`` the fitting points of that run and
``WIDTH...`` its hidden widths. On the benchmark's test grid (10,001 uniform points) it measures, at each
point read, the relative L2 error, the same outside ``|x| < 0.01``, the share of the squared error held
by the worst 1 % of the grid, the largest error and where it is, the gap between the fitting points around
it, and the three first-layer units whose tanh turns (``x = -b / w``) nearest to it; writes one entry per
source into ``rows.json`` here (replacing that source's).
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
from benchmarks import record  # noqa: E402
from continuation import TraceResult  # noqa: E402
from models import MLP  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent
CORE = 0.01
"""Half-width of the window around the origin measured apart."""


def measure(problem: HighFrequencyFit, theta: torch.Tensor, eps: float) -> dict:
    """The error of the fit ``theta`` at ``eps`` on the test grid: overall, outside the core, and its spike."""
    x = problem.test_points
    exact = problem.exact(x, eps)
    with torch.no_grad():
        error = problem.model.apply(theta, x)[:, 0] - exact
    outside = x[:, 0].abs() > CORE
    squares = error.square().sort(descending=True).values
    worst = int(error.abs().argmax())
    where = float(x[worst, 0])
    points = problem.points[:, 0].sort().values
    right = int(torch.searchsorted(points, torch.tensor(where, dtype=points.dtype)))
    gap = float(points[min(right, len(points) - 1)] - points[max(right - 1, 0)])
    weight, bias = problem.model.unflatten(theta)[0]
    turns = sorted((-bias / weight[:, 0]).tolist(), key=lambda turn: abs(turn - where))
    return {"eps": eps, "l2re": float(error.norm() / exact.norm()),
            "l2re_outside_core": float(error[outside].norm() / exact[outside].norm()),
            "worst_1pc_share": float(squares[: len(squares) // 100].sum() / squares.sum()),
            "max_error": float(error.abs().max()), "max_error_at": where, "gap_of_points_there": gap,
            "first_layer_turns_nearest": turns[:3]}


def main(source: str, n_points: int, widths: list[int]) -> None:
    torch.set_num_threads(1)
    problem = HighFrequencyFit(MLP([1, *widths, 1]), n_points=n_points, seed=0)
    path = Path(source)
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        rows = [measure(problem, torch.tensor(data["theta"], dtype=torch.float64), data["eps"])]
    else:
        trace = TraceResult.load(path)
        rows = [measure(problem, trace.thetas[i], trace.eps[i]) for i in range(len(trace.eps))]
    for row in rows[:: max(1, len(rows) // 12)] + rows[-1:]:
        print({k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    out = HERE / "rows.json"
    result = json.loads(out.read_text()) if out.exists() else {"sources": []}
    result["sources"] = [s for s in result["sources"] if s["source"] != source]
    result["sources"].append({"source": source, "points": n_points, "widths": widths, "core": CORE, "rows": rows,
                              "code": record.code_version(), "machine": record.machine(),
                              "command": f"python benchmarks/results/fit/spike-evidence/run.py {source} {n_points} "
                                         + " ".join(map(str, widths))})
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), [int(w) for w in sys.argv[3:]])
