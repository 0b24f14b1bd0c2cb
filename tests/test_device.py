"""Device-agnostic problems: on the ``meta`` device (shapes and devices, no data), every tensor a
network problem builds and returns follows its network's device."""

import pytest
import torch

from models import MLP
from pde import AllenCahn1D, AllenCahn2D, BratuNetwork, ChafeeInfanteNetwork, Helmholtz, HighFrequencyFit, Poisson1D

META = torch.device("meta")

PROBLEMS = {
    "ac1d": lambda: AllenCahn1D(MLP([1, 4, 1], device=META), n_points=10, n_test=5),
    "ac2d": lambda: AllenCahn2D(MLP([2, 4, 1], device=META), n_points=10, n_boundary=8, n_test=5),
    "helmholtz": lambda: Helmholtz(3, MLP([3, 4, 1], device=META), n_points=10, n_boundary=4, n_test=5),
    "fit": lambda: HighFrequencyFit(MLP([1, 4, 1], device=META), n_points=10, n_test=5),
    "poisson": lambda: Poisson1D(MLP([1, 4, 1], device=META), n_points=10, n_test=5),
    "bratu": lambda: BratuNetwork(MLP([1, 4, 1], device=META), n_points=10, n_test=5),
    "chafee-infante": lambda: ChafeeInfanteNetwork(model=MLP([1, 4, 1], device=META), n_points=10, n_test=5),
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_a_problem_builds_its_points_and_residuals_on_its_network_device(name):
    problem = PROBLEMS[name]()
    theta = problem.model.init(seed=0)
    eps = torch.tensor(0.5, dtype=theta.dtype, device=theta.device)
    assert theta.device == META and problem.points.device == META and problem.test_points.device == META
    assert getattr(problem, "boundary_points", problem.points).device == META
    residual_map = problem.residual_map
    value, jacobian = residual_map.linearize(theta, eps)
    assert value.device == META and jacobian.device == META and jacobian.shape == (value.numel(), theta.numel())
    assert residual_map.eps_derivative(theta, eps).device == META
    _, jvp, vjp = residual_map.products(theta, eps)
    assert jvp(theta).device == META and vjp(value).device == META
    assert problem.uniform_points(3, seed=0).device == META
    assert problem.validation_map()(theta, eps).device == META

