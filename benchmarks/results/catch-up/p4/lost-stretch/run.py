"""Does the Euler prediction keep P4's ratcheting trace off its path?

Usage (from the repository root):
``python benchmarks/results/catch-up/p4/lost-stretch/run.py PREDICTOR`` (``euler`` or ``none``; at most 15 minutes each, 3 and 8 measured).
Takes the last point of the fresh P4 run's checkpoint (``../fresh-run/``, kept here: eps = 0.0491, ``||H||``
0.16 after a rise at every accepted step since eps = 0.0515) and traces on from it to eps = 0.045 with the library
defaults, the step the trace was taking there (``ds``) and no first correction (``initial_iterations = 0``), so
that the steps alone differ: each step's prediction, Euler (the library's) or none (the last point). From the same
point, a correction at the same eps (no step) of 8 LM iterations takes ``||H||`` from 0.195 to 0.045
(``../stagnation.json``), while the trace's steps of 0.1 % in eps, with the same 8 iterations, lower it by a few
per cent. A wall budget of 900 s stops the trace. Writes ``lost_stretch_PREDICTOR.json`` here: the accepted
points (eps, ``||H||``), the end status, the L2RE at the last point against its own eps.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import harness, record  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "fresh-run-at-eps0.0491.checkpoint.pt"  # the fresh run's checkpoint, as committed at 2227518
END, WALL_S = 0.045, 900.0


def main(predictor: str) -> None:
    saved = continuation.TraceResult.load(CHECKPOINT)
    eps0, theta0 = saved.eps[-1], saved.thetas[-1]
    ds = abs(next(s for s in reversed(saved.steps) if s.accepted).deps)
    problem = HighFrequencyFit()
    deadline, start = time.perf_counter() + WALL_S, time.perf_counter()
    result = continuation.trace(
        problem.residual_map, theta0, [eps0, END], predictor=predictor,
        options=continuation.Options(initial_iterations=0, ds=ds),
        callback=lambda step, theta: time.perf_counter() > deadline, validation=problem.validation_map(),
    )
    points = [{"eps": e, "residual_norm": h} for e, h in zip(result.eps, result.residual_norms)]
    for p in points[::5]:
        print(p)
    record.write_json(HERE / f"lost_stretch_{predictor}.json", harness.make_record(
        {"command": f"python benchmarks/results/catch-up/p4/lost-stretch/run.py {predictor}", "problem": "P4 fit",
         "start_eps": eps0, "start_residual_norm": saved.residual_norms[-1], "end_eps": END, "predictor": predictor,
         "ds": ds},
        {"wall_s": time.perf_counter() - start, "status": result.status.value, "message": result.message,
         "reached_eps": result.eps[-1], "l2re_at_reached_eps": problem.l2re(result.theta, result.eps[-1]),
         "accepted": result.accepted, "rejected": result.rejected,
         "corrector_iterations": sum(s.iterations for s in result.steps)},
        result, points=points))


if __name__ == "__main__":
    main(sys.argv[1])
