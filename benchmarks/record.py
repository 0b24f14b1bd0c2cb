"""JSON records of benchmark runs: what ran, on what, with which result."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

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
    if force and checkpoint.exists():
        checkpoint.unlink()
    return checkpoint


def cached(path: Path, compute: Callable[[], dict[str, Any]], force: bool = False) -> dict[str, Any]:
    """The record at ``path`` if it exists, else ``compute()`` written there.

    Long benchmarks run in pieces: one file per configuration, written when it
    finishes and skipped when it exists.
    """
    if path.exists() and not force:
        print(f"[skip] {os.path.relpath(path)} exists")
        return json.loads(path.read_text())
    payload = compute()
    write_json(path, payload)
    print(f"[wrote] {os.path.relpath(path)}")
    return json.loads(path.read_text())
