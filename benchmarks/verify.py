"""``python -m benchmarks verify``: rerun committed rows of ``run`` at this commit and report each figure's drift.

The rows are the records of ``python -m benchmarks run`` (and ``sweep``)
under ``--results`` (default ``benchmarks/results``), all of them or, with
``--sample N``, the N with the smallest recorded wall time; ``--problem``
keeps one problem. Each row is rerun through the sweep's machinery
(:func:`benchmarks.sweep.execute`: Ray when installed, ``--serial`` in this
process) with the command its record holds, into the scratch folder
``--out`` (default ``verify-output/``, ignored by git; the same relative
paths as under ``--results``). A scratch record already made at this commit
(without uncommitted changes) is kept, so a stopped verification resumes.

Then ``drift.md`` and ``drift.json`` in ``--out``: per row and figure (L2RE,
loss, the problem's metric, wall time), the old value, the new one, their
ratio and the two commits; a figure other than the wall time whose relative
change exceeds ``--tolerance`` is marked ``drift``, and so is a changed
status (its own row).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Optional

from . import harness, record
from .run import METHODS, PROBLEMS, check_device, job_of
from .sweep import add_ray_arguments, execute

__all__ = ["FIGURES", "add_arguments", "committed_rows", "drift", "main"]

DEFAULT_OUT = Path("verify-output")
"""The scratch folder, relative to the working directory (ignored by git)."""

FIGURES = ("l2re", "loss", "interface", "interface_error", "resonant_error_share", "wall_s")
"""The figures compared, where a record has them."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks verify`` (``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--sample", type=int, default=None,
                        help="rerun only the N rows with the smallest recorded wall time (default: all)")
    parser.add_argument("--problem", choices=sorted(PROBLEMS), default=None, help="only the rows of this problem")
    parser.add_argument("--results", default=None, help="folder of the committed records (default benchmarks/results)")
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="relative change of a figure (wall time aside) above which it is marked drift")
    add_ray_arguments(parser)


def committed_rows(results: Path, problem: Optional[str] = None) -> list[tuple[Path, dict[str, Any]]]:
    """The records of ``run`` under ``results`` (of ``problem`` only, if given), fastest first by wall time."""
    rows = []
    for path in sorted(results.rglob("*.json")):
        data = record.read_record(path)
        if (data.get("problem") in PROBLEMS and data.get("method") in METHODS and "wall_s" in data
                and str(data.get("command", "")).startswith("python -m benchmarks run ")
                and problem in (None, data["problem"])):
            rows.append((path, data))
    return sorted(rows, key=lambda row: row[1]["wall_s"])


def _commit(data: dict[str, Any]) -> str:
    code = (data.get("machine") or {}).get("code") or {}
    return (code.get("commit") or "-")[:7] + ("+" if code.get("dirty") else "")


def drift(name: str, old: dict[str, Any], new: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """The rows of the drift table for one record: per figure both have, old and new value and their ratio;
    a changed status is a row of its own (always marked drift).

    Examples
    --------
    >>> rows = drift("a.json", {"l2re": 1e-3, "wall_s": 2.0, "status": "success"},
    ...              {"l2re": 1.2e-3, "wall_s": 1.0, "status": "ill_conditioned"}, 0.05)
    >>> [(r["figure"], r["ratio"], r["drift"]) for r in rows]
    [('status', None, True), ('l2re', 1.2, True), ('wall_s', 0.5, False)]
    """
    commits = {"old_commit": _commit(old), "new_commit": _commit(new)}
    rows = []
    if old.get("status") != new.get("status"):
        rows.append({"record": name, "figure": "status", "old": old.get("status"), "new": new.get("status"),
                     "ratio": None, "drift": True, **commits})
    for figure in FIGURES:
        a, b = old.get(figure), new.get(figure)
        if a is None or b is None:
            continue
        ratio = b / a if a != 0 else (1.0 if b == 0 else math.inf)
        rows.append({"record": name, "figure": figure, "old": a, "new": b, "ratio": ratio,
                     "drift": figure != "wall_s" and abs(ratio - 1) > tolerance, **commits})
    return rows


COLUMNS = [
    harness.Column("record", lambda r: r["record"]), harness.Column("figure", lambda r: r["figure"]),
    harness.Column("old", lambda r: r["old"], ".3e"), harness.Column("new", lambda r: r["new"], ".3e"),
    harness.Column("new / old", lambda r: r["ratio"], ".4g"),
    harness.Column("drift", lambda r: "**drift**" if r["drift"] else ""),
    harness.Column("old commit", lambda r: r["old_commit"]), harness.Column("new commit", lambda r: r["new_commit"]),
]


def _current(path: Path, device: str) -> bool:
    """Whether the scratch record at ``path`` was made by this code (this commit, no uncommitted changes)
    on ``device``."""
    if not path.exists():
        return False
    data = record.read_record(path)
    code = (data.get("machine") or {}).get("code") or {}
    head = record.CODE["commit"]
    return head is not None and code.get("commit") == head and code.get("dirty") is False and \
        data.get("device", "cpu") == device


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Rerun the rows, then print and write the drift table; returns its rows."""
    if args.sample is not None and args.sample < 1:
        raise SystemExit(f"--sample must be a positive integer, got {args.sample}")
    if not (math.isfinite(args.tolerance) and args.tolerance >= 0):
        raise SystemExit(f"--tolerance must be a non-negative number, got {args.tolerance}")
    results = Path(args.results) if args.results else record.RESULTS
    out = Path(args.out) if args.out else DEFAULT_OUT
    if out.resolve() == results.resolve() or results.resolve() in out.resolve().parents:
        raise SystemExit(f"--out must lie outside --results ({results}), got {out}")
    rows = committed_rows(results, args.problem)[: args.sample]
    if not rows:
        raise SystemExit(f"no records of `python -m benchmarks run` under {results}"
                         + (f" for --problem {args.problem}" if args.problem else ""))
    device = str(args.device)
    check_device([data["method"] for _, data in rows], device)
    jobs = []
    for path, data in rows:
        scratch = out / path.relative_to(results)
        jobs.append(job_of(data, scratch, force=not _current(scratch, device), device=device))
    outcomes = execute(jobs, address=args.address, cpus=args.cpus, serial=args.serial)
    found, failed = [], []
    for (path, old), job, ok in zip(rows, jobs, outcomes):
        name = str(path.relative_to(results))
        if ok:
            found += drift(name, old, record.read_record(job.path), args.tolerance)
        else:
            failed.append(name)
    drifted = sorted({r["record"] for r in found if r["drift"]})
    lines = [
        "# Drift of committed rows rerun at this commit", "",
        f"Command: `python -m benchmarks verify` over {len(rows)} rows of {results} (fastest first by recorded "
        f"wall time). drift: a figure other than the wall time that changed by more than {args.tolerance:g} "
        f"(relative). Rows that drifted: {len(drifted)} of {len(rows)}"
        + (f"; failed to rerun: {', '.join(failed)}" if failed else "") + ".", "",
        *harness.table(found, COLUMNS, commit=False),
    ]
    print(harness.write_page(out, lines, "drift.md"))
    record.write_json(out / "drift.json", {"results": str(results), "tolerance": args.tolerance, "rows": found,
                                           "failed": failed})
    if failed:
        raise SystemExit(f"failed to rerun: {', '.join(failed)}")
    return found
