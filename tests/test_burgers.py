import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from models import DeepONet
from pde.burgers import (
    PERIOD,
    BurgersOperator,
    boundary_value,
    kernel_weights,
    sample_initial_data,
    steady_state,
)
from pde.burgers_fd import fd_grid, fd_residual, march_explicit, newton_steady

SENSORS = 5


def tanh_network(a: float) -> tuple[DeepONet, torch.Tensor]:
    """A DeepONet whose output is exactly ``-tanh(x / (2 a))`` for every input function."""
    net = DeepONet(sensors=SENSORS, basis=1, branch_hidden=[1], trunk_hidden=[1])
    branch = torch.zeros(net.branch.num_weights, dtype=torch.float64)
    branch[-1] = 1.0  # zero weights, output bias 1: the branch returns 1
    trunk = torch.tensor([1 / (2 * a), 0.0, -1.0, 0.0], dtype=torch.float64)  # -tanh(x / (2a))
    return net, torch.cat([branch, trunk, torch.zeros(1, dtype=torch.float64)])


def test_exact_steady_state_has_zero_residual():
    nu = 0.05
    net, theta = tanh_network(nu)
    problem = BurgersOperator(nu, model=net)
    u0 = sample_initial_data(4, nu, seed=3)
    x = problem.collocation_points(50)
    for H, eps in ((problem.residual_map(u0, x, "time"), 0.0), (problem.residual_map(u0, x, "viscosity"), nu)):
        residual = H(theta, torch.tensor(eps, dtype=torch.float64))
        assert residual.shape == (4 * 50 + 4 * 2,)
        assert float(residual.abs().max()) < 1e-12
    assert float(problem.l2re(theta, u0).max()) < 1e-15


@given(
    a=st.floats(0.05, 1.0), nu=st.floats(0.05, 1.0), s=st.floats(0.0, 1.0), seed=st.integers(0, 50),
)
def test_residual_rows_match_the_closed_form(a, nu, s, seed):
    # u = -tanh(z), z = x / (2a):  nu u'' - u u' = sech^2 tanh (nu / (2 a^2) - 1 / (2 a))
    net, theta = tanh_network(a)
    problem = BurgersOperator(0.1, model=net, boundary_weight=3.0)
    u0 = sample_initial_data(2, 0.1, seed=seed)
    x = problem.collocation_points(7)
    residual = problem.residual_map(u0, x, "time", nu=nu)(theta, torch.tensor(s, dtype=torch.float64))
    z = x / (2 * a)
    steady = (1 - torch.tanh(z) ** 2) * torch.tanh(z) * (nu / (2 * a**2) - 1 / (2 * a))
    interior = (1 - s) * steady + s * (-torch.tanh(z) - u0(x))
    assert torch.allclose(residual[:14], interior.reshape(-1) / math.sqrt(14), atol=1e-11)
    ends = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    u_ends = -torch.tanh(ends / (2 * a))
    boundary = (1 - s) * (u_ends - steady_state(ends, nu)) + s * (u_ends - u0(ends))
    assert torch.allclose(residual[14:], 3.0 * boundary.reshape(-1) / 2.0, atol=1e-12)
    # the viscosity homotopy at s is the same map with eps = nu
    viscosity = problem.residual_map(u0, x, "viscosity", s=s)(theta, torch.tensor(nu, dtype=torch.float64))
    assert torch.allclose(viscosity, residual, atol=1e-12)


def test_time_homotopy_derivative_in_s_is_u0_minus_steady_residual():
    net, theta = tanh_network(0.3)
    problem = BurgersOperator(0.1, model=net)
    u0 = sample_initial_data(2, 0.1)
    H = problem.residual_map(u0, problem.collocation_points(6), "time")
    s = torch.tensor(0.4, dtype=torch.float64)
    difference = (H(theta, s + 1e-6) - H(theta, s - 1e-6)) / 2e-6
    assert torch.allclose(H.eps_derivative(theta, s), difference, atol=1e-7)


