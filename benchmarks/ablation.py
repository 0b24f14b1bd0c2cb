"""``python -m benchmarks ablation``: what each rule of the two step controls contributes (issue 19).

The two step controls of :class:`continuation.Options` (``step_control``)
are each a set of rules. ``"effort"`` (the default) sizes the next step by
the corrector's iterations, caps it by the Theorem 2 Lipschitz rule
(``lipschitz_c``) and, when the function is known (``outputs``), rejects a
step whose correction moved it by more than ``delta_max`` from the Euler
prediction (the jump guard). ``effort-catch-up`` adds a rule that is off
by default: correcting on at a point whose residual rose
(``catch_up_iterations``). ``"corrector"`` rejects on ``delta >
delta_max`` and ``kappa > kappa_max``, sizes the next step by ``ds *
min(sqrt(delta_nominal / delta), sqrt(kappa_nominal / kappa))`` and caps it
by the same Lipschitz rule. (Its angle rule, ``alpha``, is arclength's; the
suite's traces are natural-parameter ones.)

Each variant (:data:`VARIANTS`) switches one rule off through validated
options (``math.inf``, see :data:`continuation.options.SWITCHABLE`) or, in
the sweep, moves one nominal value of the ``"corrector"`` control by a
factor 0.5 or 2. A variant is a method of :mod:`benchmarks.generalization`
(``defaults`` for the effort control, ``corrector``) with its options
changed, traced and scored by :func:`benchmarks.generalization.run_problem`
on that suite's problems, so its rows compare directly with the suite's.

Output (default ``benchmarks/results/ablation/``, ``.../small`` with
``--budget small``): one JSON per (problem, variant), skipped when it
exists (``--force`` reruns), then ``README.md``: the ablation table and the
table of the nominal-value sweep.
"""

from __future__ import annotations

import argparse
import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from continuation import Options

from . import generalization, harness, record

__all__ = ["Variant", "VARIANTS", "ABLATION", "SWEEP", "CHEAP_PROBLEMS", "rejections", "load_records",
           "write_table", "add_arguments", "main"]

DEFAULT = Options()


@dataclass(frozen=True)
class Variant:
    """One variant of a step control.

    Attributes
    ----------
    name
        Command-line name and file-name suffix.
    method
        The method of :mod:`benchmarks.generalization` it changes: ``"defaults"`` (the effort control) or
        ``"corrector"``.
    changes
        Fields of :class:`continuation.Options` it replaces.
    what
        What it is, in a few words.
    """

    name: str
    method: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    what: str = ""


def _nominal(name: str, factor: float) -> Variant:
    """The ``"corrector"`` control with the nominal value ``name`` times ``factor``."""
    short = name.split("_")[0]
    return Variant(f"corrector-{short}-x{factor:g}", "corrector", {name: getattr(DEFAULT, name) * factor},
                   f"{name} = {getattr(DEFAULT, name) * factor:g} (x{factor:g})")


_ALL = [
    Variant("effort-full", "defaults", {}, "effort control, every rule (the library defaults)"),
    Variant("effort-no-jump", "defaults", {"delta_max": math.inf}, "without the jump guard"),
    Variant("effort-no-lipschitz", "defaults", {"lipschitz_c": math.inf}, "without the Lipschitz cap"),
    Variant("effort-weight-space", "defaults", {"function_weight": 0.0},
            "Euler velocity in weight space only (function_weight = 0)"),
    Variant("effort-catch-up", "defaults", {"catch_up_iterations": 16},
            "with catch-up iterations (catch_up_iterations = 16; the default is 0)"),
    Variant("effort-final-200", "defaults", {"final_iterations": 200},
            "a longer final correction (final_iterations = 200, measured when the default was 60; the default since)"),
    Variant("corrector-full", "corrector", {}, "corrector control, every rule"),
    Variant("corrector-no-delta", "corrector", {"delta_nominal": math.inf, "delta_max": math.inf},
            "without the delta rule (no rejection, no step bound)"),
    Variant("corrector-no-kappa", "corrector", {"kappa_nominal": math.inf, "kappa_max": math.inf},
            "without the kappa rule (no rejection, no step bound)"),
    Variant("corrector-no-lipschitz", "corrector", {"lipschitz_c": math.inf}, "without the Lipschitz cap"),
    *[_nominal(name, factor) for name in ("delta_nominal", "kappa_nominal") for factor in (0.5, 2.0)],
]

VARIANTS: dict[str, Variant] = {v.name: v for v in _ALL}
"""Every variant, by name, in table order."""

ABLATION = tuple(name for name in VARIANTS if "-x" not in name)
"""The variants that switch one rule off, and the two controls whole."""

SWEEP = ("corrector-full", *(name for name in VARIANTS if "-x" in name))
"""The ``"corrector"`` control at its nominal values and with one of them halved or doubled."""

CHEAP_PROBLEMS = ("bratu", "burgers", "fit", "turning-point", "ac-offcentre", "troesch")
"""The problems of the generalization suite whose defaults and corrector rows took under about two minutes
(``cd-one``, ``rd-two``, ``rd-2d`` and ``ac2d-time`` took longer)."""

RULES = {"delta": "delta = ", "kappa": "kappa = ", "||H||": "||H|| = "}
"""The rejections counted per rule, by the text of the step's reason (:func:`continuation.stepping.judge`)."""


