"""Collocation points (pde.sampling), boundary blocks and hard constraints (pde.boundary), derivatives (pde.calculus)."""

import math

import pytest
import torch

import continuation
from models import MLP
from pde import boundary, calculus, sampling

DT = torch.float64


@pytest.mark.parametrize("method", ["sobol", "halton"])
def test_box_points_lie_in_the_box_and_fill_it_evenly(method):
    x = sampling.box([0.0, -2.0], [1.0, 2.0], 256, method=method, seed=3)
    assert x.shape == (256, 2) and x.dtype == DT
    assert bool((x[:, 0] >= 0).all() and (x[:, 0] <= 1).all() and (x[:, 1].abs() <= 2).all())
    # low discrepancy: every quarter of the box holds close to a quarter of the points
    quarters = torch.histc((x[:, 0] > 0.5).to(DT) * 2 + (x[:, 1] > 0).to(DT), bins=4, min=0, max=3)
    assert quarters.min() >= 60 and quarters.max() <= 68
    assert torch.equal(x, sampling.box([0.0, -2.0], [1.0, 2.0], 256, method=method, seed=3))
    assert not torch.equal(x, sampling.box([0.0, -2.0], [1.0, 2.0], 256, method=method, seed=4))


def test_grid_with_and_without_the_boundary():
    assert torch.allclose(sampling.grid([0], [1], 4)[:, 0], torch.tensor([0, 1 / 3, 2 / 3, 1], dtype=DT))
    inner = sampling.grid([0, 0], [1, 1], [3, 1], interior=True)
    assert inner.shape == (3, 2) and torch.allclose(inner[:, 1], torch.full((3,), 0.5, dtype=DT))
    assert sampling.box([0, 0, 0], [1, 1, 1], 27, method="grid").shape == (27, 3)


def test_box_boundary_points_are_on_the_faces_with_outward_normals():
    x, n = sampling.box_boundary([0, 0, 0], [1, 2, 3], 200, normals=True, dtype=torch.float32)
    assert x.shape == n.shape == (200, 3) and x.dtype == torch.float32
    on_face = ((x == 0) | (x == torch.tensor([1.0, 2.0, 3.0]))).any(dim=1)
    assert bool(on_face.all())
    assert torch.equal(n.abs().sum(dim=1), torch.ones(200))
    # the normal points out: a small step along it leaves the box
    outside = x + 1e-3 * n
    assert bool(((outside < 0) | (outside > torch.tensor([1.0, 2.0, 3.0]))).any(dim=1).all())
    # points in proportion to the face areas: the two 2 x 3 faces (normal along x_1) get 6/11 of them
    assert int((n[:, 0] != 0).sum()) == pytest.approx(200 * 6 / 11, abs=2)


def test_layer_grid_density_follows_its_formula_and_keeps_the_mirror_symmetry():
    n, width = 1000, 0.01
    x = sampling.layer_grid(-1.0, 1.0, n, center=0.0, width=width)[:, 0]
    assert x.shape == (n,) and bool((x[1:] > x[:-1]).all()) and bool((x.abs() < 1).all())
    layer = x.abs() < width
    assert int(layer.sum()) == 500  # half the points within the width
    spacing = x[1:] - x[:-1]
    inside = layer[1:] & layer[:-1]
    outside = ~layer[1:] & ~layer[:-1]
    # density 500 / (2 width) in the layer, 500 / (2 - 2 width) outside: constant spacing, the reciprocal
    assert torch.allclose(spacing[inside], torch.full_like(spacing[inside], 2 * width / 500), rtol=1e-9)
    assert torch.allclose(spacing[outside], torch.full_like(spacing[outside], (2 - 2 * width) / 500), rtol=1e-9)
    assert torch.allclose(x, -x.flip(0), atol=1e-15)  # x -> -x maps the grid onto itself


def test_layer_grid_clips_the_layer_to_the_interval_and_is_uniform_when_the_layer_covers_it():
    x = sampling.layer_grid(0.0, 1.0, 10, center=0.0, width=0.2, fraction=0.4)[:, 0]  # a boundary layer at 0
    assert int((x < 0.2).sum()) == 4 and torch.allclose(x[:4], torch.tensor([0.025, 0.075, 0.125, 0.175],
                                                                            dtype=torch.float64))
    assert torch.allclose(x[4:], 0.2 + 0.8 * (torch.arange(6, dtype=torch.float64) + 0.5) / 6)
    covered = sampling.layer_grid(-1.0, 1.0, 4, center=0.0, width=3.0)[:, 0]
    assert torch.allclose(covered, torch.tensor([-0.75, -0.25, 0.25, 0.75], dtype=torch.float64))


