"""The residual of a committed ``ours`` row of P3 on fresh points, from the weights its JSON stores.

Usage (from the repository root):
``python benchmarks/results/helmholtz/validation-evidence/check_validation.py RECORD.json``.

Rebuilds the row's problem (``python -m benchmarks run helmholtz``: same d, eps, seed, widths and points), takes the
last accepted weights from the record, and evaluates ``||H||`` on the collocation points and on the problem's
validation map (``pde.base.NetworkProblem.validation_map``: as many fresh uniform interior points, the boundary
block unchanged), which is what ``trace(..., validation=...)`` compares at the end of a trace (``under_resolved`` when
the validation residual exceeds ``tol`` and ``validation_factor`` times ``||H||``). Writes
``validation_<record name>.json`` in this folder.
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import record, run  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(path: Path) -> None:
    row = json.loads(path.read_text())
    problem = run.PROBLEMS["helmholtz"].build(row["eps"], row["d"], row["seed"], row["network"][1:-1], False,
                                              row["points"])
    theta = torch.tensor(row["theta"], dtype=torch.float64)
    eps = torch.tensor(row["eps"], dtype=torch.float64)
    options = continuation.Options()
    collocation = float(problem.residual_map(theta, eps).norm())
    fresh = float(problem.validation_map()(theta, eps).norm())
    payload = {
        "record": path.name, "record_status": row["status"], "record_l2re": row["l2re"],
        "residual_norm_collocation": collocation, "residual_norm_validation": fresh, "ratio": fresh / collocation,
        "tol": options.tol, "validation_factor": options.validation_factor,
        "under_resolved": fresh > max(options.tol, options.validation_factor * collocation),
        "l2re_recomputed": problem.l2re(theta, row["eps"]), "weights": int(theta.numel()),
        "points": int(problem.points.shape[0]),
        "command": f"python benchmarks/results/helmholtz/validation-evidence/check_validation.py {path}",
        "code": record.code_version(),
    }
    record.write_json(HERE / f"validation_{path.stem}.json", payload)
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
