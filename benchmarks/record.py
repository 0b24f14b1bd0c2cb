"""JSON records of benchmark runs: what ran, on what, with which result."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import torch

from continuation.result import strict_json

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def code_version() -> dict[str, Any]:
    """The git commit of the code and whether tracked files differ from it (``None`` outside a checkout).

    Result files (``benchmarks/results``) do not count: a benchmark that has
    just rewritten a table does not make the code of the next one dirty.
    """
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results")
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(changed)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


CODE = code_version()
"""The code a run in this process uses, read once at import (later edits do not change a running benchmark)."""


def machine() -> dict[str, Any]:
    """The machine and software a figure was measured on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        # the vector instructions torch's CPU kernels use (AVX2, AVX512, ...): an LM path in float64 can part
        # from the same code's on another instruction set at rounding level, and then by more
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        # other work on the machine while this ran (1, 5 and 15 minute averages)
        "load_average": list(os.getloadavg()),
        "code": CODE,
    }


def save_figure(fig, path: Path, dpi: int = 110) -> Path:
    """Lay out ``fig``, write it to ``path`` and close it (the tail of every benchmark plot)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (with the machine added) as indented, strict JSON (NaN and Inf written as ``null``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = strict_json(json.loads(json.dumps({**payload, "machine": machine()}, default=float)))
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    replace_atomically(path, lambda partial: partial.write_text(text))


def replace_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """``write`` a file aside, then rename it to ``path``.

    A run stopped while writing (the end of a session) leaves the previous file whole, and a
    process reading ``path`` meanwhile (another run assembling a table) never sees half a file.
    """
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)


def checkpoint_path(record_path: Path, force: bool = False) -> Path:
    """Where the run of the record at ``record_path`` keeps its checkpoint; removed first when ``force``.

    ``--force`` reruns a configuration from the start, so its old checkpoint must not be resumed.
    """
    checkpoint = record_path.with_name(record_path.stem + ".checkpoint.pt")
    if force:
        checkpoint.unlink(missing_ok=True)
        pieces_path(checkpoint).unlink(missing_ok=True)
    return checkpoint


def pieces_path(checkpoint: Path) -> Path:
    """The file beside a checkpoint that lists the code of each process that worked on the run."""
    return checkpoint.with_name(checkpoint.stem + ".pieces")  # JSON, named so that no table reads it as a record


def write_pieces(checkpoint: Path, pieces: list[dict[str, Any]]) -> None:
    """Write the code of a run's pieces (:func:`code_of_pieces`) beside its checkpoint."""
    path = pieces_path(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pieces))


def code_of_pieces(checkpoint: Path, resumed: bool, eps: float, wall_s: float) -> list[dict[str, Any]]:
    """The code of each process that worked on a checkpointed run, this one last (from ``eps`` and
    ``wall_s`` on): a run resumed across sessions may span commits, and its record says which made what.

    One entry per process (a process saves a piece of the trace every ten minutes; its entry covers them
    all). The earlier entries are read from :func:`pieces_path`; a resumed checkpoint without that file
    (written before it existed) gets one entry of unknown code.
    """
    path = pieces_path(checkpoint)
    if resumed and path.exists():
        earlier = json.loads(path.read_text())
    elif resumed:
        earlier = [{"commit": None, "dirty": None, "from_eps": None, "from_wall_s": 0.0}]
    else:
        earlier = []
    return earlier + [{**CODE, "from_eps": eps, "from_wall_s": wall_s}]


def cached(path: Path, compute: Callable[[], dict[str, Any]], force: bool = False) -> dict[str, Any]:
    """The record at ``path`` if it exists, else ``compute()`` written there.

    Long benchmarks run in pieces: one file per configuration, written when it
    finishes and skipped when it exists.
    """
    if path.exists() and not force:
        print(f"[skip] {os.path.relpath(path)} exists")
        return read_record(path)
    payload = compute()
    write_json(path, payload)
    print(f"[wrote] {os.path.relpath(path)}")
    return read_record(path)


LEGACY_TRACE_KEYS = {"accepted_steps": "accepted", "rejected_steps": "rejected"}
"""Counters of a trace that records made before the harness kept at their top level, by their new names."""