def test_shishkin_width_leaves_a_tail_of_n_to_the_minus_sigma():
    scale, n = 0.003, 2000
    width = sampling.shishkin_width(scale, n, sigma=2.0)
    assert math.exp(-width / scale) == pytest.approx(n**-2.0, rel=1e-12)
    assert sampling.shishkin_width(scale, n, cap=0.01) == 0.01


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sampling.box([0, 1], [1, 0], 10), "lower must be below upper"),
        (lambda: sampling.box([0], [1, 2], 10), "same length"),
        (lambda: sampling.box([0], [1], 0), "n must be a positive integer, got 0"),
        (lambda: sampling.box([0], [1], 10, method="random"), "method must be one of"),
        (lambda: sampling.grid([0, 0], [1, 1], [2]), "counts must be one integer or 2 integers"),
        (lambda: calculus.partial(lambda x: x.sum(), -1), "axis must be a non-negative integer, got -1"),
        (lambda: sampling.layer_grid(-1.0, 1.0, 10, center=2.0, width=0.1), "center must lie in"),
        (lambda: sampling.layer_grid(-1.0, 1.0, 10, center=0.0, width=0.0), "width must be"),
        (lambda: sampling.layer_grid(-1.0, 1.0, 10, center=0.0, width=0.1, fraction=1.0), "fraction must lie"),
        (lambda: sampling.shishkin_width(0.0, 10), "scale must be"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_partial_and_laplacian_against_known_derivatives():
    u = lambda x: torch.sin(x[0]) * x[1] ** 3  # noqa: E731
    x = torch.tensor([0.3, -1.2], dtype=DT)
    assert float(calculus.partial(u, 0)(x)) == pytest.approx(math.cos(0.3) * (-1.2) ** 3)
    assert float(calculus.partial(u, 1)(x)) == pytest.approx(3 * math.sin(0.3) * 1.44)
    assert float(calculus.laplacian(u)(x)) == pytest.approx(-math.sin(0.3) * (-1.2) ** 3 + 6 * math.sin(0.3) * -1.2)


def test_neumann_and_periodic_blocks_vanish_on_functions_that_satisfy_them():
    x, n = sampling.box_boundary([0, 0], [1, 1], 40, normals=True)
    eps = torch.tensor(0.0, dtype=DT)
    theta = torch.tensor([2.0], dtype=DT)
    quadratic = lambda theta, x: theta[0] * (x**2).sum()  # noqa: E731  normal derivative 2 theta x.n
    g = lambda x, eps: 4.0 * (x.max() == 1).to(DT)  # noqa: E731  2 theta on the faces x_i = 1, 0 on x_i = 0
    block = boundary.neumann(quadratic, g, x, n)
    assert float(block(theta, eps).abs().max()) < 1e-12
    wave = lambda theta, x: torch.sin(math.pi * theta[0] * x[0]) + x[1]  # noqa: E731  period 1 in x_1 if theta = 2
    left = sampling.grid([0, 0], [0.1, 1], [1, 7])
    good = boundary.periodic(wave, left, [1.0, 0.0])
    assert good(theta, eps).shape == (7 * 3,)
    assert float(good(theta, eps).abs().max()) < 1e-12
    assert float(good(torch.tensor([1.5], dtype=DT), eps).abs().max()) > 0.1
    assert boundary.periodic(wave, left, [1.0, 0.0], derivative=False)(theta, eps).shape == (7,)


def test_boundary_blocks_reject_bad_input():
    x = torch.zeros(3, 2, dtype=DT)
    with pytest.raises(ValueError, match="normals must be a tensor of the shape of points"):
        boundary.neumann(lambda theta, x: x.sum(), 0.0, x, torch.zeros(3, 1, dtype=DT))
    with pytest.raises(ValueError, match=r"period must have shape \(2,\)"):
        boundary.periodic(lambda theta, x: x.sum(), x, [1.0])
    with pytest.raises(TypeError, match="g must be a number or a callable"):
        boundary.dirichlet(lambda theta, x: x.sum(), "zero", x)
    with pytest.raises(TypeError, match="distance must be callable"):
        boundary.hard_constraint(lambda theta, x: x.sum(), lambda x: x[0], 1.0)


def test_hard_constraint_and_dirichlet_block_solve_the_same_poisson_problem():
    """-u'' = pi^2 sin(pi x) on (0, 1), u(0) = 0, u(1) = 1: exact u = sin(pi x) + x."""
    net = MLP([1, 10, 1])
    x = sampling.grid([0], [1], 25, interior=True)
    exact = lambda x: torch.sin(math.pi * x[:, 0]) + x[:, 0]  # noqa: E731
    source = lambda x: math.pi**2 * torch.sin(math.pi * x[0])  # noqa: E731
    soft_u = lambda theta, x: net.apply(theta, x)[0]  # noqa: E731
    hard_u = boundary.hard_constraint(soft_u, lambda x: x[0], lambda x: x[0] * (1 - x[0]))

    def interior(u):
        return continuation.PointwiseResidual(
            lambda theta, x, eps: -calculus.laplacian(lambda y: u(theta, y))(x) - source(x), x
        )

    ends = sampling.box_boundary([0], [1], 2)
    soft = continuation.StackedResidual([interior(soft_u), boundary.dirichlet(soft_u, lambda x, eps: x[0], ends)])
    errors = {}
    for name, (residual, u) in {"soft": (soft, soft_u), "hard": (interior(hard_u), hard_u)}.items():
        # no eps in this problem: the trace is a plain solve (no predictor: there is no path to predict along)
        result = continuation.trace(residual, net.init(seed=0), [1.0, 0.0], adaptive=False, predictor="none",
                                    options=continuation.Options(initial_iterations=100, tol=1e-8))
        test = sampling.grid([0], [1], 101)
        predicted = torch.stack([u(result.theta, p) for p in test]).detach()
        errors[name] = float((predicted - exact(test)).abs().max())
        if name == "hard":
            assert float(u(result.theta, ends[0])) == 0.0 and float(u(result.theta, ends[1])) == 1.0
    assert errors["soft"] < 1e-3 and errors["hard"] < 1e-3, errors
