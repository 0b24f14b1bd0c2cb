import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.func import grad, jacrev, vmap

from models import MLP, DeepONet

SMALL = dict(sensors=6, basis=4, branch_hidden=[7], trunk_hidden=[5, 5])


def test_weight_count_is_branch_plus_trunk_plus_bias():
    net = DeepONet(**SMALL)
    branch, trunk = MLP([6, 7, 4]), MLP([1, 5, 5, 4])
    assert net.num_weights == branch.num_weights + trunk.num_weights + 1
    theta = net.init(seed=1)
    assert theta.shape == (net.num_weights,) and theta.dtype == torch.float64
    assert torch.equal(theta, net.init(seed=1)) and not torch.equal(theta, net.init(seed=2))
    assert float(theta[-1]) == 0.0


@given(functions=st.integers(1, 4), points=st.integers(1, 5), seed=st.integers(0, 100))
def test_apply_is_the_dot_product_of_branch_and_trunk_plus_bias(functions, points, seed):
    net = DeepONet(**SMALL)
    generator = torch.Generator().manual_seed(seed)
    theta = torch.randn(net.num_weights, generator=generator, dtype=torch.float64)
    u0 = torch.randn(functions, 6, generator=generator, dtype=torch.float64)
    x = torch.rand(points, 1, generator=generator, dtype=torch.float64)
    branch, trunk, bias = net.split(theta)
    expected = net.branch.apply(branch, u0) @ net.trunk.apply(trunk, x).T + bias
    out = net.apply(theta, u0, x)
    assert out.shape == (functions, points)
    assert torch.allclose(out, expected, atol=1e-13)
    assert torch.allclose(out[-1, -1], net.apply_one(theta, u0[-1], x[-1]), atol=1e-13)


def test_apply_one_is_differentiable_in_weights_and_point_under_vmap():
    net = DeepONet(**SMALL)
    theta = net.init(seed=0) + 0.05
    u0 = torch.randn(6, dtype=torch.float64)
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)[:, None]
    jacobians = vmap(jacrev(net.apply_one), in_dims=(None, None, 0))(theta, u0, x)
    assert jacobians.shape == (5, net.num_weights)
    # d/d(b_0) of the output is 1 at every point
    assert torch.allclose(jacobians[:, -1], torch.ones(5, dtype=torch.float64))
    # x-derivative against a central difference
    h = 1e-6
    derivative = grad(lambda y: net.apply_one(theta, u0, y))(x[2])
    difference = (net.apply_one(theta, u0, x[2] + h) - net.apply_one(theta, u0, x[2] - h)) / (2 * h)
    assert float(derivative[0]) == pytest.approx(float(difference), rel=1e-7, abs=1e-9)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="sensors"):
        DeepONet(sensors=0, basis=3)
    with pytest.raises(ValueError, match="basis"):
        DeepONet(sensors=3, basis=2.5)
    net = DeepONet(**SMALL)
    theta = net.init(seed=0)
    with pytest.raises(ValueError, match=r"u0 must have shape \(F, 6\)"):
        net.apply(theta, torch.zeros(2, 5, dtype=torch.float64), torch.zeros(3, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1\)"):
        net.apply(theta, torch.zeros(2, 6, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="theta must have shape"):
        net.apply(theta[:-1], torch.zeros(2, 6, dtype=torch.float64), torch.zeros(3, 1, dtype=torch.float64))
