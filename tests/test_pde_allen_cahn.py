"""P1: the residual of the exact solution vanishes; l2re and the interface on perturbed solutions."""

import math

import pytest
import torch

import continuation
from pde import AllenCahn1D

DT = torch.float64


class ExactModel:
    """A stand-in network whose single weight is eps: u = tanh(x / (sqrt(2) theta[0]))."""

    dtype = DT
    num_weights = 1

    def __init__(self, shift=0.0):
        self.shift = shift

    def apply(self, theta, x):
        return torch.tanh((x - self.shift) / (math.sqrt(2.0) * theta[0]))


@pytest.mark.parametrize("eps", [0.5, 0.1, 0.02])
def test_exact_solution_has_zero_residual(eps):
    problem = AllenCahn1D(model=ExactModel(), eps_min=eps)
    residual = problem.residual_map(torch.tensor([eps], dtype=DT), torch.tensor(eps, dtype=DT))
    assert residual.shape == (problem.points.shape[0] + 2,)
    assert float(residual.abs().max()) < 1e-12


def test_residual_detects_a_wrong_eps():
    problem = AllenCahn1D(model=ExactModel(), eps_min=0.1)
    residual = problem.residual_map(torch.tensor([0.1], dtype=DT), torch.tensor(0.12, dtype=DT))
    assert float(residual.abs().max()) > 1e-2


@pytest.mark.parametrize("shift", [1e-3, 1e-2])
def test_l2re_and_interface_of_a_shifted_kink(shift):
    eps = 0.05
    problem = AllenCahn1D(model=ExactModel(shift), eps_min=eps)
    theta = torch.tensor([eps], dtype=DT)
    # a shift delta changes u by ~ delta u'; L2RE ~ delta * sqrt(2 / (3 sqrt(2) eps)) / ... to first order
    width = math.sqrt(2.0) * eps
    predicted = shift * math.sqrt(4.0 / (3.0 * width)) / math.sqrt(2.0 - 2.0 * width)
    assert problem.l2re(theta, eps) == pytest.approx(predicted, rel=0.05)
    assert problem.interface(theta) == pytest.approx(shift, abs=1e-6)


def test_homotopy_reaches_a_moderate_eps():
    """End to end: default method, eps 0.5 -> 0.1 on 200 points."""
    problem = AllenCahn1D(eps_min=0.1)
    result = continuation.trace(problem.residual_map, problem.model.init(seed=0), [0.5, 0.1],
                                options=continuation.Options(initial_iterations=200))
    # the interface is pinned only by boundary terms of order exp(-1 / (sqrt(2) eps)): the residual meets tol
    # but cannot prove the solution, and the trace says so; the symmetric path did keep the interface at 0
    assert result.status is continuation.Status.ILL_CONDITIONED, result.message
    assert result.residual_norms[-1] <= 1e-5 and result.conditioning["bound"] > 1e-2
    assert problem.l2re(result.theta, 0.1) < 1e-4
    assert abs(problem.interface(result.theta)) < 1e-4
