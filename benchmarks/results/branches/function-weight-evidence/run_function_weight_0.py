"""Rerun one configuration of ``python -m benchmarks branches`` with ``Options.function_weight = 0``.

Usage (from the repository root): ``python benchmarks/results/branches/function-weight-evidence/
run_function_weight_0.py CONFIGURATION OUT``. The Euler predictor's ``function_weight`` is set to 0 for
every trace (the weight-space velocity); nothing else changes.
"""
import runpy
import sys

import continuation.predictors as predictors

_original = predictors.EulerPredictor.from_options.__func__
predictors.EulerPredictor.from_options = classmethod(
    lambda cls, options, outputs=None: _original(cls, options.replace(function_weight=0.0), outputs))
configuration, out = sys.argv[1:3]
sys.argv = ["benchmarks", "branches", "--only", configuration, "--force", "--out", out]
runpy.run_module("benchmarks", run_name="__main__")
