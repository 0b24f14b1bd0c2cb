"""The end of the P2 flow-sign time homotopy at eps = 0.02 with a bound on the step, against the FD path.

Usage (from the repository root):
``python benchmarks/results/ac2d-flow/step-evidence/run_from_checkpoint.py DS_MAX [CORRECTOR_ITERATIONS]``.

It starts from the last accepted point (s = 0.810) of the committed checkpoint
``../budget-evidence/budget-30/ac2d-flow_eps0.02_ours_seed0.checkpoint.pt`` (the benchmark's trace with 30 corrector
iterations a step; its network there is 1.1 % RMS from the finite-difference path) and traces the benchmark's problem
(``python -m benchmarks run ac2d-flow --eps 0.02``: 3 x 30 network, 5,000 + 1,000 points, seed 0) from there to
s = 0 with the benchmark's options for this problem, ``ds_max = DS_MAX`` and ``corrector_iterations =
CORRECTOR_ITERATIONS`` (default 8, the library's). At every accepted point the network on the 201 x 201 test grid is
compared with the finite-difference path at the same s on the same grid (``../fd-path-evidence/run_fd_path.py``,
Newton to 1e-10): the RMS distance relative to the FD state's RMS, and both interface errors. The FD path's
interface stays straight down to s = 0.2 and moves to the wavy one between s = 0.1 and 0.02 (its steps shrink to
3e-3 there). One JSON per (DS_MAX, CORRECTOR_ITERATIONS) in this folder.
"""
import importlib.util
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import record, run  # noqa: E402

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE.parent / "budget-evidence" / "budget-30" / "ac2d-flow_eps0.02_ours_seed0.checkpoint.pt"
EPS, GRID = 0.02, 201


def fd_module():
    spec = importlib.util.spec_from_file_location("run_fd_path", HERE.parent / "fd-path-evidence" / "run_fd_path.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(ds_max, iterations):
    spec = run.PROBLEMS["ac2d-flow"]
    problem = spec.build(EPS, 2, 0, run.DEFAULT_WIDTHS, False, None)
    start = continuation.TraceResult.load(CHECKPOINT)
    s0, theta0 = float(start.eps[-1]), start.thetas[-1]
    options = continuation.Options().replace(**spec.ours_changes, ds_max=ds_max, corrector_iterations=iterations)
    began = time.perf_counter()
    result = continuation.trace(problem.residual_map, theta0, [s0, 0.0], options=options)
    wall = time.perf_counter() - began
    fd = fd_module()
    homotopy = fd.Homotopy(EPS, GRID)
    path, rows = fd.PathFollower(homotopy), []
    for s, theta in zip(result.eps, result.thetas):
        u_fd = path.continue_to(float(s))
        with torch.no_grad():
            u_net = problem.predict(theta, problem.test_points).reshape(GRID, GRID).numpy()
        rows.append({"s": float(s), "relative_rms_to_fd": float(np.sqrt(np.mean((u_net - u_fd) ** 2))
                                                                 / np.sqrt(np.mean(u_fd ** 2))),
                     "interface_error_fd": homotopy.interface_error(u_fd),
                     "interface_error_network": homotopy.interface_error(u_net)})
    accepted = [step for step in result.steps if step.accepted]
    payload = {
        "problem": spec.title, "method": "ours from a checkpoint", "eps": EPS, "start_s": s0,
        "command": f"python benchmarks/results/ac2d-flow/step-evidence/run_from_checkpoint.py {ds_max} {iterations}",
        "options": {"ds_max": ds_max, "corrector_iterations": iterations, **spec.ours_changes},
        "status": result.status.value, "message": result.message,
        "l2re": problem.l2re(result.theta), "interface_error": problem.interface_error(result.theta),
        "loss": problem.loss(result.theta, 0.0),
        "steps_accepted": len(accepted) - 1, "steps_rejected": sum(not step.accepted for step in result.steps),
        "smallest_step": min((abs(step.deps) for step in accepted[1:]), default=math.nan),
        "corrector_iterations": result.corrector_iterations, "wall_s": wall,
        "weights": int(theta0.numel()), "points": int(problem.points.shape[0]),
        "along_the_path": rows,
        "steps": [{"s": step.eps, "ds": step.deps, "iterations": step.iterations, "residual_norm": step.residual_norm,
                   "accepted": step.accepted, "criterion": step.criterion, "delta": step.delta,
                   "reason": step.reason} for step in result.steps],
        "code": record.code_version(),
    }
    record.write_json(HERE / f"from_s0.81_dsmax{ds_max}_its{iterations}.json", payload)
    for row in rows:
        print(row)
    print({k: payload[k] for k in ("status", "l2re", "interface_error", "steps_accepted", "steps_rejected",
                                   "smallest_step", "wall_s")})


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 8)
