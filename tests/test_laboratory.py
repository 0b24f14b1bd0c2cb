"""P7 on the laboratory double pendulum: the loader, the second-order model and a smoke run of the benchmark."""

import json
import math

import pytest
import torch

from dynamics.laboratory import COLUMNS, DATA_FILE, laboratory_data, load_double_pendulum
from dynamics.synchronization import SynchronizationResidual
from dynamics.training import TrainingSettings, train
from models.neural_ode import NeuralODE, SecondOrderNeuralODE

F64 = torch.float64


def test_loader_gives_both_recordings_with_named_columns():
    recordings = load_double_pendulum()
    assert sorted(recordings) == [0, 1]
    assert (len(recordings[0]), len(recordings[1])) == (819, 701)
    first = recordings[0]
    assert COLUMNS == ("o1", "o2", "w1", "w2")
    for name in ("t", *COLUMNS):
        column = getattr(first, name)
        assert column.shape == (819,) and column.dtype == F64
    assert first.state.shape == (819, 4)
    assert torch.equal(first.state[:, 2], first.w1)
    # the first data row of the file: trajectory 0 at t = 0
    assert float(first.t[0]) == 0.0 and first.o1[0].item() == pytest.approx(-1.1336150169372559, abs=0)
    assert bool((first.t[1:] > first.t[:-1]).all())


def test_seed_slice_and_held_out_slices():
    data = laboratory_data()
    recording = load_double_pendulum()[0]
    fit = data.fit
    assert fit.y.shape == (100, 4) and torch.equal(fit.y, recording.state[:100])
    assert fit.y_dense.shape == (200, 4) and torch.equal(fit.y_dense[100:], recording.state[100:200])
    assert float(fit.t[0]) == 0.0 and torch.equal(fit.t, fit.t_dense[:100]) and fit.refine == 1
    assert int(fit.interpolation.sum()) == 100 and bool(fit.extrapolation[100:].all())
    t_other, y_other = data.other
    other = load_double_pendulum()[1]
    assert t_other.shape == (100,) and float(t_other[0]) == 0.0 and y_other.shape == (100, 4)
    shifts = (other.state[:100] - y_other)[:, :2]  # angles shifted by whole turns, velocities untouched
    assert torch.allclose(shifts / (2 * math.pi), torch.round(shifts / (2 * math.pi)), atol=1e-12)
    assert bool((y_other[0, :2].abs() <= math.pi).all()) and torch.equal(y_other[:, 2:], other.state[:100, 2:])


def test_loader_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing file"):
        load_double_pendulum(tmp_path / "missing.txt")
    broken = tmp_path / "broken.txt"
    broken.write_text("% o1 o2 w1 w2\n0 0 1 2\n")
    with pytest.raises(ValueError, match="line 2 has 4 numbers"):
        load_double_pendulum(broken)
    with pytest.raises(ValueError, match="train must be an integer >= 2, got 1"):
        laboratory_data(train=1)
    with pytest.raises(ValueError, match="start and stop"):
        load_double_pendulum()[0].window(10, 5)
    assert DATA_FILE.with_name("LICENSE-source").exists()


def test_second_order_model_angles_move_with_the_velocities_exactly():
    model = SecondOrderNeuralODE([4, 16, 2])
    theta = torch.randn(model.num_weights, generator=torch.Generator().manual_seed(1), dtype=F64)
    u = torch.randn(7, 4, generator=torch.Generator().manual_seed(2), dtype=F64)
    field = model.field(theta, u)
    assert field.shape == (7, 4)
    assert torch.equal(field[:, :2], u[:, 2:])  # d(angle)/dt = velocity, bit for bit
    assert torch.allclose(field[:, 2:], model.mlp.apply(theta, u), rtol=1e-14, atol=1e-14)  # the accelerations
    single = model.field(theta, u[0])  # one state
    assert torch.equal(single[:2], u[0, 2:]) and torch.allclose(single, field[0], rtol=1e-14, atol=1e-14)
    # along a trajectory the angles are the integrals of the velocities
    t = torch.linspace(0, 0.5, 51, dtype=F64)
    path = model.trajectory(theta, u[0], t)
    integral = u[0, :2] + torch.cumulative_trapezoid(path[:, 2:], t, dim=0)
    assert torch.allclose(path[1:, :2], integral, atol=1e-4)


