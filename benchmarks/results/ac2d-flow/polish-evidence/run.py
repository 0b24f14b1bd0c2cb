"""Does a longer final correction at s = 0 move P2's interface onto the wavy curve?

Usage: ``python benchmarks/results/ac2d-flow/polish-evidence/run.py RECORD ITERATIONS [CHUNK]``.

``RECORD`` is a record of ``python -m benchmarks run ac2d-flow --eps 0.02 --methods ours`` on the default
3 x 30 network and uniform points (its weights end on a wrong function: interface error 0.24). From those
weights, Levenberg-Marquardt (the library's, default options, its damping carried from chunk to chunk) runs
``ITERATIONS`` more iterations on the steady problem (s = 0) on the record's own points, in chunks of
``CHUNK`` (default 50); after each chunk the row ``iterations, ||H||, L2RE, interface error, wall s`` is
appended to ``rows_<record stem>.json`` next to this file (a rerun goes on from its last row).
"""

import json
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))  # the repository root: benchmarks is not an installed package

import continuation  # noqa: E402
from benchmarks import record  # noqa: E402
from benchmarks.run import PROBLEMS  # noqa: E402


def main(argv: list[str]) -> None:
    source, total = Path(argv[0]), int(argv[1])
    chunk = int(argv[2]) if len(argv) > 2 else 50
    data = json.loads(source.read_text())
    if data["problem"] != "ac2d-flow" or data["network"] != [2, 30, 30, 30, 1] or "resample" in data:
        raise SystemExit(f"{source}: expected an ac2d-flow record on 2-30-30-30-1 with uniform points")
    spec = PROBLEMS["ac2d-flow"]
    problem = spec.build(data["eps"], None, data["seed"], [30, 30, 30], False, None)
    s0 = torch.tensor(0.0, dtype=torch.float64)
    theta = torch.tensor(data["theta"], dtype=torch.float64)
    loss = problem.loss(theta, 0.0)
    if abs(loss - data["loss"]) > 1e-9 * data["loss"]:
        raise SystemExit(f"the record's loss {data['loss']:.6g} is not reproduced ({loss:.6g}): other points?")
    out = HERE / f"rows_{source.stem}.json"
    saved = json.loads(out.read_text()) if out.exists() else None
    rows = saved["rows"] if saved else [{
        "iterations": 0, "residual_norm": loss ** 0.5, "l2re": problem.l2re(theta, data["eps"]),
        "interface_error": problem.interface_error(theta), "wall_s": 0.0}]
    state = saved["damping"] if saved else None
    if saved:
        theta = torch.tensor(saved["theta"], dtype=torch.float64)
    corrector = continuation.LevenbergMarquardt.from_options(continuation.Options())
    while rows[-1]["iterations"] < total:
        clock = time.perf_counter()
        result = corrector.correct(problem.residual_map, theta, s0, iterations=chunk, tol=0.0, state=state)
        theta, state = result.theta, result.state
        rows.append({"iterations": rows[-1]["iterations"] + result.iterations, "residual_norm": result.residual_norm,
                     "l2re": problem.l2re(theta, data["eps"]), "interface_error": problem.interface_error(theta),
                     "wall_s": rows[-1]["wall_s"] + time.perf_counter() - clock})
        print(json.dumps(rows[-1]), flush=True)
        out.write_text(json.dumps({"record": str(source), "command": "python " + " ".join(sys.argv),
                                   "code": record.CODE, "rows": rows, "damping": state,
                                   "theta": theta.tolist()}, indent=1))
        if result.iterations < chunk:  # converged or stopped: nothing more to do
            break


if __name__ == "__main__":
    main(sys.argv[1:])
