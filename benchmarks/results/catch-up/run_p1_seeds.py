"""P1 at eps = 0.01 (the demo's trace) from four network seeds, with and without catch-up iterations.

Usage (from the repository root): ``python benchmarks/results/catch-up/run_p1_seeds.py`` (about 10 minutes on
one thread). For each seed in 0-3 and ``catch_up_iterations`` in (0, 16) it runs the demo's trace,
``trace(problem.residual_map, theta0, [0.5, 0.01], options=Options(catch_up_iterations=K))`` on the demo's
1,000 points, and writes (with L2RE, interface and loss at every accepted eps, ``path``) ``p1_seed{S}_catchup{K}.json`` in this folder (skipped when it exists: delete it
to rerun). The only difference between a pair is the catch-up rule (``K = 0`` is the engine without it).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import harness, record  # noqa: E402
from benchmarks.demo import path_table  # noqa: E402
from pde import AllenCahn1D  # noqa: E402

HERE = Path(__file__).resolve().parent
EPS_START, EPS_TARGET = 0.5, 0.01


def run(seed: int, catch_up: int) -> dict:
    problem = AllenCahn1D(eps_min=EPS_TARGET)
    theta0 = problem.model.init(seed=seed)
    options = continuation.Options(catch_up_iterations=catch_up)
    start = time.perf_counter()
    result = continuation.trace(problem.residual_map, theta0, [EPS_START, EPS_TARGET], options=options)
    wall = time.perf_counter() - start
    return harness.make_record(
        {"command": "python benchmarks/results/catch-up/run_p1_seeds.py", "problem": "P1 allen-cahn 1d",
         "method": f"ours, catch_up_iterations={catch_up}", "eps": EPS_TARGET, "seed": seed,
         "weights": problem.model.num_weights, "points": problem.points.shape[0]},
        {"l2re": problem.l2re(result.theta, EPS_TARGET), "interface": problem.interface(result.theta),
         "loss": problem.loss(result.theta, EPS_TARGET), "wall_s": wall},
        result, corrector_iterations=result.corrector_iterations, path=path_table(problem, result),
    )


def main():
    for seed in range(4):
        for catch_up in (0, 16):
            path = HERE / f"p1_seed{seed}_catchup{catch_up}.json"
            data = record.cached(path, lambda: run(seed, catch_up))
            print(f"seed {seed} catch_up {catch_up:2d}: L2RE {data['l2re']:.2e} interface {data['interface']:+.2e} "
                  f"{data['trace']['status']} corrector iterations {data['corrector_iterations']} "
                  f"wall {data['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
