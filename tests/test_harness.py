"""The benchmark harness: configurations, records, tables, the command table and ``verify``."""

import json
import math

import pytest
import torch

import continuation

from benchmarks import harness, record
from benchmarks.__main__ import COMMANDS, main, parser_for

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A results folder in ``tmp_path`` (``record.cached`` prints paths relative to ``record.RESULTS``)."""
    monkeypatch.setattr(record, "RESULTS", tmp_path / "benchmarks" / "results")
    return tmp_path / "benchmarks" / "results"


def test_configurations_refuse_bad_values_naming_them():
    config = harness.Config("ac1d", "ours", 0.1, seed=2, widths=(8, 8), budget="small")
    assert config.fields()["widths"] == [8, 8] and config.fields()["seed"] == 2
    for change, message in (({"seed": -1}, "seed must be"), ({"eps": math.nan}, "eps must be"),
                            ({"widths": (8, 0)}, "widths must be"), ({"points": 0}, "points must be"),
                            ({"d": 0}, "d must be"), ({"options": (("tol",),)}, "options must be")):
        with pytest.raises(ValueError, match=message):
            harness.Config(**{**config.fields(), "widths": tuple(config.widths), **change})


def test_a_record_is_strict_json_with_the_trace_summary_and_round_trips(tmp_path):
    result = continuation.trace(lambda t, e: t**2 - e, torch.tensor([0.9], dtype=torch.float64), [1.0, 0.25])
    built = harness.make_record({"problem": "p", "method": "m", "eps": 0.25}, {"l2re": math.inf, "loss": 1e-12},
                                result, note="x")
    assert built["trace"] == result.summary() and built["trace"]["accepted"] == result.accepted
    assert built["l2re"] is None  # strict JSON: a non-finite figure is written as null
    path = tmp_path / "row.json"
    record.write_json(path, built)
    json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"non-strict JSON: {name}"))
    loaded = record.read_record(path)
    assert {k: v for k, v in loaded.items() if k != "machine"} == built
    assert loaded["machine"]["code"] == record.CODE
    with pytest.raises(ValueError, match=r"keys given twice: \['eps'\]"):
        harness.make_record({"eps": 0.1}, {"eps": 0.2})


def test_records_from_before_the_harness_are_read_in_its_layout(tmp_path):
    old = {"problem": "ac1d", "l2re": 1e-3, "accepted_steps": 3, "rejected_steps": 1, "corrector_iterations": 9,
           "jacobian_evaluations": 4, "reached_parameter": 0.1, "path": [[0.5, 1e-9], [0.2, 2e-9], [0.1, 3e-9]]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    (loaded,) = harness.load_records(tmp_path)
    assert loaded["trace"] == {
        "accepted": 3, "rejected": 1, "corrector_iterations": 9, "jacobian_evaluations": 4, "eps": [0.5, 0.2, 0.1],
        "steps": [{"eps": e, "residual_norm": h, "accepted": True} for e, h in old["path"]],
    }
    assert not {"accepted_steps", "path", "reached_parameter"} & set(loaded)
    assert harness.upgrade(loaded) is loaded  # a record in the new layout is left as it is


def test_every_committed_record_of_run_is_readable():
    rows = [harness.upgrade(json.loads(p.read_text())) for p in sorted(record.RESULTS.glob("*/*.json"))]
    traced = [r for r in rows if "trace" in r]
    assert len(traced) > 50
    assert all(isinstance(r["trace"]["accepted"], int) for r in traced)


def _row(method, seed, l2re, commit=None):
    return {"method": method, "seed": seed, "l2re": l2re, "machine": {"code": {"commit": commit, "dirty": False}}}


COLUMNS = [harness.Column("method", lambda r: r["method"]),
           harness.Column("seeds", lambda r: r["seed"], "d", listed=True),
           harness.Column("L2RE", lambda r: r["l2re"])]


def test_the_table_gives_median_and_range_over_seeds_where_there_are_several():
    rows = [_row("a", 0, 4e-3), _row("b", 0, 1e-3), _row("a", 1, 1e-3), _row("a", 2, 2e-3), _row("b", 1, None)]
    lines = harness.table(rows, COLUMNS, group=lambda r: r["method"], commit=False)
    assert lines == [
        "| method | seeds | L2RE |",
        "|---|---|---|",
        "| a | 0, 1, 2 | 2.00e-03 [1.00e-03, 4.00e-03] |",
        "| b | 0, 1 | 1.00e-03 |",  # a missing figure is left out of the median
    ]
    assert harness.table(rows[:2], COLUMNS, commit=False)[2:] == ["| a | 0 | 4.00e-03 |", "| b | 0 | 1.00e-03 |"]
    # a configuration without a record gets a row that says so
    assert harness.table(rows[:1], COLUMNS, not_run=[("c",)])[2:] == [
        "| a | 0 | 4.00e-03 | - |", "| c | none (not run) |  |  |"]


def test_the_commit_column_marks_rows_made_at_an_older_engine():
    head = record.CODE["commit"]
    if head is None:
        pytest.skip("not a git checkout")
    first = record.subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=record.ROOT,
                                  capture_output=True, text=True, check=True).stdout.split()[0]
    rows = [_row("a", 0, 1e-3, head), _row("b", 0, 1e-3, first), _row("c", 0, 1e-3, "0" * 40), _row("d", 0, 1e-3)]
    cells = [line.rsplit("|", 2)[1].strip() for line in harness.table(rows, COLUMNS)[2:]]
    changed = harness.engine_changes(first)
    assert len(changed) > 2 and all(path.split("/")[0] in harness.ENGINE for path in changed)
    assert cells == [head[:7], f"{first[:7]} (older engine: {len(changed)} files)", "0000000 (unknown)", "-"]
    assert harness.engine_changes(head) == ()


def test_the_figure_helper_saves_and_closes(tmp_path):
    import matplotlib.pyplot as plt

    with harness.figure(tmp_path / "f.png", 1, 2, size=(4, 2)) as (fig, axes):
        assert axes.shape == (1, 2)
        axes[0, 0].plot([0, 1], [1, 0])
    assert (tmp_path / "f.png").stat().st_size > 0 and not plt.fignum_exists(fig.number)
    with pytest.raises(RuntimeError), harness.figure(tmp_path / "g.png") as (fig, axes):
        raise RuntimeError("drawing failed")
    assert not (tmp_path / "g.png").exists() and not plt.fignum_exists(fig.number)


def test_every_command_has_its_module_and_the_shared_options():
    for name, command in COMMANDS.items():
        args = parser_for([name]).parse_args([name, *(["ac1d"] if name in ("run", "sweep") else []),
                                              "--out", "somewhere"])
        assert args.command == name and args.out == "somewhere"
        assert getattr(args, "force", False) is False and hasattr(args, "force") == command.force
        assert hasattr(args, "device") == command.device and str(getattr(args, "device", "cpu")) == "cpu"
    with pytest.raises(SystemExit):
        parser_for(["bratu"]).parse_args(["bratu", "--no-such-option"])


def test_verify_reruns_the_fastest_rows_and_reports_their_drift(results, tmp_path):
    small = ["--budget", "small", "--widths", "8", "8"]
    main(["run", "ac1d", "--eps", "0.1", "--methods", "direct-lm", "ours", *small, "--out", str(results / "ac1d")])
    main(["run", "fit", "--eps", "0.5", "--methods", "direct-lm", *small, "--out", str(results / "fit")])
    lm = results / "ac1d" / "ac1d_eps0.1_w8-8_direct-lm_seed0.json"
    data = json.loads(lm.read_text())
    data["l2re"] *= 2  # as if an older engine had found twice the error
    data["wall_s"] = 1e-9  # the fastest row
    data["status"] = "an older status"
    lm.write_text(json.dumps(data))

    scratch = tmp_path / "scratch"
    rows = main(["verify", "--problem", "ac1d", "--sample", "1", "--serial", "--results", str(results),
                 "--out", str(scratch)])
    assert {r["record"] for r in rows} == {"ac1d/ac1d_eps0.1_w8-8_direct-lm_seed0.json"}
    by_figure = {r["figure"]: r for r in rows}
    assert set(by_figure) == {"status", "l2re", "loss", "interface", "wall_s"}
    assert by_figure["status"]["old"] == "an older status" and by_figure["status"]["drift"]
    assert by_figure["l2re"]["ratio"] == pytest.approx(0.5) and by_figure["l2re"]["drift"]
    assert by_figure["loss"]["ratio"] == pytest.approx(1.0) and not by_figure["loss"]["drift"]
    assert by_figure["l2re"]["new_commit"].startswith(record.CODE["commit"][:7])
    assert (scratch / "ac1d" / lm.name).exists() and not (scratch / "fit").exists()
    page = (scratch / "drift.md").read_text()
    assert "| ac1d/ac1d_eps0.1_w8-8_direct-lm_seed0.json | l2re |" in page and "**drift**" in page
    assert json.loads((scratch / "drift.json").read_text())["rows"] == rows
    assert json.loads(lm.read_text())["l2re"] == data["l2re"]  # the committed row is left as it was

    everything = main(["verify", "--serial", "--results", str(results), "--out", str(scratch)])
    assert {r["record"].split("/")[0] for r in everything} == {"ac1d", "fit"}
    assert all(not r["drift"] for r in everything
               if "direct-lm" not in r["record"] or r["figure"] not in ("l2re", "status"))


def test_verify_refuses_bad_arguments(results, tmp_path):
    for argv, message in ((["--sample", "0"], "--sample must be a positive integer, got 0"),
                          (["--tolerance", "-1"], "--tolerance must be"),
                          (["--out", str(results / "x")], "--out must lie outside --results"),
                          ([], "no records of `python -m benchmarks run`")):
        with pytest.raises(SystemExit, match=message):
            main(["verify", "--serial", "--results", str(results), "--out", str(tmp_path / "scratch"), *argv])


def test_adaptive_points_records_hold_the_trace_summary_under_trace(results, tmp_path, monkeypatch):
    from benchmarks import adaptive_points

    monkeypatch.setattr(adaptive_points, "CONFIGURATIONS", {"rad-24-eps0.3": (0.3, "rad", 24, {}),
                                                            "shishkin-24-eps0.3": (0.3, "shishkin", 24, {})})
    main(["adaptive-points", "--out", str(tmp_path)])
    main(["adaptive-points", "--out", str(tmp_path), "--only", "shishkin-24-eps0.3", "--seed", "1"])
    data = json.loads((tmp_path / "rad-24-eps0.3.json").read_text())
    assert data["eps"] == 0.3 and data["trace"]["eps"][0] == 0.5  # the target, and the path's values apart
    assert data["status"] == data["trace"]["status"] and data["draws"] >= 0
    assert [row[0] for row in data["interface_path"]] == [e for e in data["trace"]["eps"]]  # one per accepted point
    seeded = json.loads((tmp_path / "shishkin-24-eps0.3_seed1.json").read_text())
    assert seeded["seed"] == 1 and seeded["command"].endswith("--seed 1")
    page = (tmp_path / "README.md").read_text()
    assert "| rad-24-eps0.3 | 0 | 0.3 | 24 |" in page and "| shishkin-24-eps0.3 | 1 | 0.3 | 24 |" in page
