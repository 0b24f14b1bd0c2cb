"""The sweep: configurations over seeds, on a real local Ray cluster or in order; resumable."""

import json

import pytest

from benchmarks.sweep import configurations, execute, run_sweep, seed_table

SMALL = ["ac1d", "--eps", "0.1", "--methods", "ours", "direct-lm", "--budget", "small", "--widths", "8", "8"]


def _records(folder):
    return {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}


def test_a_sweep_on_ray_writes_one_record_per_configuration(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed here (pip install .[sweep])")
    run_sweep(SMALL + ["--seeds", "0", "--cpus", "2", "--out", str(tmp_path)])
    records = _records(tmp_path)
    assert sorted(r["method"] for r in records.values()) == ["direct-lm", "ours"]
    assert all(r["seed"] == 0 and r["eps"] == 0.1 for r in records.values())
    assert all(r["machine"]["torch_threads"] == 1 for r in records.values())  # one torch thread per task
    assert "## Over seeds" in (tmp_path / "README.md").read_text()


def test_an_interrupted_sweep_resumed_gives_the_same_records(tmp_path, monkeypatch):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    run_sweep(SMALL + ["--seeds", "0", "1", "--serial", "--out", str(whole)])
    from benchmarks import sweep

    calls = []
    real = sweep.run_configuration

    def stop_after_one(configuration):
        if calls:
            raise KeyboardInterrupt
        calls.append(configuration)
        return real(configuration)

    monkeypatch.setattr(sweep, "run_configuration", stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMALL + ["--seeds", "0", "1", "--serial", "--out", str(cut)])
    assert len(list(cut.glob("*.json"))) == 1
    monkeypatch.setattr(sweep, "run_configuration", real)
    run_sweep(SMALL + ["--seeds", "0", "1", "--serial", "--out", str(cut)])
    a, b = _records(whole), _records(cut)
    assert sorted(a) == sorted(b) and len(a) == 4
    assert all(a[name]["l2re"] == b[name]["l2re"] and a[name]["theta"] == b[name]["theta"] for name in a)
    table = seed_table(list(b.values()))
    assert "| ours | 0.1 | 0, 1 |" in table


def test_bad_sweep_arguments_are_refused_before_any_work(tmp_path):
    from benchmarks.__main__ import parser_for

    parser = parser_for(["sweep"])
    for extra, message in ((["--seeds", "-1"], "--seeds"), (["--methods", "nope"], "--methods"),
                           (["--eps", "0.9"], "--eps"), (["--cpus", "0"], "--cpus")):
        with pytest.raises(SystemExit, match=message):
            configurations(parser.parse_args(["sweep", *SMALL[:1], *extra, "--out", str(tmp_path)]))
    assert execute([], serial=True) == []
