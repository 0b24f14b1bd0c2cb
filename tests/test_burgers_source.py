"""Burgers with a source (operator f -> u): the FD solver with a source, the residual, a smoke run."""

import json
import math

import numpy as np
import pytest
import torch

from models import DeepONet
from pde.burgers import sample_random_field
from pde.burgers_fd import fd_grid, fd_residual, newton_steady
from pde.burgers_source import SourceBurgersOperator

F64 = torch.float64


def slope(h, errors) -> float:
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


@pytest.mark.parametrize("nu", [0.5, 0.1])
def test_newton_with_a_source_converges_at_order_two_to_a_manufactured_solution(nu):
    # u = sin(pi x) + x / 2 + 1/4: boundary values -1/4 and 3/4
    def exact(x):
        return np.sin(np.pi * x) + x / 2 + 0.25

    def source(x):
        u, u_x = exact(x), np.pi * np.cos(np.pi * x) + 0.5
        return -nu * np.pi**2 * np.sin(np.pi * x) - u * u_x

    intervals = [20, 40, 80, 160]
    errors = []
    for n in intervals:
        x = fd_grid(n)
        result = newton_steady(np.zeros((2, n + 1)), nu, source=np.stack([source(x)] * 2), boundary=(-0.25, 0.75))
        assert bool(result.converged.all())
        assert result.u[0, 0] == -0.25 and result.u[0, -1] == 0.75
        errors.append(np.abs(result.u[0] - exact(x)).max())
    assert slope(2 / np.array(intervals), errors) == pytest.approx(2.0, abs=0.1)


def test_a_source_of_zero_is_p5():
    x = fd_grid(40)
    u = np.stack([np.cos(3 * x), x**3])
    assert np.array_equal(fd_residual(u, 0.1, np.zeros_like(u)), fd_residual(u, 0.1))
    plain = newton_steady(u, 0.1, nu_start=1.0)
    with_zero = newton_steady(u, 0.1, nu_start=1.0, source=np.zeros_like(u), boundary=(math.tanh(5), -math.tanh(5)))
    assert np.allclose(plain.u, with_zero.u, atol=1e-12)


def test_newton_rejects_a_bad_source_or_boundary():
    u = np.zeros((2, 11))
    with pytest.raises(ValueError, match=r"source must be finite values of shape \(2, 11\)"):
        newton_steady(u, 0.1, source=np.zeros((1, 11)))
    with pytest.raises(ValueError, match="boundary must be two finite numbers"):
        newton_steady(u, 0.1, boundary=(0.0, math.nan))


def chebyshev_field(coefficients: torch.Tensor):
    """The Chebyshev series with these coefficients as a scalar field of a point of shape (1,)."""
    degrees = torch.arange(coefficients.numel(), dtype=F64)

    def field(y):
        return torch.cos(degrees * torch.acos(y[0])) @ coefficients

    return field


def test_operator_residual_vanishes_on_the_fd_solution_at_order_two():
    """The residual of the operator, evaluated on a smooth fit of the FD solution, falls like h^2."""
    nu = 0.5
    sources = sample_random_field(1, seed=0, length_scale=0.5, amplitude=1.0)
    x_check = torch.linspace(-0.9, 0.9, 19, dtype=F64)
    f_check = sources(x_check)[0]
    intervals, errors = [20, 40, 80, 160], []
    for n in intervals:
        x = fd_grid(n)
        solution = newton_steady(np.zeros((1, n + 1)), nu, source=sources(torch.tensor(x)).numpy(),
                                 boundary=(0.0, 0.0))
        # least squares, degree 16: the fit error is far below the discretisation error
        field = chebyshev_field(torch.tensor(np.polynomial.chebyshev.chebfit(x, solution.u[0], 16)))
        residual = torch.stack([
            SourceBurgersOperator.residual(field, x_check[i : i + 1], f_check[i], nu) for i in range(19)
        ])
        errors.append(float(residual.abs().max()))
    assert errors[-1] < 2e-3
    assert slope(2 / np.array(intervals), errors) == pytest.approx(2.0, abs=0.15)


def test_network_residual_rows_match_the_pointwise_residual():
    problem = SourceBurgersOperator(0.1, model=DeepONet(sensors=5, basis=3, branch_hidden=[4], trunk_hidden=[4]),
                                    boundary=(0.5, -0.25))
    sources = sample_random_field(2, seed=1, length_scale=0.5, amplitude=1.0)
    x = problem.collocation_points(3)
    theta = problem.model.init(seed=0)
    H = problem.residual_map(sources, x)
    value = H(theta, torch.tensor(0.1, dtype=F64))
    assert value.shape == (2 * 3 + 2 * 2,)
    sensors = problem.sensors(sources)
    expected = problem.residual(lambda y: problem.model.apply_one(theta, sensors[1], y), x[2:3], sources(x)[1, 2], 0.1)
    assert float(value[5]) == pytest.approx(float(expected) / math.sqrt(6), rel=1e-12)
    u_ends = problem.predict(theta, sources, torch.tensor([-1.0, 1.0], dtype=F64))
    boundary = torch.stack([u_ends[:, 0] - 0.5, u_ends[:, 1] + 0.25], dim=1).reshape(-1) / math.sqrt(4)
    assert torch.allclose(value[6:], boundary, atol=1e-14)
    # eps is the viscosity: dH/dnu is u'' on the interior rows, 0 on the boundary
    assert torch.all(H.eps_derivative(theta, torch.tensor(0.1, dtype=F64))[6:] == 0)


def test_operator_rejects_bad_input():
    with pytest.raises(ValueError, match="nu must be a positive finite number, got -1"):
        SourceBurgersOperator(-1)
    with pytest.raises(ValueError, match="boundary must be two finite numbers"):
        SourceBurgersOperator(0.1, boundary=(0.0,))
    problem = SourceBurgersOperator(0.1, model=DeepONet(sensors=5, basis=3, branch_hidden=[4], trunk_hidden=[4]))
    with pytest.raises(ValueError, match=r"points inside \(-1, 1\)"):
        problem.residual_map(sample_random_field(2), torch.tensor([0.0, 1.0], dtype=F64))


def test_smoke_run_of_the_source_benchmark(tmp_path, one_thread):
    from benchmarks.__main__ import main

    main(["burgers-source", "--budget", "tiny", "--nu", "0.1", "--out", str(tmp_path)])
    records = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert sorted(records) == ["nu0.1_direct.json", "nu0.1_homotopy.json"]
    for record in records.values():
        for key in ("problem", "method", "nu", "l2re_mean", "l2re_worst", "loss", "train_wall_s", "weights",
                    "points", "torch", "machine", "commit", "inference_s"):
            assert key in record
        assert record["newton"]["reference_converged"] == record["test_functions"] == 4
        assert record["speedup"]["reference_grid"] > 0
    assert records["nu0.1_homotopy.json"]["stage"]["iterations"] == records["nu0.1_direct.json"]["stage"]["iterations"]
    assert (tmp_path / "README.md").exists() and (tmp_path / "profiles.png").exists()
