"""models.from_module, device=, float32 end to end, and save / load of a network with its architecture."""

import pytest
import torch
from torch.func import jacrev, vmap

import continuation
from models import MLP, DeepONet, NeuralODE, from_module, load, save
from pde import AllenCahn1D

DT = torch.float64


def small_module() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double()


def test_from_module_matches_the_module_and_differentiates_in_the_weights():
    net = small_module()
    model = from_module(net)
    theta = model.init()
    assert model.num_weights == sum(p.numel() for p in net.parameters()) == 25
    x = torch.randn(5, 2, dtype=DT)
    assert torch.equal(model.apply(theta, x), net(x))
    # the per-point Jacobian in theta, as PointwiseResidual computes it, equals autograd through the module
    jac = vmap(jacrev(lambda t, p: model.apply(t, p)[0]), in_dims=(None, 0))(theta, x)
    net(x)[3, 0].backward()
    expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    assert torch.allclose(jac[3], expected)
    # the module is left as it was: other weights do not leak into it
    model.apply(theta + 1.0, x)
    assert torch.equal(model.init(), theta)


def test_from_module_state_dict_round_trip():
    net = small_module()
    model = from_module(net)
    theta = model.init() * 2
    other = small_module()
    other.load_state_dict(model.state_dict(theta))
    assert torch.equal(from_module(other).init(), theta)


def test_from_module_rejects_bad_input():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module, got MLP"):
        from_module(MLP([1, 1]))
    with pytest.raises(ValueError, match="module must have parameters"):
        from_module(torch.nn.Tanh())
    mixed = torch.nn.Sequential(torch.nn.Linear(1, 2).double(), torch.nn.Linear(2, 1).float())
    with pytest.raises(ValueError, match="one floating dtype"):
        from_module(mixed)
    with pytest.raises(ValueError, match=r"theta must have shape \(25,\), got \(3,\)"):
        from_module(small_module()).apply(torch.zeros(3, dtype=DT), torch.zeros(2, dtype=DT))


def test_device_is_where_init_puts_the_weights():
    # the "meta" device has no data but checks the plumbing without a GPU
    assert MLP([1, 4, 1], device="meta").init(seed=0).device.type == "meta"
    assert DeepONet(sensors=3, basis=2, branch_hidden=[4], trunk_hidden=[4], device="meta").init().device.type == "meta"
    assert NeuralODE([2, 4, 2], device="meta").init().device.type == "meta"
    # a seed gives the same weights whatever the device: the draws are made on the CPU
    assert torch.equal(MLP([1, 4, 1]).init(seed=3), MLP([1, 4, 1], device="cpu").init(seed=3))
    with pytest.raises(ValueError, match="dtype must be a floating torch.dtype, got torch.int64"):
        MLP([1, 1], dtype=torch.int64)


def test_float32_end_to_end_on_p1():
    problem = AllenCahn1D(model=MLP([1, 20, 20, 1], dtype=torch.float32), eps_min=0.2, n_points=100)
    theta0 = problem.model.init(seed=0)
    assert theta0.dtype == torch.float32
    result = continuation.trace(problem.residual_map, theta0, [0.5, 0.2], options=continuation.Options(tol=1e-4))
    # P1's interface is weakly pinned (docs/reliability.md): met tol, ended ill-conditioned, in float32 too
    assert result.status is continuation.Status.ILL_CONDITIONED and result.residual_norms[-1] <= 1e-4
    assert result.theta.dtype == torch.float32
    assert all(theta.dtype == torch.float32 for theta in result.thetas)
    assert problem.l2re(result.theta, 0.2) < 1e-2


@pytest.mark.parametrize(
    "model",
    [
        MLP([2, 8, 8, 1], activation="sin"),
        MLP([1, 5, 1], dtype=torch.float32),
        DeepONet(sensors=4, basis=3, branch_hidden=[5], trunk_hidden=[6], dim=2, activation="gelu"),
        NeuralODE([3, 10, 3], rtol=1e-5, atol=1e-6, method="rk4"),
    ],
    ids=repr,
)
def test_save_load_round_trip(tmp_path, model):
    theta = model.init(seed=1) + 0.5
    path = tmp_path / "model.pt"
    save(path, model, theta)
    again, weights = load(path)
    assert type(again) is type(model) and again.config() == model.config()
    assert torch.equal(weights, theta) and weights.dtype == theta.dtype
    if isinstance(model, NeuralODE):
        t = torch.linspace(0, 0.5, 3, dtype=DT)
        u0 = torch.ones(3, dtype=DT)
        assert torch.equal(again.trajectory(weights, u0, t), model.trajectory(theta, u0, t))


def test_save_and_load_reject_what_they_cannot_rebuild(tmp_path):
    with pytest.raises(ValueError, match="only an activation given by name can be saved"):
        save(tmp_path / "a.pt", MLP([1, 1], activation=torch.sin), torch.zeros(2, dtype=DT))
    with pytest.raises(TypeError, match="model.state_dict"):
        save(tmp_path / "b.pt", from_module(small_module()), torch.zeros(25, dtype=DT))
    with pytest.raises(ValueError, match=r"theta must have shape \(2,\), got \(3,\)"):
        save(tmp_path / "c.pt", MLP([1, 1]), torch.zeros(3, dtype=DT))
    torch.save({"theta": torch.zeros(2)}, tmp_path / "d.pt")
    with pytest.raises(ValueError, match="written by models.save"):
        load(tmp_path / "d.pt")