def rejections(data: Mapping[str, Any]) -> dict[str, int]:
    """Rejected steps of a record by the rule that rejected them (``other``: failures, non-finite values).

    Examples
    --------
    >>> steps = [{"accepted": False, "reason": "budget used; delta = 0.3 above delta_max = 0.2"},
    ...          {"accepted": False, "reason": "budget used; ||H|| = 1e-3 above 1e-4"}, {"accepted": True}]
    >>> rejections({"trace": {"steps": steps}})
    {'delta': 1, 'kappa': 0, '||H||': 1, 'other': 0}
    """
    counts = dict.fromkeys([*RULES, "other"], 0)
    for step in data["trace"]["steps"]:
        if step.get("accepted"):
            continue
        rule = next((name for name, text in RULES.items() if text in (step.get("reason") or "")), "other")
        counts[rule] += 1
    return counts


def run_variant(problem: str, variant: Variant, budget: generalization.Budget, command: str) -> dict[str, Any]:
    """Trace ``problem`` by ``variant`` and score it: the JSON record (without the machine)."""
    data = generalization.run_problem(problem, variant.method, budget, command, changes=variant.changes)
    return {**data, "variant": variant.name, "variant_detail": variant.what,
            "changes": {name: repr(value) for name, value in variant.changes.items()}}


def load_records(out: Path) -> list[dict[str, Any]]:
    """The records in ``out``, in the suite's order of problems, then in the order of :data:`VARIANTS`."""
    order = {name: i for i, name in enumerate(generalization.PROBLEMS)}
    names = list(VARIANTS)
    records = [r for r in harness.load_records(out) if r.get("problem") in order and r.get("variant") in VARIANTS]
    return sorted(records, key=lambda r: (order[r["problem"]], names.index(r["variant"])))


def _columns() -> list[harness.Column]:
    Column = harness.Column
    steps, *effort = harness.trace_columns()
    return [
        Column("problem", lambda r: r["problem"]), Column("variant", lambda r: r["variant"]),
        Column("changed", lambda r: ", ".join(f"{k}={v}" for k, v in r["changes"].items()) or "-"),
        Column("L2RE", lambda r: r["l2re"]), Column("position error", lambda r: r["position_error"]),
        Column("status", lambda r: r["status"]),
        steps,
        Column("rejected by delta/kappa/\\|\\|H\\|\\|/other",
               lambda r: "/".join(str(n) for n in rejections(r).values())),
        *effort,
    ]


def write_table(out: Path, records: list[dict[str, Any]]) -> str:
    """``out/README.md``: the ablation rows, then the sweep rows; returns its text."""
    lines = [
        "# Step-control ablation: what each rule contributes",
        "",
        "Command: `python -m benchmarks ablation` (each JSON holds its exact command and options; in the JSON "
        "`options`, `null` stands for `inf`, the `changes` field spells it out). Each variant is a method of the "
        "generalization suite (`effort-*`: `defaults`, `corrector-*`: `corrector`, distances on the network's "
        "values on the test grid) with the options in `changed`; `inf` switches a rule off. Same problems, "
        "networks, points, initial weights and scores as `python -m benchmarks generalization`. Rejected by: "
        "the rule named in the step's reason (`||H||`: the residual rose more than `residual_growth` allows). "
        "Load: the machine's 1-minute load average when the row ended (2 cores: above 2, wall times are "
        "inflated by other work).",
        "",
        "**Ablation: one rule switched off.**",
        "",
        *harness.table([r for r in records if r["variant"] in ABLATION], _columns()),
        "",
        "**Nominal values of the corrector control, halved and doubled.**",
        "",
        f"Defaults: delta_nominal = {DEFAULT.delta_nominal:g}, kappa_nominal = {DEFAULT.kappa_nominal:g} "
        f"(delta_max = {DEFAULT.delta_max:g}, kappa_max = {DEFAULT.kappa_max:g} unchanged).",
        "",
        *harness.table([r for r in records if r["variant"] in SWEEP], _columns()),
    ]
    return harness.write_page(out, lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks ablation``."""
    parser.add_argument("--problems", nargs="+", choices=list(generalization.PROBLEMS), default=list(CHEAP_PROBLEMS),
                        help=f"problems of the generalization suite (default: {' '.join(CHEAP_PROBLEMS)})")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="variants to run (default: all; ablation: " + " ".join(ABLATION) + "; sweep: "
                             + " ".join(SWEEP) + ")")
    parser.add_argument("--budget", choices=sorted(generalization.BUDGETS), default="full",
                        help="full: the suite's real budget; small: tiny networks (smoke test)")


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the (problem, variant) pairs of ``args`` one at a time, then write the tables; returns all records."""
    budget = generalization.BUDGETS[args.budget]
    out = harness.out_folder(args, "ablation", "small" if budget.name == "small" else "")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"--out must be a folder, got the file {out}")
    failures = []
    for problem in dict.fromkeys(args.problems):
        for name in dict.fromkeys(args.variants):
            command = f"python -m benchmarks ablation --problems {problem} --variants {name} --budget {budget.name}"
            try:
                record.cached(out / f"{problem}_{name}.json",
                              lambda: run_variant(problem, VARIANTS[name], budget, command), force=args.force)
            except Exception:  # one failing configuration must not lose the others
                traceback.print_exc()
                failures.append(f"{problem} ({name})")
    records = load_records(out) if out.exists() else []
    if records:
        print(write_table(out, records))
    if failures:
        raise SystemExit(f"failed (no JSON written): {', '.join(failures)}")
    return records
