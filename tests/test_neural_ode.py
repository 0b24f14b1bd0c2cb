"""P7 (seed 002): neural ODEs, the synchronization homotopy, multiple shooting and the training methods."""

import configparser
import dataclasses
import math
from importlib.metadata import version
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from continuation import Adam, Options
from dynamics.shooting import MultipleShootingResidual
from dynamics.spline import CubicSpline
from dynamics.synchronization import SynchronizationResidual, batched_jacobians, synchronization_schedule
from dynamics.systems import SYSTEMS, lotka_volterra, make_data
from dynamics.training import METHODS, TrainingSettings, train
from models.neural_ode import NeuralODE, integrate

F64 = torch.float64
SHORT_LV = dataclasses.replace(SYSTEMS["lotka-volterra"], t_end=1.0)  # 11 observations
TINY_LV = dataclasses.replace(SYSTEMS["lotka-volterra"], t_end=0.6)  # 7 observations: 5 shooting segments
MICRO_LV = dataclasses.replace(SYSTEMS["lotka-volterra"], t_end=0.3)  # 4 observations, for Jacobian checks


def exact_lv(theta, u):
    return lotka_volterra(u)


def test_natural_spline_matches_scipy_and_is_batched():
    scipy_interpolate = pytest.importorskip("scipy.interpolate")
    generator = torch.Generator().manual_seed(1)
    knots = torch.sort(torch.rand(9, generator=generator, dtype=F64)).values
    values = torch.randn(9, 2, generator=generator, dtype=F64)
    spline = CubicSpline(knots, values)
    times = torch.linspace(-0.1, 1.1, 41, dtype=F64)
    reference = scipy_interpolate.CubicSpline(knots.numpy(), values.numpy(), bc_type="natural")(times.numpy())
    assert torch.allclose(spline(times), torch.from_numpy(reference), atol=1e-12)
    one_by_one = torch.stack([spline(t) for t in times])
    assert torch.allclose(one_by_one, spline(times), atol=1e-14)


def test_spline_error_is_fourth_order():
    errors, steps = [], []
    for n in (11, 21, 41, 81):
        knots = torch.linspace(0, 1, n, dtype=F64)
        spline = CubicSpline(knots, torch.sin(3 * knots))
        inner = torch.linspace(0.3, 0.7, 101, dtype=F64)  # away from the natural end conditions
        errors.append(float((spline(inner) - torch.sin(3 * inner)).abs().max()))
        steps.append(1 / (n - 1))
    slope = torch.linalg.lstsq(
        torch.tensor([[math.log(h), 1.0] for h in steps], dtype=F64),
        torch.tensor([math.log(e) for e in errors], dtype=F64)[:, None],
    ).solution[0, 0]
    assert 3.7 < float(slope) < 4.3


def test_schedule_matches_the_stated_power_law_decay():
    schedule = synchronization_schedule(6, 0.6)
    assert schedule[0] == 1.0 and schedule[-1] == 0.0
    assert [round(lam, 3) for lam in schedule] == [1.0, 0.566, 0.306, 0.150, 0.056, 0.0]
    gaps = [a - b for a, b in zip(schedule, schedule[1:])]
    assert all(math.isclose(b / a, 0.6, rel_tol=1e-12) for a, b in zip(gaps, gaps[1:]))


@given(steps=st.integers(2, 12), decay=st.floats(0.05, 0.95))
def test_schedule_decreases_from_one_to_zero(steps, decay):
    schedule = synchronization_schedule(steps, decay)
    assert len(schedule) == steps and schedule[0] == 1.0 and schedule[-1] == 0.0
    assert all(a > b for a, b in zip(schedule, schedule[1:]))


