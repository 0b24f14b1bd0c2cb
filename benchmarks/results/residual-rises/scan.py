"""How far does ``||H||`` rise over consecutive accepted points, in the committed records?

Usage (from the repository root): ``python benchmarks/results/residual-rises/scan.py``.

A trace accepts a point that is not corrected to ``tol`` when its ``||H||`` is within ``residual_growth`` (10) of
the previous accepted point's. Nothing bounds the rise over many such points: a residual that rises a little at
every step is never rejected. For every committed record with per-step data (``trace.steps``), this finds the run
of consecutive accepted points over which ``||H||`` rose at every step by the largest factor, with its length, where
it started, how its points were labelled, and the record's L2RE and status. Writes ``scan.json`` (all records,
largest factor first) in this folder. It reads records only: no trace is run.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
from benchmarks import record  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent


def largest_rise(accepted):
    """``(factor, length, start parameter, {criterion: count})`` of the run of rising ``||H||`` that rose most."""
    best, run_start = (1.0, 0, None, {}), None
    for i in range(1, len(accepted)):
        if accepted[i]["residual_norm"] <= accepted[i - 1]["residual_norm"]:
            run_start = None
            continue
        run_start = i - 1 if run_start is None else run_start
        factor = accepted[i]["residual_norm"] / accepted[run_start]["residual_norm"]
        if factor > best[0]:
            labels = {}
            for step in accepted[run_start + 1:i + 1]:
                labels[step.get("criterion")] = labels.get(step.get("criterion"), 0) + 1
            best = (factor, i - run_start, accepted[run_start]["eps"], labels)
    return best


def main():
    def find(data, steps):
        if "residual_norm" not in steps[0] or "eps" not in steps[0]:
            return None
        factor, length, start, labels = largest_rise([step for step in steps if step["accepted"]])
        return {"rise_factor": factor, "rising_steps": length, "from_parameter": start, "labels": labels}

    _, rows = record.scan(RESULTS, HERE, find)
    rows.sort(key=lambda row: -row["rise_factor"])
    record.write_json(HERE / "scan.json", {"command": "python benchmarks/results/residual-rises/scan.py",
                                           "code": record.code_version(), "records": rows})
    for row in rows[:30]:
        l2re = "-" if row["l2re"] is None else f"{row['l2re']:.2g}"
        print(f"x{row['rise_factor']:9.3g} over {row['rising_steps']:3d} steps from {row['from_parameter']!s:>8.8} "
              f"l2re {l2re:>8} {row['status']!s:>16}  {row['record']}")


if __name__ == "__main__":
    main()
