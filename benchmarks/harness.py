"""The harness behind every benchmark: configurations, records, tables, figures and output folders.

A benchmark module builds its records with :func:`make_record` (what ran,
the problem's metrics and, for a trace, :meth:`continuation.TraceResult.summary`
under ``"trace"``), writes them with :func:`benchmarks.record.cached` (strict
JSON, atomic), reads them back with :func:`load_records` (which also reads
records written before this harness, see :func:`upgrade`), lays them out with
:func:`table` (one row per record, or median [min, max] over the seeds of a
group; a commit column marks rows made at an older engine) and draws with
:func:`figure`. The command line (:mod:`benchmarks.__main__`) adds ``--force``
and ``--out`` to every command; :func:`out_folder` resolves ``--out``.
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
import subprocess
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from continuation import TraceResult
from continuation.result import strict_json

from . import record
from .record import load_records, upgrade

__all__ = [
    "Config", "Column", "make_record", "upgrade", "load_records", "cell", "spread", "commit_cell", "table",
    "write_page", "figure", "device", "out_folder", "ENGINE",
]


@dataclass(frozen=True)
class Config:
    """One configuration of a benchmark: what a row of a table ran.

    Attributes
    ----------
    problem
        Name of the problem (a key of the benchmark's catalogue).
    method
        Name of the method.
    eps
        Target value of the homotopy parameter.
    seed
        Seed of the network initialisation and of the points.
    widths
        Hidden layer widths (empty: the benchmark's own network).
    points
        Interior collocation points (``None``: the problem's rule).
    budget
        Name of the iteration budget (``"full"``, ``"small"``, ...).
    d
        Dimension, for problems that have one (``None`` otherwise).
    options
        ``(name, value)`` pairs of :class:`continuation.Options` that differ from the
        method's own (empty: none; only continuation methods take them).
    """

    problem: str
    method: str
    eps: float
    seed: int = 0
    widths: tuple[int, ...] = ()
    points: Optional[int] = None
    budget: str = "full"
    d: Optional[int] = None
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not (isinstance(self.eps, (int, float)) and math.isfinite(self.eps) and self.eps >= 0):
            raise ValueError(f"eps must be a finite non-negative number, got {self.eps!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if any(not isinstance(w, int) or w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive integers, got {self.widths!r}")
        if self.points is not None and self.points < 1:
            raise ValueError(f"points must be a positive integer or None, got {self.points!r}")
        if self.d is not None and self.d < 1:
            raise ValueError(f"d must be a positive integer or None, got {self.d!r}")
        if any(not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)) for pair in self.options):
            raise ValueError(f"options must be (name, value) pairs, got {self.options!r}")

    def fields(self) -> dict[str, Any]:
        """The configuration as plain values (``widths`` as a list)."""
        return {**asdict(self), "widths": list(self.widths)}


# ---- records ----------------------------------------------------------------------------------


def make_record(what: Mapping[str, Any], metrics: Mapping[str, Any], trace: Optional[TraceResult] = None,
                **details: Any) -> dict[str, Any]:
    """One record: ``what`` ran, the problem's ``metrics``, ``details``, and ``trace.summary()`` under ``"trace"``.

    The record is strict JSON (NaN and Inf become ``None``); :func:`benchmarks.record.cached`
    writes it atomically with the machine added.

    Examples
    --------
    >>> make_record({"problem": "p", "method": "m"}, {"l2re": float("nan")}, note="x")
    {'problem': 'p', 'method': 'm', 'l2re': None, 'note': 'x'}
    """
    clash = set(what) & set(metrics) | (set(what) | set(metrics)) & set(details)
    if clash:
        raise ValueError(f"make_record: keys given twice: {sorted(clash)}")
    built = {**what, **metrics, **details}
    if trace is not None:
        if "trace" in built:
            raise ValueError("make_record: 'trace' is given both as a key and as the trace")
        built["trace"] = trace.summary()
    return strict_json(built)


# ---- tables -----------------------------------------------------------------------------------


def cell(value: Any, spec: str = ".2e") -> str:
    """``value`` as a table cell: ``-`` for ``None``, numbers by ``spec``, anything else as text.

    Examples
    --------
    >>> cell(None), cell(0.000123), cell(3, "d"), cell(True), cell("ok")
    ('-', '1.23e-04', '3', 'True', 'ok')
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return format(value, spec)


def spread(values: Sequence[Optional[float]], spec: str = ".2e") -> str:
    """The median [min, max] of ``values`` (``None`` left out), or the one value, or ``-``.

    Examples
    --------
    >>> spread([3.0, 1.0, 2.0], ".1f"), spread([2.0], ".1f"), spread([None])
    ('2.0 [1.0, 3.0]', '2.0', '-')
    """
    kept = [v for v in values if v is not None]
    if not kept:
        return "-"
    if len(kept) == 1:
        return cell(kept[0], spec)
    return f"{cell(statistics.median(kept), spec)} [{cell(min(kept), spec)}, {cell(max(kept), spec)}]"


ENGINE = ("continuation", "pde", "models", "dynamics")
"""The folders whose code makes a figure: a row made where they differ from HEAD's is marked in its commit cell."""


@functools.lru_cache(maxsize=None)
def engine_changes(commit: str) -> Optional[tuple[str, ...]]:
    """The files of the engine (:data:`ENGINE`) that differ between ``commit`` and HEAD (``None``: git cannot say)."""
    try:
        done = subprocess.run(["git", "diff", "--name-only", commit, "HEAD", "--", *ENGINE], cwd=record.ROOT,
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return tuple(done.stdout.split()) if done.returncode == 0 else None


def commit_cell(data: Mapping[str, Any]) -> str:
    """The commit that made a record, short, ``+`` when it had uncommitted changes, marked
    ``(older engine: FILES)`` when the engine has changed since (the files, or their number beyond two:
    a reader sees whether the change can touch the row), ``(unknown)`` for a commit git does not know,
    ``-`` when not recorded; a run resumed across commits adds ``(earlier pieces at ...)``."""
    code = (data.get("machine") or {}).get("code") or {}
    commit = code.get("commit")
    if not commit:
        return "-"
    changes = engine_changes(commit)
    if changes is None:
        mark = " (unknown)"
    elif changes:
        mark = f" (older engine: {', '.join(changes) if len(changes) <= 2 else f'{len(changes)} files'})"
    else:
        mark = ""
    earlier = sorted({(piece.get("commit") or "unknown")[:7] for piece in (data.get("code_of_pieces") or [])[:-1]}
                     - {commit[:7]})
    if earlier:
        mark += f" (earlier pieces at {', '.join(earlier)})"
    return commit[:7] + ("+" if code.get("dirty") else "") + mark


@dataclass(frozen=True)
class Column:
    """A column of :func:`table`: its title, the value of a record, and how numbers are written."""

    title: str
    value: Callable[[Mapping[str, Any]], Any]
    spec: str = ".2e"
    listed: bool = False
    """Over a group: list every value (the seeds of a row) rather than their median and range."""

    def over(self, rows: Sequence[Mapping[str, Any]]) -> str:
        """The cell of a group of records: their one value, else median [min, max] of numbers, else the
        distinct values (every value with ``listed``)."""
        values = [self.value(r) for r in rows]
        cells = [cell(v, self.spec) for v in values]
        if self.listed:
            return ", ".join(cells)
        if len(set(cells)) == 1:
            return cells[0]
        if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
            return spread(values, self.spec)
        return ", ".join(dict.fromkeys(cells))


def trace_columns(wall_spec: str = ".1f") -> list[Column]:
    """The columns a table of traced records ends with: steps accepted/rejected, corrector iterations
    (from the record's ``"trace"`` summary), wall time (written by ``wall_spec``) and the machine's load.

    Examples
    --------
    >>> [column.title for column in trace_columns()]
    ['steps acc/rej', 'corrector its', 'wall s', 'load']
    """
    return [
        Column("steps acc/rej", lambda r: f"{r['trace']['accepted']}/{r['trace']['rejected']}"),
        Column("corrector its", lambda r: r["trace"]["corrector_iterations"], "d"),
        Column("wall s", lambda r: r["wall_s"], wall_spec),
        Column("load", lambda r: r["machine"].get("load_average", [None])[0], ".1f"),
    ]


def table(records: Sequence[Mapping[str, Any]], columns: Sequence[Column],
          group: Optional[Callable[[Mapping[str, Any]], Any]] = None, commit: bool = True,
          not_run: Sequence[Sequence[str]] = ()) -> list[str]:
    """A markdown table of ``records``: a row per record, or per ``group`` of records (over seeds).

    With ``group`` (a key of a record), the records that share a key make one
    row, in the order of their first record; number cells are then the median
    [min, max] over the group (:func:`spread`). With ``commit``, a last column
    gives the commits that made the rows (:func:`commit_cell`). Each entry of
    ``not_run`` (the first cells of a configuration without a record) ends
    the table with a row saying ``none (not run)``.

    Examples
    --------
    >>> rows = [{"method": "a", "seed": s, "l2re": v} for s, v in ((0, 1e-3), (1, 3e-3), (2, 2e-3))]
    >>> columns = [Column("method", lambda r: r["method"]), Column("seeds", lambda r: r["seed"], "d", listed=True),
    ...            Column("L2RE", lambda r: r["l2re"])]
    >>> print("\\n".join(table(rows, columns, group=lambda r: r["method"], commit=False)))
    | method | seeds | L2RE |
    |---|---|---|
    | a | 0, 1, 2 | 2.00e-03 [1.00e-03, 3.00e-03] |
    """
    columns = list(columns) + ([Column("commit", commit_cell)] if commit else [])
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for i, r in enumerate(records):
        groups.setdefault(i if group is None else group(r), []).append(r)
    lines = ["| " + " | ".join(c.title for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(c.over(rows) for c in columns) + " |" for rows in groups.values()]
    lines += ["| " + " | ".join([*cells, "none (not run)", *[""] * (len(columns) - len(cells) - 1)]) + " |"
              for cells in not_run]
    return lines


def write_page(out: Path, lines: Sequence[str], name: str = "README.md") -> str:
    """Write ``lines`` as ``out/name`` (atomically; the folder is made) and return the text."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    out.mkdir(parents=True, exist_ok=True)
    record.replace_atomically(out / name, lambda partial: partial.write_text(text))
    return text


# ---- figures and folders ----------------------------------------------------------------------


@contextmanager
def figure(path: Path, rows: int = 1, columns: int = 1, size: tuple[float, float] = (6.0, 4.0), dpi: int = 110,
           legend: Optional[int] = None, grid: bool = False, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """``(fig, axes)`` of a ``rows`` x ``columns`` grid (``axes`` always 2-D); saved to ``path`` and closed
    at the end of the ``with`` block (laid out first; closed without saving if the block raises).

    At the end, ``legend`` (a font size) puts a legend on every axes and ``grid`` a light grid
    on both scales; ``subplots`` go to :func:`matplotlib.pyplot.subplots` (``sharex``, ...).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False, **subplots)
    try:
        yield fig, axes
        for ax in axes.flat:
            if legend is not None:
                ax.legend(fontsize=legend)
            if grid:
                ax.grid(True, which="both", alpha=0.3)
        record.save_figure(fig, path, dpi)
    finally:
        plt.close(fig)


def device(value: str) -> "torch.device":
    """``--device``: ``value`` as a torch device this machine has, else :class:`argparse.ArgumentTypeError`
    (argparse then names the option and the value, before any work).

    Examples
    --------
    >>> device("cpu"), device("meta")
    (device(type='cpu'), device(type='meta'))
    >>> device("gpu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'gpu' is not a device of this machine (Expected one of cpu, ...)
    """
    import torch

    try:
        placed = torch.device(value)
        torch.empty(0, device=placed)
    except (RuntimeError, AssertionError, ValueError) as error:
        reason = str(error).strip().splitlines()[0]
        raise argparse.ArgumentTypeError(f"{value!r} is not a device of this machine ({reason})") from None
    return placed


def out_folder(args: argparse.Namespace, *default: str) -> Path:
    """``--out`` if given, else ``benchmarks/results/<default...>`` (read at call time)."""
    return Path(args.out) if args.out else record.RESULTS.joinpath(*default)
