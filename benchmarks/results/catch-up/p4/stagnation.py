"""Is the end of the lost P4 path a floor, or a corrector that was not given enough iterations?

Usage (from the repository root): ``python benchmarks/results/catch-up/p4/stagnation.py`` (a few minutes).
Takes the last accepted point of ``fit_eps0.02_ours_seed0.json`` in this folder (eps = 0.04838, ``||H||`` 0.195)
and runs the trace's corrector there, Levenberg-Marquardt with the default options and a fresh damping, for
200 iterations in pieces of 20, recording ``||H||`` and the gradient ratio ``||J^T H|| / (||J||_F ||H||)`` (the
stationarity test, ``gtol`` 1e-8) after each piece, and the L2RE against ``sin(pi x / eps)``; then, from the
same point, 8 iterations (the trace's budget) from each of several relative dampings, 1e-15 (the floor) to 1e4.
Writes ``stagnation.json`` here.
"""
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import harness, record  # noqa: E402
from continuation.correctors import gradient_ratio  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent


def main():
    data = json.loads((HERE / "fit_eps0.02_ours_seed0.json").read_text())
    eps_value = [s for s in data["trace"]["steps"] if s["accepted"]][-1]["eps"]
    problem = HighFrequencyFit()
    theta = torch.tensor(data["theta"], dtype=torch.float64)
    eps = torch.tensor(eps_value, dtype=torch.float64)
    corrector = continuation.LevenbergMarquardt()
    options, state, rows = continuation.Options(), None, []
    start = time.perf_counter()
    for piece in range(10):
        report = corrector.correct(problem.residual_map, theta, eps, iterations=20, tol=options.tol, state=state)
        theta, state = report.theta, report.state
        residual, jacobian = problem.residual_map.linearize(theta, eps)
        rows.append({"iterations": 20 * (piece + 1), "residual_norm": report.residual_norm,
                     "gradient_ratio": gradient_ratio(jacobian, residual), "stop": report.stop.value,
                     "l2re": problem.l2re(theta, eps_value), "damping": state if isinstance(state, float) else None})
        print(rows[-1])
    start_theta, by_damping = torch.tensor(data["theta"], dtype=torch.float64), []
    for damping in (1e-15, 1e-8, 1e-3, 1e1, 1e4):
        report = corrector.correct(problem.residual_map, start_theta, eps, iterations=8, tol=options.tol, state=damping)
        by_damping.append({"damping": damping, "residual_norm": report.residual_norm, "damping_after": report.state,
                           "l2re": problem.l2re(report.theta, eps_value)})
        print(by_damping[-1])
    record.write_json(HERE / "stagnation.json", harness.make_record(
        {"command": "python benchmarks/results/catch-up/p4/stagnation.py", "problem": "P4 fit",
         "eps": eps_value, "start_residual_norm": [s for s in data["trace"]["steps"] if s["accepted"]][-1][
             "residual_norm"]},
        {"wall_s": time.perf_counter() - start}, pieces=rows, eight_iterations_by_damping=by_damping))


if __name__ == "__main__":
    main()