@pytest.mark.parametrize("length_scale", [0.1, 0.25, 0.5])
def test_kernel_weights_reproduce_the_wrapped_squared_exponential(length_scale):
    weights = kernel_weights(length_scale)
    r = torch.linspace(0.0, 2.0, 101, dtype=torch.float64)
    omega = 2 * math.pi * torch.arange(weights.numel(), dtype=torch.float64) / PERIOD
    series = (weights[:, None] * torch.cos(omega[:, None] * r)).sum(0)
    wrapped = sum(torch.exp(-((r + n * PERIOD) ** 2) / (2 * length_scale**2)) for n in range(-3, 4))
    assert torch.allclose(series, wrapped, atol=1e-13)
    # on [-1, 1] the wrap-around changes the kernel by at most exp(-2 / length_scale^2)
    plain = torch.exp(-(r**2) / (2 * length_scale**2))
    assert float((wrapped - plain).abs().max()) <= 1.01 * math.exp(-2 / length_scale**2)


def test_sampled_fields_have_the_stated_mean_and_covariance():
    nu, amplitude, length_scale, count = 0.1, 0.5, 0.25, 4000
    u0 = sample_initial_data(count, nu, seed=7, amplitude=amplitude, length_scale=length_scale)
    x = torch.tensor([-0.9, -0.3, 0.0, 0.1, 0.6], dtype=torch.float64)
    w = u0.field(x)
    covariance = torch.cov(w.T)
    kernel = amplitude**2 * torch.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * length_scale**2))
    standard_error = amplitude**2 * math.sqrt(2 / count)
    assert float((covariance - kernel).abs().max()) < 5 * standard_error
    assert float(w.mean(0).abs().max()) < 5 * amplitude / math.sqrt(count)
    values = u0(x)
    assert torch.allclose(values, (1 - x**2) * w - boundary_value(nu) * x)


def test_samples_meet_the_boundary_values_and_splits_are_apart():
    nu = 0.05
    train, test = sample_initial_data(20, nu), sample_initial_data(20, nu, split="test")
    ends = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    g = boundary_value(nu)
    assert torch.allclose(train(ends), torch.tensor([g, -g], dtype=torch.float64).expand(20, 2), atol=1e-15)
    distance = torch.cdist(train.cos_coefficients, test.cos_coefficients)
    assert float(distance.min()) > 0.1
    again = sample_initial_data(5, nu)
    assert torch.equal(again.cos_coefficients, train.cos_coefficients[:5])
    assert not torch.equal(sample_initial_data(5, nu, seed=1).cos_coefficients, again.cos_coefficients)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="split"):
        sample_initial_data(3, 0.1, split="validation")
    with pytest.raises(ValueError, match="count"):
        sample_initial_data(0, 0.1)
    with pytest.raises(ValueError, match="nu"):
        BurgersOperator(nu=-0.1)
    problem = BurgersOperator(0.1, model=DeepONet(sensors=3, basis=2, branch_hidden=[2], trunk_hidden=[2]))
    u0 = sample_initial_data(2, 0.1)
    with pytest.raises(ValueError, match="homotopy"):
        problem.residual_map(u0, problem.collocation_points(4), "space")
    with pytest.raises(ValueError, match="inside"):
        problem.residual_map(u0, torch.linspace(-1, 1, 5, dtype=torch.float64), "time")
    with pytest.raises(ValueError, match="n must be"):
        fd_grid(1)
    with pytest.raises(ValueError, match="cfl"):
        march_explicit(np.zeros((1, 5)), 0.1, cfl=1.5)
    with pytest.raises(ValueError, match="nu_start"):
        newton_steady(np.zeros((1, 5)), 0.1, nu_start=0.01)


def _fitted_order(grids, errors) -> float:
    h = 2.0 / np.asarray(grids, dtype=float)
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


