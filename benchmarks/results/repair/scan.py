"""Where would the repair rule have changed a committed trace?

Usage (from the repository root): ``python benchmarks/results/repair/scan.py`` (seconds; reads records only).

The rule (:func:`continuation.stepping.judge`, 9f285f4): an attempt whose ``delta`` is above ``delta_max`` is not
rejected for it when the attempt just before, from the same accepted point, was rejected for its ``delta`` with a
longer step, this ``delta`` is more than ``REPAIR_RATIO`` (0.75) times that one, and the attempt lowers ``||H||``
below the last accepted point's. A trace is deterministic: a committed record in which no rejected attempt meets
these conditions is the record the current engine makes (as far as this rule goes). For every committed record
with per-step data (``trace.steps`` with ``delta``), this lists the attempts that meet them, with the record's
L2RE and status. Writes ``scan.json`` here.
"""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
from benchmarks import record  # noqa: E402
from continuation.stepping import REPAIR_RATIO  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent


def repairs(steps, delta_max):
    """The attempts of ``steps`` that the rule would accept instead of rejecting."""
    found, base = [], None
    for before, step in zip(steps, steps[1:]):
        if before["accepted"]:
            base = before["residual_norm"]
        if step["accepted"] or before["accepted"] or base is None:
            continue
        earlier, delta = before.get("delta"), step.get("delta")
        longer = abs(before.get("ds") or before["deps"]) > abs(step.get("ds") or step["deps"])
        if earlier is None or delta is None or not earlier > delta_max or not longer:
            continue
        if delta > delta_max and delta > REPAIR_RATIO * earlier and step["residual_norm"] < base:
            found.append({"step": step["step"], "eps": step["eps"], "delta": delta, "earlier_delta": earlier,
                          "residual_norm": step["residual_norm"], "last_point_residual_norm": base})
    return found


def main():
    def find(data, steps):
        if "delta" not in steps[0]:
            return None
        delta_max = (data.get("options") or {}).get("delta_max", 0.2)
        found = repairs(steps, math.inf if delta_max is None else delta_max)  # strict JSON writes inf as null
        return {"repairs": found} if found else {}

    scanned, rows = record.scan(RESULTS, HERE, find)
    record.write_json(HERE / "scan.json", {"command": "python benchmarks/results/repair/scan.py",
                                           "code": record.code_version(), "records_scanned": scanned,
                                           "records_changed": rows})
    print(f"{scanned} records with per-step delta; the rule would change {len(rows)}:")
    for row in rows:
        first = row["repairs"][0]
        print(f"  {row['record']}: {len(row['repairs'])} attempt(s), first at eps {first['eps']:.6g} (delta "
              f"{first['delta']:.3g} after {first['earlier_delta']:.3g}); l2re {row['l2re']}, {row['status']}")


if __name__ == "__main__":
    main()
