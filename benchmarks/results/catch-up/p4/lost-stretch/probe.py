"""Is the last point of the fresh P4 run's lost stretch a floor of its own basin?

Usage (from the repository root): ``python benchmarks/results/catch-up/p4/lost-stretch/probe.py`` (a few minutes).
Takes the last point of the fresh P4 run's checkpoint (``../fresh-run/``, kept here: eps = 0.0491, ``||H||``
0.16), and runs the trace's corrector there (Levenberg-Marquardt, default options): 8 iterations (a step's budget)
at its own eps and after steps of 2.9e-5, 5.8e-5 (the trace's) and 1.2e-4, from a fresh damping and from the one
the trace carried; then 200 iterations at its own eps in pieces of 20, recording ``||H||``, the gradient ratio
``||J^T H|| / (||J||_F ||H||)`` (the stationarity test, ``gtol`` 1e-8) and the L2RE against ``sin(pi x / eps)``.
Writes ``probe.json`` here.
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import harness, record  # noqa: E402
from continuation.correctors import gradient_ratio  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "fresh-run-at-eps0.0491.checkpoint.pt"  # the fresh run's checkpoint, as committed at 2227518


def main():
    saved = continuation.TraceResult.load(CHECKPOINT)
    theta, eps0, carried = saved.thetas[-1], saved.eps[-1], saved.state.corrector_state
    problem, corrector, tol = HighFrequencyFit(), continuation.LevenbergMarquardt(), continuation.Options().tol
    start, steps = time.perf_counter(), []
    for deps in (0.0, -2.9e-5, -5.84e-5, -1.2e-4):
        eps = torch.tensor(eps0 + deps, dtype=torch.float64)
        for damping in (None, carried):
            report = corrector.correct(problem.residual_map, theta, eps, iterations=8, tol=tol, state=damping)
            steps.append({"deps": deps, "damping": damping, "start_residual_norm": report.start_norm,
                          "residual_norm": report.residual_norm, "l2re": problem.l2re(report.theta, eps0 + deps)})
            print(steps[-1])
    eps, state, pieces, point = torch.tensor(eps0, dtype=torch.float64), None, [], theta
    for piece in range(10):
        report = corrector.correct(problem.residual_map, point, eps, iterations=20, tol=tol, state=state)
        point, state = report.theta, report.state
        residual, jacobian = problem.residual_map.linearize(point, eps)
        pieces.append({"iterations": 20 * (piece + 1), "residual_norm": report.residual_norm,
                       "gradient_ratio": gradient_ratio(jacobian, residual), "stop": report.stop.value,
                       "l2re": problem.l2re(point, eps0)})
        print(pieces[-1])
    record.write_json(HERE / "probe.json", harness.make_record(
        {"command": "python benchmarks/results/catch-up/p4/lost-stretch/probe.py", "problem": "P4 fit", "eps": eps0,
         "start_residual_norm": saved.residual_norms[-1], "carried_damping": carried},
        {"wall_s": time.perf_counter() - start}, eight_iterations=steps, pieces=pieces))


if __name__ == "__main__":
    main()
