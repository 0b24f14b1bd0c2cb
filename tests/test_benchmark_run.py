"""Smoke run of ``python -m benchmarks run`` with the small budget: every method, one JSON each."""

import dataclasses
import json
import math

import pytest
import torch

import continuation
from continuation import LevenbergMarquardt

from benchmarks import record
from benchmarks.__main__ import main
from benchmarks.run import BUDGETS, PROBLEMS, methods_for, schedule
from models import MLP

KEYS = {
    "problem", "method", "eps", "l2re", "loss", "wall_s", "weights", "points", "seed", "budget", "status",
    "machine",
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A results folder in ``tmp_path``.

    ``record.cached`` prints paths relative to the repository root, taken
    from ``record.RESULTS``; it is pointed into ``tmp_path`` so that an
    output folder outside the repository can be used.
    """
    monkeypatch.setattr(record, "RESULTS", tmp_path / "benchmarks" / "results")
    return tmp_path / "benchmarks" / "results" / "smoke"


METHODS = methods_for("ac2d-time")


def test_small_budget_run_writes_every_method(results):
    argv = ["run", "ac2d-time", "--eps", "0.1", "0.05", "--budget", "small", "--seed", "0", "--out", str(results)]
    main(argv + ["--methods", *METHODS])
    files = sorted(results.glob("*.json"))
    assert len(files) == 2 * len(METHODS)
    for path in files:
        data = json.loads(path.read_text())
        assert KEYS <= set(data), KEYS - set(data)
        assert data["problem"] == "ac2d-time" and data["budget"] == "small" and data["seed"] == 0
        assert data["method"] in METHODS and data["eps"] in (0.1, 0.05)
        assert (data["parameter"], data["start"], data["target"]) == ("s", 1.0, 0.0)
        assert math.isfinite(data["l2re"]) and math.isfinite(data["loss"]), path.name
        assert data["weights"] == 1981 and data["points"] == 40 and data["boundary_points"] == 12
        assert "interface_error" in data and data["machine"]["torch_threads"] == 1
        assert data["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
        assert data["device"] == "cpu" and "--device" not in data["command"]
    table = (results / "README.md").read_text()
    assert all(f"| {method} |" in table for method in METHODS)
    assert (results / "l2re.png").stat().st_size > 0

    # an existing record is skipped, not recomputed
    ours = results / "ac2d-time_eps0.1_ours_seed0.json"
    before = ours.read_text()
    main(argv[:3] + ["0.1"] + argv[5:] + ["--methods", "ours"])
    assert ours.read_text() == before


def test_bad_arguments_are_refused(results):
    with pytest.raises(SystemExit, match="eps"):
        main(["run", "fit", "--eps", "1.5", "--budget", "small", "--out", str(results)])
    with pytest.raises(SystemExit, match="helmholtz only"):
        main(["run", "ac2d", "--d", "3", "--budget", "small", "--out", str(results)])


def test_schedules():
    values = schedule(0.5, 0.01, 0.8)
    assert values[0] == 0.5 and values[-1] == 0.01
    ratios = [b / a for a, b in zip(values, values[1:])]
    assert max(ratios) == pytest.approx(min(ratios)) and 0.8 <= ratios[0] < 0.82
    time_values = schedule(1.0, 0.0, 0.5, floor=1e-3)
    assert time_values[-1] == 0.0 and time_values[-2] > 1e-3 and len(time_values) == 11


def test_deepxde_network_starts_from_our_weights():
    """The deepxde method copies ``MLP.init`` into DeepXDE's FNN and back without change."""
    pytest.importorskip("deepxde")
    from benchmarks.deepxde_baseline import _copy_into, _flatten, _import_deepxde

    dde = _import_deepxde()
    model = MLP([1, 5, 5, 1])
    theta = model.init(seed=2)
    previous = torch.get_default_dtype()
    try:
        dde.config.set_default_float("float64")
        net = dde.nn.FNN(model.widths, "tanh", "Glorot normal")
    finally:
        torch.set_default_dtype(previous)
    _copy_into(net, model, theta)
    x = torch.linspace(-1, 1, 9, dtype=torch.float64)[:, None]
    torch.testing.assert_close(net(x).detach(), model.apply(theta, x))
    torch.testing.assert_close(_flatten(net), theta)


def test_deepxde_smoke_run_on_p1(results):
    pytest.importorskip("deepxde")
    main(["run", "ac1d", "--eps", "0.1", "--methods", "deepxde", "--budget", "small", "--out", str(results)])
    assert torch.get_default_dtype() == torch.float32  # DeepXDE's float64 setting does not leak out
    data = json.loads((results / "ac1d_eps0.1_deepxde_seed0.json").read_text())
    assert data["deepxde_version"] and math.isfinite(data["l2re"]) and math.isfinite(data["interface"])
    # DeepXDE's own loss also has the PDE residual at the two boundary points: close to ours, not equal
    assert data["deepxde_final_loss"] == pytest.approx(data["loss"], rel=0.5)


def test_deepxde_method_is_refused_for_other_problems():
    with pytest.raises(SystemExit, match="deepxde applies to ac1d only"):
        main(["run", "fit", "--methods", "deepxde", "--budget", "small", "--out", "unused"])


def test_network_and_point_count_variants_get_their_own_records(results):
    main(["run", "fit", "--eps", "0.5", "--methods", "direct-lm", "--budget", "small", "--out", str(results),
          "--widths", "4", "4", "--points", "9"])
    (path,) = results.glob("*.json")
    assert path.name == "fit_eps0.5_w4-4_n9_direct-lm_seed0.json"
    data = json.loads(path.read_text())
    assert data["network"] == [1, 4, 4, 1] and data["weights"] == 33 and data["points"] == 9
    assert "--points 9" in data["command"]
    with pytest.raises(SystemExit, match="--points must be a positive integer, got 0"):
        main(["run", "fit", "--points", "0", "--budget", "small", "--out", str(results)])


def test_an_option_of_ours_reaches_its_trace_its_record_and_its_rerun(results, tmp_path):
    from benchmarks.run import job_of

    main(["run", "fit", "--eps", "0.5", "--methods", "ours", "direct-lm", "--budget", "small", "--widths", "4", "4",
          "--points", "9", "--option", "final_iterations=3", "--option", "tol=1e-3", "--out", str(results)])
    ours = json.loads((results / "fit_eps0.5_w4-4_n9_final_iterations3_tol0.001_ours_seed0.json").read_text())
    assert ours["options"]["final_iterations"] == 3 and ours["options"]["tol"] == 1e-3
    assert "with {'final_iterations': 3, 'tol': 0.001}" in ours["method_detail"]
    # the trace used them: its last step took at most 3 iterations
    assert [s for s in ours["trace"]["steps"] if s["accepted"]][-1]["iterations"] <= 3
    # the other method has no options to change: its record and file name are those of a plain run
    assert (results / "fit_eps0.5_w4-4_n9_direct-lm_seed0.json").exists()
    rerun = job_of(ours, tmp_path / "a.json")
    assert rerun.config.options == (("final_iterations", 3), ("tol", 1e-3))
    for bad, message in ((["--option", "no_such_option=1"], "no_such_option"),
                         (["--option", "tol=-1.0"], "options.tol must be"),
                         (["--methods", "direct-lm", "--option", "tol=1e-3"], "tol: no method of --methods direct-lm")):
        with pytest.raises(SystemExit, match=message):
            main(["run", "fit", "--eps", "0.5", "--budget", "small", "--out", str(tmp_path / "bad"), *bad])
        assert not (tmp_path / "bad").exists()


def test_direct_lm_takes_the_linear_algebra_given_to_ours(results, tmp_path):
    """``--option linear_solver=cg`` reaches direct LM too (the same corrector on the same network), tagged in its
    file name and rerun with it; an option of the trace only leaves direct LM's record untouched."""
    from benchmarks.run import job_of

    main(["run", "fit", "--eps", "0.5", "--methods", "ours", "direct-lm", "--budget", "small", "--widths", "4", "4",
          "--points", "9", "--option", "linear_solver='cg'", "--option", "final_iterations=3", "--out", str(results)])
    direct = json.loads((results / "fit_eps0.5_w4-4_n9_linear_solvercg_direct-lm_seed0.json").read_text())
    assert "linear solver cg" in direct["method_detail"]
    assert job_of(direct, tmp_path / "a.json").config.options == (("linear_solver", "cg"),)
    # the same weights as the matrix-free corrector run by hand, and not those of the dense one
    problem = PROBLEMS["fit"].build(0.5, None, 0, (4, 4), True, 9)
    theta0, eps = problem.model.init(seed=0), torch.tensor(0.5, dtype=torch.float64)
    by_hand = {solver: LevenbergMarquardt(linear_solver=solver).correct(
        problem.residual_map, theta0, eps, iterations=BUDGETS["small"].lm, tol=0.0).theta for solver in ("cg", "dense")}
    assert torch.equal(torch.tensor(direct["theta"], dtype=torch.float64), by_hand["cg"])
    assert not torch.equal(by_hand["cg"], by_hand["dense"])


def test_parallel_jobs_give_the_same_records(results, tmp_path):
    argv = ["run", "fit", "--eps", "0.5", "--methods", "ours", "direct-lm", "--budget", "small"]
    main(argv + ["--out", str(results)])
    main(argv + ["--out", str(tmp_path / "parallel"), "--jobs", "2"])
    for method in ("ours", "direct-lm"):
        name = f"fit_eps0.5_{method}_seed0.json"
        serial, parallel = (json.loads((folder / name).read_text()) for folder in (results, tmp_path / "parallel"))
        assert serial["l2re"] == parallel["l2re"] and serial["loss"] == parallel["loss"]


def test_step_cost_measures_every_piece_of_a_step(results):
    main(["step-cost", "--d", "2", "3", "--width", "--repeats", "1", "--budget", "small", "--device", "cpu",
          "--out", str(results)])
    for d in (2, 3):
        data = json.loads((results / f"helmholtz_d{d}_eps0.5.json").read_text())
        assert data["device"] == "cpu"
        weights = d * 30 + 30 + 2 * (30 * 30 + 30) + 31
        assert data["weights"] == weights and data["jacobian_shape"] == [40 + 12, weights]
        seconds = data["seconds"]
        assert set(seconds) == {"residual", "linearize", "predictor", "damped_solve", "pinv_gelsd", "pinv_svd",
                                "cg_damped_solve", "cg_predictor"}
        assert data["cg_relative_residual"] <= 1e-10 and data["cg_iterations"] > 0  # the normal equations solved
        assert data["memory_bytes"]["jacobian"] == 8 * (40 + 12) * weights
        assert data["gelsd_svd_difference"] < 1e-8
        assert all(value > 0 for value in seconds.values())
        iteration = seconds["linearize"] + seconds["damped_solve"] + seconds["residual"]
        assert data["step_estimate_s"] == pytest.approx(seconds["predictor"] + data["corrector_iterations"] * iteration)
    assert "| 3 | 0.5 |" in (results / "README.md").read_text()
    with pytest.raises(SystemExit, match="--repeats"):
        main(["step-cost", "--repeats", "0", "--out", str(results)])


def test_step_cost_measures_each_solver_on_p1_in_a_fresh_process(results):
    main(["step-cost", "--d", "--width", "4", "--repeats", "1", "--out", str(results)])
    dense, free = (json.loads((results / f"ac1d_w4_{solver}.json").read_text()) for solver in ("dense", "cg"))
    weights = (4 + 4) + 2 * (4 * 4 + 4) + (4 + 1)
    for data, solver in ((dense, "dense"), (free, "cg")):
        assert data["solver"] == solver and data["device"] == "cpu" and data["weights"] == weights
        assert data["points"] == 1_000 and data["boundary_points"] == 2
        seconds = data["seconds"]
        assert seconds["lm_iteration"] == pytest.approx(seconds["lm_solve"] + seconds["residual"])
        assert seconds["step"] == pytest.approx(seconds["predictor"] + 8 * seconds["lm_iteration"])
        # the peak of a fresh interpreter with torch: hundreds of MB, at least what it held before the step
        assert 50e6 < data["baseline_rss_bytes"] <= data["peak_rss_bytes"] < 4e9
    assert dense["held_bytes"] == 8 * 1_002 * weights and dense["cg_iterations"] is None
    assert free["held_bytes"] == 8 * 50 * weights and free["cg_iterations"] > 0
    assert "| 53 | cg | 1,000 + 2 |" in (results / "README.md").read_text()


@pytest.mark.parametrize("argv", [["step-cost", "--d", "2"], ["run", "fit"], ["sweep", "fit", "--serial"],
                                  ["verify", "--serial"]])
def test_an_unknown_device_is_refused_before_any_work(results, capsys, argv):
    with pytest.raises(SystemExit):
        main([*argv, "--device", "gpu", "--out", str(results)])
    assert "argument --device: 'gpu' is not a device of this machine" in capsys.readouterr().err
    assert not results.exists() or not any(results.iterdir())


def test_deepxde_is_refused_off_the_cpu_before_any_work(results):
    with pytest.raises(SystemExit, match="deepxde runs on the CPU only, not on --device meta"):
        main(["run", "ac1d", "--methods", "deepxde", "--device", "meta", "--budget", "small", "--out", str(results)])
    assert not results.exists()


def test_a_recorded_device_is_rerun_on_that_device_unless_told_otherwise(tmp_path):
    from benchmarks.run import job_of

    data = {"problem": "fit", "method": "ours", "eps": 0.5, "seed": 0, "budget": "small", "d": None,
            "command": "python -m benchmarks run fit --eps 0.5 --methods ours --budget small --seed 0 --widths 30 30 30 "
                       "--device meta"}
    recorded = job_of(data, tmp_path / "a.json")
    assert recorded.device == "meta" and recorded.command == data["command"]
    moved = job_of(data, tmp_path / "a.json", device="cpu")
    assert moved.device == "cpu" and "--device" not in moved.command and "--eps 0.5 --methods ours" in moved.command


def test_ours_runs_in_pieces_and_resumes_from_its_checkpoint(results, monkeypatch):
    from benchmarks import run as run_module

    argv = ["run", "ac1d", "--eps", "0.1", "--methods", "ours", "--budget", "small", "--out", str(results)]
    path = results / "ac1d_eps0.1_ours_seed0.json"
    checkpoint = results / "ac1d_eps0.1_ours_seed0.checkpoint.pt"

    # every accepted point ends a piece; the first save stops the process as a session end would
    monkeypatch.setattr(run_module, "CHECKPOINT_SECONDS", 0.0)
    save = continuation.TraceResult.save

    def save_then_stop(result, where):
        save(result, where)
        raise RuntimeError("session over")

    monkeypatch.setattr(continuation.TraceResult, "save", save_then_stop)
    with pytest.raises(SystemExit, match="ours at eps = 0.1"):
        main(argv)
    assert checkpoint.exists() and not path.exists()
    saved = continuation.TraceResult.load(checkpoint)
    # the first piece ends at the corrected start point
    assert saved.state.pieces == 1 and saved.eps == [0.5] and saved.accepted == 1 and saved.wall_time > 0
    assert isinstance(saved.corrector_state, float) and saved.corrector_state > 0  # LM's damping, carried over
    from benchmarks import record
    first_piece = json.loads(record.pieces_path(checkpoint).read_text())
    assert [piece["commit"] for piece in first_piece] == [record.CODE["commit"]] and first_piece[0]["from_eps"] == 0.5

    monkeypatch.setattr(continuation.TraceResult, "save", save)
    main(argv)
    data = json.loads(path.read_text())
    assert not checkpoint.exists()
    trace = data["trace"]  # TraceResult.summary() of the whole trace
    assert trace["eps"][-1] == 0.1  # (the small budget does not polish to tol: status not_converged)
    assert data["resumed_from_checkpoint"] and data["pieces"] >= 2
    # which code made which piece (one process each here), and from where on; the file beside the checkpoint goes
    assert [piece["from_eps"] for piece in data["code_of_pieces"]] == [0.5, 0.5]
    assert data["code_of_pieces"][1]["from_wall_s"] == saved.wall_time
    assert not record.pieces_path(checkpoint).exists()
    assert trace["accepted"] >= saved.accepted + 1 and data["wall_s"] >= saved.wall_time
    # the same trace as one piece: the engine's resume continues the path exactly
    main(argv[:-1] + [str(results / "whole")])
    whole = json.loads((results / "whole" / path.name).read_text())
    assert whole["theta"] == data["theta"] and whole["status"] == data["status"]
    # one accepted eps per accepted point, from 0.5 down to the target, across the pieces
    assert len(trace["eps"]) == trace["accepted"] == sum(s["accepted"] for s in trace["steps"])
    assert trace["eps"][0] == 0.5 and trace["eps"][-1] == 0.1
    assert all(a > b for a, b in zip(trace["eps"], trace["eps"][1:]))
    # the record's weights reproduce its scores
    problem = run_module.PROBLEMS["ac1d"].build(0.1, None, 0, run_module.DEFAULT_WIDTHS, True, None)
    theta = torch.tensor(data["theta"], dtype=torch.float64)
    assert problem.l2re(theta, 0.1) == pytest.approx(data["l2re"], rel=1e-12)
    assert problem.loss(theta, 0.1) == pytest.approx(data["loss"], rel=1e-12)


def test_resampled_points_are_saved_with_the_checkpoint_and_the_resumed_run_goes_on_with_them(results, monkeypatch,
                                                                                              capsys):
    """``--option resample=rad``: the points move as eps halves; a run stopped after a move and resumed in a
    fresh process ends with the weights and points of the run made in one go."""
    from benchmarks import run as run_module

    argv = ["run", "ac1d", "--eps", "0.1", "--methods", "ours", "--budget", "small", "--option", "ds=0.1",
            "--option", "ds_max=0.1", "--option", "resample='rad'"]
    name = "ac1d_eps0.1_ds0.1_ds_max0.1_resamplerad_ours_seed0"
    main(argv + ["--out", str(results / "whole")])
    whole = json.loads((results / "whole" / f"{name}.json").read_text())
    assert whole["resample"] == {"layout": "rad", "every": 0.5, "draws": 2}  # at eps 0.2 and 0.1
    moves = [step["eps"] for step in whole["trace"]["steps"] if step["reason"].startswith("points resampled")]
    assert moves == pytest.approx([0.2, 0.1])

    monkeypatch.setattr(run_module, "CHECKPOINT_SECONDS", 0.0)  # every accepted point ends a piece
    checkpoint = results / f"{name}.checkpoint.pt"
    save = continuation.TraceResult.save

    def save_then_stop_once_moved(result, where):
        save(result, where)
        if torch.load(run_module.points_path(where))["draws"]:
            raise RuntimeError("session over")

    monkeypatch.setattr(continuation.TraceResult, "save", save_then_stop_once_moved)
    with pytest.raises(SystemExit, match="ours at eps = 0.1"):
        main(argv + ["--out", str(results)])
    moved = torch.load(run_module.points_path(checkpoint))
    assert moved["draws"] == 1 and moved["last_eps"] == pytest.approx(0.2)
    monkeypatch.setattr(continuation.TraceResult, "save", save)
    points = run_module.points_path(checkpoint).read_bytes()
    run_module.points_path(checkpoint).unlink()  # a checkpoint carried over without its points: said, not guessed
    capsys.readouterr()
    with pytest.raises(SystemExit, match="ours at eps = 0.1"):
        main(argv + ["--out", str(results)])
    assert f"points file {run_module.points_path(checkpoint)} is missing" in capsys.readouterr().err
    assert checkpoint.exists()
    run_module.points_path(checkpoint).write_bytes(points)
    main(argv + ["--out", str(results)])
    resumed = json.loads((results / f"{name}.json").read_text())
    assert resumed["resumed_from_checkpoint"] and resumed["theta"] == whole["theta"]
    assert resumed["resample"] == whole["resample"] and resumed["loss"] == whole["loss"]
    assert not run_module.points_path(checkpoint).exists() and not checkpoint.exists()
    with pytest.raises(SystemExit, match="resample must be one of rad, got 'uniform'"):
        main(argv[:-1] + ["resample='uniform'", "--out", str(results / "bad")])


def test_a_final_correction_in_pieces_is_saved_between_them_and_ends_as_one(results, monkeypatch):
    argv = ["run", "fit", "--eps", "0.5", "--methods", "ours", "--budget", "small", "--widths", "4", "4",
            "--points", "40", "--option", "tol=1e-12", "--option", "max_steps=200", "--option", "final_iterations=9"]
    main(argv + ["--out", str(results / "whole")])
    saves = []
    monkeypatch.setattr(continuation.TraceResult, "save", lambda result, where: saves.append(result.accepted))
    main(argv + ["--option", "final_piece=4", "--out", str(results)])
    whole = json.loads((results / "whole" / "fit_eps0.5_w4-4_n40_tol1e-12_max_steps200_final_iterations9_ours_seed0.json")
                       .read_text())
    pieces = json.loads((results / "fit_eps0.5_w4-4_n40_tol1e-12_max_steps200_final_iterations9_final_piece4_ours_"
                                    "seed0.json").read_text())
    assert whole["status"] == pieces["status"] == "not_converged"  # still going: cut by final_iterations
    assert pieces["theta"] == whole["theta"] and pieces["options"]["final_iterations"] == 9
    at_target = [s["iterations"] for s in pieces["trace"]["steps"] if s["accepted"] and s["eps"] == 0.5]
    assert at_target == [4, 4, 1] and "9 at eps = 0.5 in all" in pieces["message"]
    assert saves[-2:] == [len(whole["trace"]["eps"]), len(whole["trace"]["eps"]) + 1]  # after each piece
    with pytest.raises(SystemExit, match="final_piece must be a positive whole number of iterations, got 0"):
        main(argv + ["--option", "final_piece=0", "--out", str(results / "bad")])


def test_a_spent_wall_time_budget_ends_ours_where_it_stands(results):
    """A budget spent by the initial correction: the record has the corrected start point, and says so."""
    main(["run", "ac1d", "--eps", "0.1", "--methods", "ours", "--budget", "small", "--out", str(results),
          "--max-wall-s", "1e-9"])
    data = json.loads((results / "ac1d_eps0.1_ours_seed0.json").read_text())
    assert data["status"] == "wall_budget" and "wall-time budget of 1e-09 s spent" in data["message"]
    assert data["trace"]["eps"] == [0.5] and data["max_wall_s"] == 1e-9
    assert data["trace"]["accepted"] == 1
    assert "--max-wall-s 1e-09" in data["command"]
    assert not (results / "ac1d_eps0.1_ours_seed0.checkpoint.pt").exists()
    with pytest.raises(SystemExit, match="--max-wall-s must be a positive number of seconds, got -1.0"):
        main(["run", "ac1d", "--methods", "ours", "--budget", "small", "--out", str(results), "--max-wall-s", "-1"])


def test_helmholtz_records_carry_the_resonance_gap_and_the_resonant_error_share(results):
    main(["run", "helmholtz", "--eps", "0.1", "--methods", "ours", "--budget", "small", "--out", str(results)])
    data = json.loads((results / "helmholtz_d2_eps0.1_ours_seed0.json").read_text())
    assert data["resonance_gap"] == pytest.approx(abs(1 - 10 * (0.1 * math.pi) ** 2))
    assert 0.0 <= data["resonant_error_share"] <= 1.0


def test_a_write_that_fails_leaves_the_previous_file_whole(tmp_path):
    path = tmp_path / "row.json"
    record.write_json(path, {"l2re": 1.0})

    def interrupted(partial):
        partial.write_text('{"l2re": ')
        raise KeyboardInterrupt  # the end of a session, halfway through a write

    with pytest.raises(KeyboardInterrupt):
        record.replace_atomically(path, interrupted)
    assert json.loads(path.read_text())["l2re"] == 1.0
    record.write_json(path, {"l2re": 2.0})
    assert json.loads(path.read_text())["l2re"] == 2.0 and sorted(p.name for p in tmp_path.iterdir()) == ["row.json"]


def test_neural_ode_target_table_compares_homotopy_with_half_of_vanillas_epochs():
    from benchmarks.neural_ode import homotopy_against_vanilla

    def record(system, method, seed, curve):  # history rows: [epoch, train, interpolation, extrapolation]
        history = [[epoch, train, mse, 0.0] for epoch, mse, train in curve]
        best = min(history, key=lambda row: row[2])
        return {"system": system, "method": method, "seed": seed, "history": history,
                "epochs_to_best": best[0], "best": {"interpolation_mse": best[2]},
                "final": {"interpolation_mse": history[-1][2]}}

    # (epoch, interpolation MSE, training MSE); the lowest training MSE need not be at the best
    vanilla = [(0, 1.0, 1.0), (200, 0.3, 0.2), (400, 0.1, 0.3)]
    records = [
        record("a", "vanilla", 0, vanilla),
        record("a", "homotopy", 0, [(0, 1.0, 1.0), (150, 0.05, 0.1), (300, 2.0, 2.0)]),
        record("a", "vanilla", 1, vanilla),
        record("a", "homotopy", 1, [(0, 1.0, 1.0), (250, 0.08, 0.2), (300, 0.09, 0.1)]),
        record("b", "vanilla", 0, vanilla), record("b", "homotopy", 0, [(0, 1.0, 1.0), (300, 0.2, 0.5)]),
        record("b", "homotopy-lm", 0, [(0, 1.0, 1.0), (10, 0.01, 0.01)]),  # only homotopy is compared
    ]
    rows = homotopy_against_vanilla(records)[2:]
    assert rows == [
        "| a | 0 | 1.00e-01 (400) | 5.00e-02 (150) | epoch 150 | yes | 1.00e-01, 2.00e+00 | 3.00e-01, 5.00e-02 |",
        # 250 > 400 / 2
        "| a | 1 | 1.00e-01 (400) | 8.00e-02 (250) | epoch 250 | no | 1.00e-01, 9.00e-02 | 3.00e-01, 9.00e-02 |",
        "| b | 0 | 1.00e-01 (400) | 2.00e-01 (300) | never | no | 1.00e-01, 2.00e-01 | 3.00e-01, 2.00e-01 |",
    ]


def test_neural_ode_record_command_reruns_a_cut_budget():
    from benchmarks.neural_ode import DEFAULTS, command_of

    default = command_of("lorenz", "vanilla", 1)
    assert default == "python -m benchmarks neural-ode --system lorenz --method vanilla --seed 1"
    cut = dataclasses.replace(DEFAULTS, epochs=1000, epochs_per_step=50)
    assert command_of("lorenz", "vanilla", 1, cut).endswith("--seed 1 --epochs 1000 --epochs-per-step 50")


def test_a_record_resumed_across_commits_names_the_earlier_ones():
    from benchmarks import harness, record

    head = record.CODE["commit"]
    if head is None:
        pytest.skip("not a git checkout")
    data = {"machine": {"code": {"commit": head, "dirty": False}},
            "code_of_pieces": [{"commit": "0123456789abcdef"}, {"commit": None}, {"commit": head}]}
    assert harness.commit_cell(data).endswith("(earlier pieces at 0123456, unknown)")
    data["code_of_pieces"] = [{"commit": head}, {"commit": head}]
    assert "earlier pieces" not in harness.commit_cell(data)