def test_second_order_model_rejects_widths_that_do_not_halve():
    with pytest.raises(ValueError, match="twice the number of positions"):
        SecondOrderNeuralODE([4, 16, 4])
    with pytest.raises(ValueError, match="start and end with the state dimension"):
        NeuralODE([4, 16, 2])
    assert "SecondOrderNeuralODE(widths=[4, 16, 2]" in repr(SecondOrderNeuralODE([4, 16, 2]))


def test_second_order_model_trains_with_the_synchronization_machinery(one_thread):
    data = laboratory_data(train=6, extrapolate=3, other_samples=3)
    model = SecondOrderNeuralODE([4, 8, 2], rtol=1e-5, atol=1e-7)
    residual = SynchronizationResidual(model, data.fit.t, data.fit.y)
    theta = model.init(seed=0)
    jacobian = residual.jacobian(theta, torch.tensor(1.0, dtype=F64))
    assert jacobian.shape == (24, model.num_weights) and bool(torch.isfinite(jacobian).all())
    run = train("homotopy", model, data.fit, theta, TrainingSettings(epochs_per_step=1, evaluate_every=2))
    assert run.updates == 6 and math.isfinite(run.monitor.best.extrapolation_mse)
    times = [e.wall_s for e in run.monitor.history]
    assert times == sorted(times) and all(math.isfinite(s) for s in times)


def test_smoke_run_of_the_laboratory_benchmark(tmp_path, one_thread):
    from benchmarks.__main__ import main

    main(["neural-ode-lab", "--out", str(tmp_path), "--model", "second-order", "--method", "vanilla", "homotopy",
          "--epochs", "2", "--epochs-per-step", "1"])
    records = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert sorted(records) == ["second-order-homotopy-seed0.json", "second-order-vanilla-seed0.json"]
    record = records["second-order-vanilla-seed0.json"]
    assert record["weights"] == 2902 and record["points"] == 100 and record["updates"] == 2
    assert record["command"].endswith("--epochs 2 --epochs-per-step 1")
    assert math.isfinite(record["best"]["extrapolation_mse"]) and record["other_mse"]["best"] > 0
    assert len(record["best_prediction"]) == 200 and len(record["other_prediction"]) == 100
    readme = (tmp_path / "README.md").read_text()
    assert "2 epochs (P7: 4000)" in readme and "black-box | vanilla | none (not run)" in readme
    assert (tmp_path / "angles.png").exists() and (tmp_path / "other.png").exists()


def test_angle_plots_give_each_method_one_colour_in_every_panel(monkeypatch):
    # the legend is drawn in the first panel only: a model without some method must not shift the colours
    from benchmarks import neural_ode_lab, record

    figures = []
    monkeypatch.setattr(record, "save_figure", lambda fig, path, dpi: figures.append(fig))
    t, measured = torch.linspace(0, 1, 5, dtype=F64), torch.zeros(5, 4, dtype=F64)
    records = [{"model": model, "method": method, "seed": 0, "prediction": torch.ones(5, 4).tolist()}
               for model, methods in (("black-box", ("homotopy-lm", "homotopy", "vanilla")),
                                      ("second-order", ("homotopy", "vanilla")))
               for method in methods]
    neural_ode_lab._plot_angles(records, t, measured, "prediction", None, None, "test")
    colours = {}
    for ax in figures[0].axes:
        for line in ax.get_lines():
            if line.get_label() != "measured":
                colours.setdefault(line.get_label(), set()).add(line.get_color())
    assert sorted(colours) == ["homotopy", "homotopy-lm", "vanilla"]
    assert all(len(c) == 1 for c in colours.values())
    assert colours["vanilla"] != colours["homotopy"] != colours["homotopy-lm"] != colours["vanilla"]