LEGACY_REACHED_KEYS = ("reached_parameter", "reached", "reached_eps")
"""Top-level keys of older records that held the last accepted parameter."""


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A record made before the harness in the harness's layout (a newer record is returned unchanged).

    Older records kept a trace's counters at their top level
    (``accepted_steps``, ``rejected_steps``, ``corrector_iterations``,
    ``jacobian_evaluations``, ``conditioning``), the accepted path as ``path`` (``[eps, ||H||]``
    rows) and the last parameter as ``reached_parameter`` (``reached``,
    ``reached_eps``); they move under ``"trace"`` with the names of
    :meth:`continuation.TraceResult.summary` (``accepted``, ``rejected``, ...;
    ``eps`` the accepted parameters, ``steps`` the accepted rows).

    Examples
    --------
    >>> upgrade({"l2re": 1.0, "accepted_steps": 2, "rejected_steps": 0, "path": [[0.5, 1e-9], [0.1, 1e-8]]})
    {'l2re': 1.0, 'trace': {'accepted': 2, 'rejected': 0, 'eps': [0.5, 0.1], 'steps': [{'eps': 0.5, \
'residual_norm': 1e-09, 'accepted': True}, {'eps': 0.1, 'residual_norm': 1e-08, 'accepted': True}]}}
    """
    if "trace" in data or "accepted_steps" not in data:
        return data
    data = dict(data)
    trace: dict[str, Any] = {new: data.pop(old) for old, new in LEGACY_TRACE_KEYS.items()}
    for key in ("corrector_iterations", "jacobian_evaluations", "conditioning"):
        if key in data:
            trace[key] = data.pop(key)
    path = data.pop("path", None)
    reached = [data.pop(key) for key in LEGACY_REACHED_KEYS if key in data]
    if path is not None:
        trace["eps"] = [float(e) for e, _ in path]
        trace["steps"] = [{"eps": float(e), "residual_norm": h, "accepted": True} for e, h in path]
    elif reached and reached[0] is not None:
        trace["eps"] = [reached[0]]
    data["trace"] = trace
    return data


def read_record(path: Path) -> dict[str, Any]:
    """The record at ``path``, upgraded (:func:`upgrade`)."""
    return upgrade(json.loads(Path(path).read_text()))


def load_records(folder: Path, pattern: str = "*.json") -> list[dict[str, Any]]:
    """The records of ``folder`` matching ``pattern``, by file name, upgraded (:func:`upgrade`)."""
    return [read_record(path) for path in sorted(Path(folder).glob(pattern))]


def stepped_records(root: Path, skip: Optional[Path] = None) -> Iterator[tuple[Path, dict[str, Any], list[dict]]]:
    """``(path, record, steps)`` for every JSON under ``root`` (by path, those directly in ``skip`` left out)
    whose trace keeps its per-step records (``trace.steps``, a list of dicts), read as written (not upgraded)."""
    for path in sorted(Path(root).rglob("*.json")):
        if skip is not None and path.parent == skip:
            continue
        data = json.loads(path.read_text())
        trace = data.get("trace") if isinstance(data, dict) else None
        steps = trace.get("steps") if isinstance(trace, dict) else None
        if steps and isinstance(steps[0], dict):
            yield path, data, steps


def scan(root: Path, skip: Path, find: Callable[[dict[str, Any], list[dict]], Optional[dict[str, Any]]]
         ) -> tuple[int, list[dict[str, Any]]]:
    """An evidence scan of the committed records under ``root`` that keep their steps (:func:`stepped_records`,
    ``skip`` the scan's own folder): ``find(record, steps)`` is what the scan found in one record, ``None`` if it
    does not read such a record, empty if it found nothing. Returns how many records it read and a row for each
    finding: the record's path under ``root``, the finding, and the record's L2RE and status."""
    scanned, rows = 0, []
    for path, data, steps in stepped_records(root, skip):
        found = find(data, steps)
        if found is None:
            continue
        scanned += 1
        if found:
            rows.append({"record": str(path.relative_to(root)), **found, "l2re": data.get("l2re"),
                         "status": data.get("status") or data["trace"].get("status")})
    return scanned, rows
