"""Rerun one eps of ``python -m benchmarks run ac2d-flow`` with a larger corrector budget per step.

Usage (from the repository root): ``python benchmarks/results/ac2d-flow/budget-evidence/run_budget.py EPS ITERATIONS
[--max-wall-s S]``. The only change is ``Options.corrector_iterations = ITERATIONS`` (library default 8) on top of
the problem's own ``ours_changes``; the records' ``options`` say so. Records go to ``budget-ITERATIONS/`` in this
folder.
"""
import dataclasses
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
from benchmarks import run  # noqa: E402

eps, iterations, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
spec = run.PROBLEMS["ac2d-flow"]
run.PROBLEMS["ac2d-flow"] = dataclasses.replace(
    spec, ours_changes={**(spec.ours_changes or {}), "corrector_iterations": iterations}
)
out = Path(__file__).resolve().parent / f"budget-{iterations}"
sys.argv = ["benchmarks", "run", "ac2d-flow", "--eps", eps, "--methods", "ours", "--force", "--out", str(out), *extra]
runpy.run_module("benchmarks", run_name="__main__")
