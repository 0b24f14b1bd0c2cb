import math

import pytest
import torch

from models import MLP


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
