"""Would a long correction where P4's residual ratchet starts have saved the path?

Usage (from the repository root):
``python benchmarks/results/catch-up/p4/recovery/run_recovery.py ITERATIONS [PREDICTOR]`` (about 20 minutes each).
Takes the committed checkpoint of the P4 damping run (``../damping-run/``, the default trace to eps = 0.02 that
loses its path), finds its first accepted point whose ``||H||`` exceeds ``residual_growth`` (10) times the smallest
``||H||`` of the ten accepted points before it (where the ratchet after the crest birth at 1 / eps = 19.5 has
begun, ``../births.py``), and traces on from there with the library defaults to eps = 0.0462, past the next two
births (1 / eps = 20.5 and 21.5). Two things differ from the lost trace: the first step is the one it tried next
from that point (``ds``), and the trace's first correction there gets ITERATIONS LM iterations
(``initial_iterations``): 60 (the default ``final_iterations``) emulates a recovery correction, 8 (a step's
budget) is the control. PREDICTOR (default ``euler``, the library's) may be ``none``, to ask whether the Euler
prediction pushes each step off. A wall budget of 1,200 s stops the trace. Writes
``recovery_ITERATIONS_PREDICTOR.json`` here: the accepted points (eps, ``||H||``, 1 / eps), the end status, the
L2RE at the last point against its own eps.
"""
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import harness, record  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE.parent / "damping-run" / "fit_eps0.02_ours_seed0.checkpoint.pt"
END, WALL_S, WINDOW = 0.0462, 1200.0, 10


def trigger_point(saved: continuation.TraceResult, growth: float) -> int:
    """Index (into the accepted points) of the first point above ``growth`` times the least of the ``WINDOW`` before."""
    norms = saved.residual_norms
    triggers = [i for i in range(WINDOW, len(norms)) if norms[i] > growth * min(norms[i - WINDOW:i])]
    if not triggers:
        raise ValueError(f"no accepted point rises above {growth} times the least of the {WINDOW} before it")
    # walk back from the last trigger to the start of its run: where the final, unrecovered rise began
    first = triggers[-1]
    while first - 1 >= WINDOW and norms[first - 1] > growth * min(norms[first - 1 - WINDOW:first - 1]):
        first -= 1
    return first


def main(iterations: int, predictor: str) -> None:
    saved = continuation.TraceResult.load(CHECKPOINT)
    options = continuation.Options()
    index = trigger_point(saved, options.residual_growth)
    eps0, theta0 = saved.eps[index], saved.thetas[index]
    # the step the lost trace tried next from that point, so that only the correction differs
    at = next(k for k, step in enumerate(saved.steps) if step.accepted and step.eps == eps0)
    ds = abs(saved.steps[at + 1].deps)
    problem = HighFrequencyFit()
    deadline = time.perf_counter() + WALL_S
    start = time.perf_counter()
    result = continuation.trace(
        problem.residual_map, theta0, [eps0, END], predictor=predictor,
        options=options.replace(initial_iterations=iterations, ds=ds),
        callback=lambda step, theta: time.perf_counter() > deadline, validation=problem.validation_map(),
    )
    points = [{"eps": e, "inverse_eps": 1.0 / e, "residual_norm": h} for e, h in zip(result.eps, result.residual_norms)]
    for p in points[::5]:
        print(p)
    record.write_json(HERE / f"recovery_{iterations}_{predictor}.json", harness.make_record(
        {"command": f"python benchmarks/results/catch-up/p4/recovery/run_recovery.py {iterations} {predictor}",
         "problem": "P4 fit", "start_eps": eps0, "start_residual_norm": saved.residual_norms[index],
         "end_eps": END, "initial_iterations": iterations, "predictor": predictor, "ds": ds},
        {"wall_s": time.perf_counter() - start, "status": result.status.value, "message": result.message,
         "reached_eps": result.eps[-1], "l2re_at_reached_eps": problem.l2re(result.theta, result.eps[-1]),
         "accepted": result.accepted, "rejected": result.rejected,
         "corrector_iterations": sum(s.iterations for s in result.steps)},
        points=points))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "euler")