@pytest.mark.parametrize("bad", [dict(steps=1), dict(decay=1.0), dict(decay=0.0)])
def test_schedule_rejects_bad_input(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        synchronization_schedule(**bad)


def test_residual_with_exact_field_is_small_at_full_coupling():
    data = make_data(SHORT_LV)
    model = NeuralODE([2, 4, 2])
    exact = SynchronizationResidual(model, data.t, data.y_true, field=exact_lv)
    theta = model.init(seed=0)
    # lam = 1: only the spline's interpolation error drives the trajectory off the exact one
    assert float(exact(theta, torch.tensor(1.0, dtype=F64)).norm()) < 1e-3
    assert float(exact(theta, torch.tensor(0.0, dtype=F64)).norm()) < 1e-5
    # with the noisy data the synchronized exact field sits at the noise level (std 5%)
    noisy = SynchronizationResidual(model, data.t, data.y, field=exact_lv)
    noise_mse = float(((data.y - data.y_true) ** 2).mean())
    assert float(noisy(theta, torch.tensor(1.0, dtype=F64)).norm()) ** 2 < 2 * noise_mse


def test_coupling_synchronizes_a_wrong_field():
    data = make_data(SHORT_LV)
    model = NeuralODE([2, 4, 2])
    H = SynchronizationResidual(model, data.t, data.y, field=lambda theta, u: torch.zeros_like(u))
    theta = model.init(seed=0)
    norms = [float(H(theta, torch.tensor(lam, dtype=F64)).norm()) for lam in (0.0, 0.5, 1.0)]
    assert norms[0] > norms[1] > norms[2]
    assert norms[2] < 0.2 * norms[0]


def test_uncoupled_residual_is_the_plain_trajectory_misfit():
    data = make_data(SHORT_LV)
    model = NeuralODE([2, 8, 2])
    theta = model.init(seed=3)
    H = SynchronizationResidual(model, data.t, data.y)
    plain = (model.trajectory(theta, data.y[0], data.t) - data.y).reshape(-1) / math.sqrt(data.y.numel())
    assert torch.allclose(H(theta, torch.tensor(0.0, dtype=F64)), plain, atol=1e-12)
    # lam = 0 with a derivative in lam asked for keeps the coupling term (times zero): the same values
    lam = torch.tensor(0.0, dtype=F64, requires_grad=True)
    assert torch.equal(H(theta, lam).detach(), H(theta, torch.tensor(0.0, dtype=F64)))


def test_jacobians_match_finite_differences():
    data = make_data(MICRO_LV)
    model = NeuralODE([2, 6, 2], rtol=1e-9, atol=1e-11)
    H = SynchronizationResidual(model, data.t, data.y)
    theta, lam = model.init(seed=1), torch.tensor(0.5, dtype=F64)
    jac, d_lam = H.jacobian(theta, lam), H.eps_derivative(theta, lam)
    # central differences of an adaptive solve: truncation O(h^2) = 1e-8 plus solver noise ~ rtol / h = 1e-5
    h = 1e-4

    def close(exact, fd):
        return float((exact - fd).abs().max()) <= 1e-4 * float(fd.abs().max())

    for j in (0, 7, model.num_weights - 1):
        step = torch.zeros_like(theta)
        step[j] = h
        assert close(jac[:, j], (H(theta + step, lam) - H(theta - step, lam)) / (2 * h))
    assert close(d_lam, (H(theta, lam + h) - H(theta, lam - h)) / (2 * h))
    value, jac_again = H.linearize(theta, lam)
    assert torch.equal(jac_again, jac) and torch.allclose(value, H(theta, lam), atol=1e-14)


def test_batched_jacobians_of_a_linear_map():
    x = torch.randn(4, dtype=F64, requires_grad=True)
    matrix = torch.randn(3, 4, dtype=F64)
    unused = torch.zeros(2, dtype=F64, requires_grad=True)
    jac, zero = batched_jacobians(matrix @ x, (x, unused))
    assert torch.allclose(jac, matrix) and torch.equal(zero, torch.zeros(3, 2, dtype=F64))


def test_adjoint_gradient_equals_direct_gradient():
    data = make_data(SHORT_LV)
    grads = []
    for adjoint in (False, True):
        model = NeuralODE([2, 6, 2], rtol=1e-10, atol=1e-12, adjoint=adjoint)
        theta = model.init(seed=2).requires_grad_(True)
        loss = ((model.trajectory(theta, data.y[0], data.t) - data.y) ** 2).sum()
        grads.append(torch.autograd.grad(loss, theta)[0])
    assert torch.allclose(grads[0], grads[1], rtol=1e-6, atol=1e-8)


def test_one_segment_shooting_is_the_plain_misfit():
    data = make_data(SHORT_LV)
    model = NeuralODE([2, 8, 2])
    theta = model.init(seed=4)
    shooting = MultipleShootingResidual(model, data.t, data.y, segments=1)
    plain = SynchronizationResidual(model, data.t, data.y)
    zero = torch.tensor(0.0, dtype=F64)
    assert torch.allclose(shooting(shooting.initial_state(theta), zero), plain(theta, zero), atol=1e-12)


def test_shooting_continuity_defects_vanish_on_the_model_trajectory():
    data = make_data(SHORT_LV)
    model = NeuralODE([2, 8, 2])
    theta = model.init(seed=5)
    H = MultipleShootingResidual(model, data.t, data.y, segments=5, continuity=1.0)
    path = model.trajectory(theta, data.y[0], data.t)
    state = torch.cat([theta, path[H.boundaries[1:-1]].reshape(-1)])
    defects = H(state, torch.tensor(0.0, dtype=F64))[H.fit_points * 2 :]
    assert defects.shape == (8,) and float(defects.abs().max()) < 1e-6


def test_adamw_corrector_decays_weights_and_reports_every_iteration():
    seen = []
    constant = lambda theta, eps: 0 * theta + 1.0  # noqa: E731  zero gradient: only the decay moves theta
    adam = Adam(lr=0.1, weight_decay=0.5, observer=lambda theta, norm: seen.append(norm))
    report = adam.correct(constant, torch.ones(3, dtype=F64), torch.tensor(0.0, dtype=F64), iterations=10, tol=1e-9)
    assert torch.allclose(report.theta, torch.full((3,), (1 - 0.1 * 0.5) ** 10, dtype=F64))
    assert seen == [math.sqrt(3)] * 10
    with pytest.raises(ValueError, match="options.weight_decay"):
        Options(weight_decay=-1e-3)


@pytest.mark.parametrize("method", METHODS)
def test_smoke_run_of_each_method(method):
    data = make_data(TINY_LV if method == "multiple-shooting" else MICRO_LV)
    model = NeuralODE([2, 6, 2], rtol=1e-5, atol=1e-7)  # the machinery, not the accuracy, is under test
    settings = TrainingSettings(epochs=6, epochs_per_step=2, lm_initial=2, lm_step=1, lm_final=1, evaluate_every=2)
    run = train(method, model, data, model.init(seed=0), settings)
    expected = {"homotopy": 12, "vanilla": 6, "multiple-shooting": 6}
    if method in expected:
        assert run.updates == expected[method]
        assert [e.epoch for e in run.monitor.history] == list(range(0, expected[method] + 1, 2))
    else:
        assert run.details["corrector_iterations_per_step"][0] <= 2 and run.updates >= 1
    if method.startswith("homotopy"):
        assert run.details["schedule"] == synchronization_schedule()
    best = run.monitor.best
    assert best.interpolation_mse == min(e.interpolation_mse for e in run.monitor.history)
    assert math.isfinite(best.interpolation_mse) and math.isfinite(best.extrapolation_mse)


@pytest.mark.parametrize("method", METHODS)
def test_an_interrupted_run_resumes_to_the_same_result(method, tmp_path, monkeypatch):
    from dynamics import training

    data = make_data(TINY_LV if method == "multiple-shooting" else MICRO_LV)
    model = NeuralODE([2, 6, 2], rtol=1e-5, atol=1e-7)
    settings = TrainingSettings(epochs=6, epochs_per_step=2, evaluate_every=2, lm_initial=2, lm_step=2, lm_final=2)
    whole = train(method, model, data, model.init(seed=0), settings)

    path = tmp_path / "run.checkpoint.pt"
    save = training.Checkpoint.save
    saves = []

    def save_then_stop(store, **progress):  # the second save ends the session
        save(store, **progress)
        saves.append(progress)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training.Checkpoint, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(method, model, data, model.init(seed=0), settings, checkpoint=path, checkpoint_epochs=2)
    assert path.exists() and saves[-1]["pieces"] == 1
    monkeypatch.setattr(training.Checkpoint, "save", save)
    resumed = train(method, model, data, model.init(seed=0), settings, checkpoint=path, checkpoint_epochs=2)

    assert not path.exists() and resumed.details["pieces"] == 2
    assert torch.equal(resumed.theta, whole.theta)
    assert resumed.updates == whole.updates
    assert resumed.monitor.history == whole.monitor.history and resumed.monitor.best == whole.monitor.best
    if method.startswith("homotopy"):  # homotopy-lm: LM's damping is carried over the stop
        assert resumed.details["corrector_iterations_per_step"] == whole.details["corrector_iterations_per_step"]
        assert resumed.details["residual_norm_per_step"] == whole.details["residual_norm_per_step"]


def test_the_homotopy_is_one_adamw_run_through_the_schedule():
    """As in the seed's code, AdamW's moments carry over from each value of lam to the next."""
    data = make_data(MICRO_LV)
    model = NeuralODE([2, 6, 2], rtol=1e-5, atol=1e-7)
    settings = TrainingSettings(epochs_per_step=2, evaluate_every=2)
    run = train("homotopy", model, data, model.init(seed=0), settings)

    residual = SynchronizationResidual(model, data.t, data.y, settings.coupling)
    adam = Adam(settings.learning_rate, settings.weight_decay, keep_state=True)
    theta, moments = model.init(seed=0), None
    for lam in synchronization_schedule(settings.schedule_steps, settings.schedule_decay):
        report = adam.correct(residual, theta, torch.tensor(lam, dtype=F64), iterations=2, tol=1e-12, state=moments)
        theta, moments = report.theta, report.state
    assert moments["state"][0]["step"].item() == 12
    assert torch.equal(run.theta, theta)


def test_a_solve_that_blows_up_is_nan_not_an_error():
    t = torch.tensor([0.0, 0.5, 2.0], dtype=F64)  # u' = u^2, u(0) = 1 blows up at t = 1
    u = integrate(lambda _, u: u**2, torch.ones(1, dtype=F64), t)
    assert u.shape == (3, 1) and bool(u.isnan().all())


@pytest.mark.parametrize("checkpoint", [False, True])
def test_a_homotopy_whose_first_correction_blows_up_ends_with_a_status(checkpoint, tmp_path):
    """AdamW with lr 100 throws the weights where the trajectory blows up: the run reports it."""
    data = make_data(MICRO_LV)
    model = NeuralODE([2, 6, 2], rtol=1e-5, atol=1e-7)
    theta0 = model.init(seed=0)
    run = train("homotopy", model, data, theta0, TrainingSettings(learning_rate=100.0, epochs_per_step=3),
                checkpoint=tmp_path / "run.checkpoint.pt" if checkpoint else None)
    assert run.details["status"] == "initial_correction_failed"
    assert "non-finite residual" in run.details["message"]
    assert torch.equal(run.theta, theta0) and not (tmp_path / "run.checkpoint.pt").exists()


def test_bad_inputs_are_rejected_with_their_names():
    with pytest.raises(ValueError, match="system"):
        make_data("van-der-pol")
    with pytest.raises(ValueError, match="rtol"):
        integrate(lambda t, u: u, torch.ones(1, dtype=F64), torch.tensor([0.0, 1.0], dtype=F64), rtol=0.0)
    with pytest.raises(ValueError, match="method"):
        train("sgd", NeuralODE([2, 4, 2]), make_data(SHORT_LV), NeuralODE([2, 4, 2]).init(0))
    with pytest.raises(ValueError, match="coupling"):
        data = make_data(SHORT_LV)
        SynchronizationResidual(NeuralODE([2, 4, 2]), data.t, data.y, coupling=-1.0)


def test_torchdiffeq_is_pinned_in_setup_cfg():
    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    pins = [line.strip() for line in config["options"]["install_requires"].splitlines() if "torchdiffeq" in line]
    assert pins == [f"torchdiffeq=={version('torchdiffeq')}"]
