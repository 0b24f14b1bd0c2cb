"""L2RE against the iterations of a final correction run in pieces (``--option final_piece=K``).

Usage: ``python benchmarks/results/helmholtz/polish-evidence/curve.py CHECKPOINT [D EPS POINTS]``
(defaults 10, 0.5, 8000: the run ``python -m benchmarks run helmholtz --eps 0.5 --methods ours --d 10
--budget full --seed 0 --widths 30 30 30 --points 8000 --option final_iterations=2000 --option
final_piece=200``). Each piece adds a point at the target eps to the saved trace; this scores every
such point (the record of the run keeps only the last one): corrector iterations at the target so far,
``||H||``, the residual on fresh points, L2RE on the test points. Writes ``curve_d{D}_eps{EPS}.json`` next
to this file, a few seconds on one thread.
"""

import json
import sys
from pathlib import Path

import torch

import continuation
from benchmarks import record
from benchmarks.run import BUDGETS, PROBLEMS


def main(argv: list[str]) -> None:
    checkpoint = Path(argv[0])
    d, eps, points = (int(argv[1]), float(argv[2]), int(argv[3])) if len(argv) > 3 else (10, 0.5, 8000)
    spec = PROBLEMS["helmholtz"]
    problem = spec.build(eps, d, 0, [30, 30, 30], BUDGETS["full"].tiny, points)
    validation = problem.validation_map()
    saved = continuation.TraceResult.load(checkpoint)
    target = spec.target(eps)
    rows, spent, index = [], 0, 0
    for step in saved.steps:
        if not step.accepted:
            continue
        if step.eps == target:
            spent += step.iterations
            theta, parameter = saved.thetas[index], torch.tensor(target, dtype=torch.float64)
            with torch.no_grad():
                fresh = float(torch.linalg.vector_norm(validation(theta, parameter)))
            rows.append({"iterations_at_target": spent, "residual_norm": step.residual_norm,
                         "validation_norm": fresh, "l2re": problem.l2re(theta, target)})
            print(rows[-1])
        index += 1
    out = Path(__file__).with_name(f"curve_d{d}_eps{eps:g}.json")
    record.write_json(out, {"checkpoint": checkpoint.name, "d": d, "eps": eps, "points": points,
                            "command": "python " + " ".join(["benchmarks/results/helmholtz/polish-evidence/curve.py",
                                                             *argv]),
                            "rows": rows, "machine": record.machine()})


if __name__ == "__main__":
    main(sys.argv[1:])
