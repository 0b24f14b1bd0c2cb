"""Which committed traces had their last step rejected for ``delta`` or ``kappa``?

Usage (from the repository root): ``python benchmarks/results/final-step/scan.py`` (seconds; reads records only).

Until dcfa3cb the last step of a natural trace was judged after its ``final_iterations`` (60) corrector
iterations; since then after the path's ``corrector_iterations``, like every step, and corrected on afterwards
(:func:`continuation.stepping.finish_correction`). With Levenberg-Marquardt the iterates are the same, so a trace
can only change where an attempt at its last eps was rejected for ``delta`` or ``kappa``. This lists those
attempts in every committed record that keeps its steps, with the iterations they took. Writes ``scan.json`` here.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
from benchmarks import record  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent


def final_rejections(steps):
    """The attempts at the last accepted eps of ``steps`` rejected for their ``delta`` or ``kappa``."""
    accepted = [step for step in steps if step["accepted"]]
    if not accepted:
        return []
    end = accepted[-1]["eps"]
    return [{"step": step["step"], "eps": step["eps"], "iterations": step["iterations"], "delta": step.get("delta"),
             "reason": step["reason"]}
            for step in steps if step["eps"] == end and not step["accepted"]
            and ("delta =" in step["reason"] or "kappa =" in step["reason"])]


def main():
    def find(data, steps):
        found = final_rejections(steps)
        return {"attempts": found} if found else {}

    scanned, rows = record.scan(RESULTS, HERE, find)
    record.write_json(HERE / "scan.json", {"command": "python benchmarks/results/final-step/scan.py",
                                           "code": record.code_version(), "records_scanned": scanned,
                                           "records_with_a_rejected_last_step": rows})
    print(f"{scanned} records with per-step data; a last step rejected for delta or kappa in {len(rows)}:")
    for row in rows:
        for attempt in row["attempts"]:
            print(f"  {row['record']}: eps {attempt['eps']:.6g}, {attempt['iterations']} iterations, "
                  f"{attempt['reason'][-60:]}")


if __name__ == "__main__":
    main()
