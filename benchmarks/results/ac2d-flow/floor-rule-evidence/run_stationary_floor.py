"""Rerun one eps of ``python -m benchmarks run ac2d-flow`` with a stricter floor-of-the-path rule.

Usage (from the repository root): ``python benchmarks/results/ac2d-flow/floor-rule-evidence/run_stationary_floor.py
EPS [--max-wall-s S]``. The judge's ``on_path_floor`` accepts an unconverged point above the growth allowance only
when the corrector stopped at a least-squares floor (``Stop.STATIONARY``) within ``delta_nominal`` of the
prediction; the engine's rule also accepts a corrector that merely lowered ``||H||`` below its start (one that is
slow, not at a floor). Nothing else changes. Records go to this folder.
"""
import math
import runpy
import sys
from pathlib import Path

import continuation.stepping as stepping
from continuation.correctors import Stop


def stationary_floor(options, report, metrics):
    """Only a stationary corrector within ``delta_nominal`` of the prediction marks a floor of the path."""
    return bool(metrics) and metrics.get("delta", math.inf) <= options.delta_nominal and report.stop is Stop.STATIONARY


stepping.on_path_floor = stationary_floor
eps, extra = sys.argv[1], sys.argv[2:]
sys.argv = ["benchmarks", "run", "ac2d-flow", "--eps", eps, "--methods", "ours", "--force",
            "--out", str(Path(__file__).resolve().parent), *extra]
runpy.run_module("benchmarks", run_name="__main__")