def _max_error(u: np.ndarray, nu: float) -> float:
    x = fd_grid(u.shape[-1] - 1)
    return float(np.abs(u + np.tanh(x / (2 * nu))).max())


def test_newton_converges_to_the_steady_state_with_second_order():
    nu, grids = 0.1, [20, 40, 80, 160]
    u0 = sample_initial_data(3, nu)
    errors = []
    for n in grids:
        result = newton_steady(u0(torch.tensor(fd_grid(n))).numpy(), nu, nu_start=1.0)
        assert result.converged.all() and float(np.abs(fd_residual(result.u, nu)).max()) <= 1e-9
        errors.append(max(_max_error(u, nu) for u in result.u))
    assert _fitted_order(grids, errors) == pytest.approx(2.0, abs=0.1)


def test_explicit_march_converges_to_the_steady_state_with_second_order():
    nu, grids = 0.5, [8, 16, 32]
    u0 = sample_initial_data(2, nu)
    errors = []
    for n in grids:
        start = u0(torch.tensor(fd_grid(n))).numpy()
        result = march_explicit(start, nu, tol=1e-10)
        assert result.converged.all() and result.time > 0
        newton = newton_steady(start, nu, tol=1e-12)
        assert np.abs(result.u - newton.u).max() < 1e-9  # both solve the same discrete equations
        errors.append(max(_max_error(u, nu) for u in result.u))
    assert _fitted_order(grids, errors) == pytest.approx(2.0, abs=0.1)


def test_newton_with_viscosity_continuation_reaches_the_centred_shock_at_small_viscosity():
    nu, n = 0.05, 200
    u0 = sample_initial_data(5, nu, seed=2)
    result = newton_steady(u0(torch.tensor(fd_grid(n))).numpy(), nu, nu_start=1.0)
    assert result.converged.all()
    assert max(_max_error(u, nu) for u in result.u) < 5e-3


def test_benchmark_smoke_run_on_a_tiny_budget(tmp_path):
    import argparse
    import json

    from benchmarks.burgers import main

    args = argparse.Namespace(nu=[0.1], method=["ours", "classical"], budget="tiny", force=False, out=str(tmp_path))
    records = main(args)
    assert [r["method"] for r in records] == ["ours", "classical"]
    for record in records:
        saved = json.loads((tmp_path / f"burgers_nu0.1_{record['method']}.json").read_text())
        assert saved["budget"]["name"] == "tiny" and saved["training_functions"] == 3
        assert math.isfinite(saved["loss"]) and math.isfinite(saved["l2re_mean"])
        assert saved["l2re_worst"] >= saved["l2re_mean"] > 0 and saved["inference_s"] > 0
        assert saved["fd"]["newton_continuation"]["converged"] == saved["test_functions"]
        assert saved["machine"]["torch_threads"] == 1
    ours = records[0]["stages"]
    assert [s["stage"].split()[0] for s in ours] == ["time", "viscosity"]
    assert ours[0]["path"] == [1.0, 0.5, 0.0] and ours[1]["path"] == [1.0, 0.5, 0.25, 0.125, 0.1]
    assert sum(line.startswith("| 0.1 |") for line in (tmp_path / "README.md").read_text().splitlines()) == 5
    assert (tmp_path / "profiles.png").stat().st_size > 0


def test_joint_homotopy_is_the_time_homotopy_at_the_scheduled_viscosity():
    net, theta = tanh_network(0.2)
    problem = BurgersOperator(0.05, model=net)
    u0 = sample_initial_data(2, 0.05)
    x = problem.collocation_points(5)
    joint = problem.residual_map(u0, x, "joint")
    for s, nu in ((1.0, 1.0), (0.75, math.sqrt(0.05)), (0.5, 0.05), (0.2, 0.05)):
        eps = torch.tensor(s, dtype=torch.float64)
        time = problem.residual_map(u0, x, "time", nu=nu)
        assert torch.allclose(joint(theta, eps), time(theta, eps), atol=1e-12)
