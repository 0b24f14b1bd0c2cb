import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import MLP
from models.mlp import ACTIVATION_DERIVATIVES
from pde.calculus import laplacian

DT = torch.float64


def test_weight_count_and_xavier_init():
    net = MLP([1, 30, 30, 30, 1])
    assert net.num_weights == 1951
    theta = net.init(seed=3)
    layers = net.unflatten(theta)
    for (weight, bias), (n_out, n_in) in zip(layers, net.shapes):
        assert weight.shape == (n_out, n_in) and torch.all(bias == 0)
    big = MLP([200, 300]).unflatten(MLP([200, 300]).init(seed=0))[0][0]
    assert float(big.std()) == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert torch.equal(net.init(seed=3), theta) and not torch.equal(net.init(seed=4), theta)


def test_apply_on_a_point_agrees_with_a_batch_and_with_torch_nn():
    net = MLP([2, 5, 3], activation="tanh")
    theta = net.init(seed=0) + 0.1  # nonzero biases too
    x = torch.randn(4, 2, dtype=torch.float64)
    batch = net.apply(theta, x)
    assert torch.allclose(batch[2], net.apply(theta, x[2]))
    (w1, b1), (w2, b2) = net.unflatten(theta)
    assert torch.allclose(batch, torch.tanh(x @ w1.T + b1) @ w2.T + b2)


def test_zero_bias_tanh_network_is_odd():
    net = MLP([1, 30, 30, 30, 1])
    theta = net.init(seed=0)
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)[:, None]
    assert torch.allclose(net.apply(theta, -x), -net.apply(theta, x))


@pytest.mark.parametrize("widths, error", [([1], ValueError), ([1, 0], ValueError), ([1, 2.5], ValueError)])
def test_bad_widths(widths, error):
    with pytest.raises(error, match="widths"):
        MLP(widths)


def test_bad_activation_and_theta_shape():
    with pytest.raises(ValueError, match="activation"):
        MLP([1, 1], activation="relu6")
    with pytest.raises(ValueError, match=r"theta must have shape \(7,\)"):
        MLP([1, 2, 1]).apply(torch.zeros(5, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))


@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(1, 4),
    hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    activation=st.sampled_from(sorted(ACTIVATION_DERIVATIVES)),
    seed=st.integers(0, 10_000),
)
def test_taylor_mode_laplacian_matches_forward_over_reverse(d, hidden, activation, seed):
    """``apply_with_laplacian`` against ``pde.calculus.laplacian`` (nested autodiff), point by point and batched."""
    net = MLP([d, *hidden, 1], activation=activation)
    generator = torch.Generator().manual_seed(seed)
    theta = net.init(generator=generator) + 0.1 * torch.randn(net.num_weights, generator=generator, dtype=DT)
    x = torch.randn(7, d, generator=generator, dtype=DT)
    expected = torch.stack([laplacian(lambda y: net.apply(theta, y)[0])(point) for point in x])
    u, lap = net.apply_with_laplacian(theta, x)
    torch.testing.assert_close(u, net.apply(theta, x), rtol=0, atol=1e-14)
    torch.testing.assert_close(lap[:, 0], expected, rtol=1e-12, atol=1e-12)
    u0, lap0 = net.apply_with_laplacian(theta, x[0])
    torch.testing.assert_close(lap0[0], expected[0], rtol=1e-12, atol=1e-12)


def test_taylor_mode_laplacian_of_a_known_network():
    """One tanh unit ``u = tanh(w . x)``: ``Lap u = -2 |w|^2 tanh (1 - tanh^2)``."""
    net = MLP([3, 1, 1])
    w = torch.tensor([0.3, -0.5, 0.2], dtype=DT)
    theta = torch.cat([w, torch.zeros(1, dtype=DT), torch.ones(1, dtype=DT), torch.zeros(1, dtype=DT)])
    x = torch.tensor([0.4, 0.1, -0.7], dtype=DT)
    a = torch.tanh(w @ x)
    _, lap = net.apply_with_laplacian(theta, x)
    torch.testing.assert_close(lap[0], -2 * (w @ w) * a * (1 - a * a))


def test_taylor_mode_laplacian_names_an_unsupported_activation():
    with pytest.raises(ValueError, match="apply_with_laplacian needs an activation"):
        MLP([1, 4, 1], activation="gelu").apply_with_laplacian(MLP([1, 4, 1]).init(seed=0), torch.zeros(1, dtype=DT))
