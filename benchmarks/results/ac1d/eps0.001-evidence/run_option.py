"""Rerun ``python -m benchmarks run ac1d --eps 0.001 --methods ours`` with one option of ``ours`` changed.

Usage (from the repository root): ``python benchmarks/results/ac1d/eps0.001-evidence/run_option.py NAME VALUE``
(``VALUE`` read as a Python literal, e.g. ``function_weight 0.0``). The option is added to the problem's
``ours_changes``; the record's ``options`` say so. Records go to ``NAME-VALUE/`` in this folder.
"""
import ast
import dataclasses
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
from benchmarks import run  # noqa: E402

name, value = sys.argv[1], ast.literal_eval(sys.argv[2])
spec = run.PROBLEMS["ac1d"]
run.PROBLEMS["ac1d"] = dataclasses.replace(spec, ours_changes={**(spec.ours_changes or {}), name: value})
out = Path(__file__).resolve().parent / f"{name}-{value}"
sys.argv = ["benchmarks", "run", "ac1d", "--eps", "0.001", "--methods", "ours", "--force", "--out", str(out)]
runpy.run_module("benchmarks", run_name="__main__")
