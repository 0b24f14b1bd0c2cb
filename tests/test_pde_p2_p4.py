"""P2-P4: the residual of the exact solution vanishes, a wrong parameter does not, and l2re is right.

The stand-in model evaluates the problem's own ``exact`` with ``theta[0]`` as
``eps``; the derivatives in the residual then come from autograd through the
same residual code the networks use.
"""

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from continuation import ResidualMap
from models import MLP
from pde import AllenCahn2D, Helmholtz, HighFrequencyFit, laplacian, resonance_gap

DT = torch.float64


class ExactModel:
    """A stand-in network ``u(x) = scale * field(x - shift, theta[0]) + offset``."""

    dtype = DT
    num_weights = 1

    def __init__(self, field, scale=1.0, offset=0.0, shift=None):
        self.field, self.scale, self.offset, self.shift = field, scale, offset, shift

    def apply(self, theta, x):
        batch = x if x.ndim == 2 else x[None]
        if self.shift is not None:
            batch = batch - torch.tensor(self.shift, dtype=DT)
        u = (self.scale * self.field(batch, theta[0]) + self.offset)[:, None]
        return u if x.ndim == 2 else u[0]


def value(problem, theta_eps, parameter):
    """The residual map at ``theta = [theta_eps]`` and the homotopy parameter, scaled back per point."""
    assert isinstance(problem.residual_map, ResidualMap)
    residual = problem.residual_map(torch.tensor([theta_eps], dtype=DT), torch.tensor(parameter, dtype=DT))
    return residual, residual * math.sqrt(residual.numel())


# ---- P2: 2D Allen-Cahn ----------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.5, 0.1, 0.02])
def test_p2_exact_solution_has_zero_residual(eps):
    problem = AllenCahn2D(model=ExactModel(AllenCahn2D.exact), eps_min=eps, n_points=300, n_boundary=40)
    residual, _ = value(problem, eps, eps)
    assert residual.shape == (340,)
    assert float(residual.abs().max()) < 1e-12


def test_p2_residual_detects_a_wrong_eps():
    problem = AllenCahn2D(model=ExactModel(AllenCahn2D.exact), eps_min=0.1, n_points=300, n_boundary=40)
    _, pointwise = value(problem, 0.1, 0.12)
    assert float(pointwise.abs().max()) > 0.1


def test_p2_default_points_grow_as_eps_shrinks():
    counts = [AllenCahn2D(eps_min=eps, n_test=3).points.shape[0] for eps in (0.1, 0.05, 0.02)]
    assert counts == [1000, 2000, 5000]
    problem = AllenCahn2D(eps_min=0.1, n_test=3)
    edges = problem.boundary_points
    assert bool(((edges.abs() == 1).any(dim=1)).all())
    assert bool((problem.points.abs() < 1).all())


@pytest.mark.parametrize("homotopy", ["time", "gradient-flow"])
def test_p2_time_homotopy_ends(homotopy):
    """s = 1 is solved by u0 = y, s = 0 by the steady solution; between them neither is."""
    eps = 0.05
    kwargs = dict(homotopy=homotopy, eps=eps, n_points=300, n_boundary=40)
    steady = AllenCahn2D(model=ExactModel(AllenCahn2D.exact), **kwargs)
    initial = AllenCahn2D(model=ExactModel(lambda x, e: AllenCahn2D.initial_state(x)), **kwargs)
    assert float(value(steady, eps, 0.0)[0].abs().max()) < 1e-12
    assert float(value(initial, eps, 1.0)[0].abs().max()) < 1e-12
    assert float(value(steady, eps, 0.5)[1].abs().max()) > 0.1
    assert float(value(initial, eps, 0.5)[1].abs().max()) > 0.1
    assert (steady.parameter_start, steady.parameter_target(eps)) == (1.0, 0.0)


def test_p2_time_and_eps_homotopies_agree_at_s_zero():
    theta = AllenCahn2D(n_points=10, n_boundary=4, n_test=3).model.init(seed=1)
    eps = torch.tensor(0.1, dtype=DT)
    a = AllenCahn2D(eps_min=0.1, n_points=30, n_boundary=8, n_test=3)
    b = AllenCahn2D(homotopy="time", eps=0.1, n_points=30, n_boundary=8, n_test=3)
    torch.testing.assert_close(a.residual_map(theta, eps), b.residual_map(theta, torch.tensor(0.0, dtype=DT)))


def test_p2_gradient_flow_is_an_implicit_euler_step_of_the_allen_cahn_flow():
    """Inside, ``H_flow(s) = s (u - u0) - (1 - s) R(u)``: ``(u - u0) / dt = R(u)`` with ``dt = (1 - s) / s``;
    the specified form has ``+ (1 - s) R(u)`` (the reversed flow). On the boundary the two coincide."""
    kwargs = dict(eps=0.1, n_points=30, n_boundary=8, n_test=3)
    flow, spec = AllenCahn2D(homotopy="gradient-flow", **kwargs), AllenCahn2D(homotopy="time", **kwargs)
    theta = flow.model.init(seed=3)
    s = 0.3
    steady = torch.stack([flow.steady_residual(theta, x, 0.1) for x in flow.points]) / math.sqrt(30)
    step = torch.stack([flow.u(theta, x) - flow.initial_state(x) for x in flow.points]) / math.sqrt(30)
    h_flow = flow.residual_map(theta, torch.tensor(s, dtype=DT))
    h_spec = spec.residual_map(theta, torch.tensor(s, dtype=DT))
    torch.testing.assert_close(h_flow[:30], s * step - (1 - s) * steady)
    torch.testing.assert_close(h_spec[:30], s * step + (1 - s) * steady)
    torch.testing.assert_close(h_flow[30:], h_spec[30:])


@pytest.mark.parametrize("delta", [1e-3, 1e-2])
def test_p2_l2re_of_a_shifted_interface(delta):
    eps = 0.05
    problem = AllenCahn2D(model=ExactModel(AllenCahn2D.exact, shift=[0.0, delta]), eps_min=eps,
                          n_points=10, n_boundary=4)
    theta = torch.tensor([eps], dtype=DT)
    # shifting phi by delta changes u by ~ delta du/dy; the ratio of the integrals is that of P1
    width = math.sqrt(2.0) * eps
    predicted = delta * math.sqrt(4.0 / (3.0 * width)) / math.sqrt(2.0 - 2.0 * width)
    assert problem.l2re(theta, eps) == pytest.approx(predicted, rel=0.05)
    assert problem.interface_error(theta) == pytest.approx(delta, abs=1e-4)


def test_p2_l2re_of_a_scaled_solution():
    problem = AllenCahn2D(model=ExactModel(AllenCahn2D.exact, scale=1.03), homotopy="time", eps=0.1,
                          n_points=10, n_boundary=4)
    assert problem.l2re(torch.tensor([0.1], dtype=DT)) == pytest.approx(0.03, rel=1e-9)


# ---- P3: Helmholtz in d dimensions --------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 10])
@pytest.mark.parametrize("eps", [1.0, 0.2])
def test_p3_exact_solution_has_zero_residual(d, eps):
    problem = Helmholtz(d, model=ExactModel(Helmholtz.exact), n_points=100, n_boundary=40, n_test=10)
    residual, _ = value(problem, eps, eps)
    assert residual.shape == (140,)
    assert float(residual.abs().max()) < 1e-12


@pytest.mark.parametrize("d", [2, 10])
def test_p3_residual_detects_a_wrong_eps(d):
    problem = Helmholtz(d, model=ExactModel(Helmholtz.exact), n_points=100, n_boundary=40, n_test=10)
    _, pointwise = value(problem, 0.2, 0.25)
    assert float(pointwise.abs().max()) > 0.1


@pytest.mark.parametrize("d", [2, 10])
def test_p3_points_in_cube_and_on_faces(d):
    problem = Helmholtz(d, n_points=200, n_boundary=100, n_test=500, seed=3)
    on_face = ((problem.boundary_points == 0) | (problem.boundary_points == 1)).sum(dim=1)
    assert bool((on_face == 1).all())
    assert bool(((problem.points > 0) & (problem.points < 1)).all())
    # test points: same distribution, different draws
    assert not torch.equal(problem.test_points[:200], problem.points)


@pytest.mark.parametrize("d", [2, 10])
def test_p3_l2re_of_perturbed_solutions(d):
    eps = 0.5  # then u_exact has mean 0 and mean square 1 / (2 d) on the cube
    scaled = Helmholtz(d, model=ExactModel(Helmholtz.exact, scale=0.98), n_points=10, n_boundary=4)
    theta = torch.tensor([eps], dtype=DT)
    assert scaled.l2re(theta, eps) == pytest.approx(0.02, rel=1e-9)
    delta = 1e-2
    shifted = Helmholtz(d, model=ExactModel(Helmholtz.exact, offset=delta), n_points=10, n_boundary=4)
    assert shifted.l2re(theta, eps) == pytest.approx(delta * math.sqrt(2 * d), rel=0.05)


# ---- P4: high-frequency fitting -------------------------------------------------------------------


@given(d=st.integers(1, 3), eps=st.floats(0.05, 1.0))
@settings(max_examples=40, deadline=None)
def test_p3_resonance_gap_is_the_smallest_eigenvalue_modulus(d, eps):
    # brute force over every wavenumber vector k in {1..K}^d, K beyond the resonance
    K = math.ceil(1.0 / (eps * math.pi)) + 3
    moduli = [
        (abs(1.0 - (eps * math.pi) ** 2 * sum(k * k for k in ks)), sum(k * k for k in ks))
        for ks in itertools.product(range(1, K + 1), repeat=d)
    ]
    gap, m = resonance_gap(d, eps)
    assert gap == pytest.approx(min(moduli)[0], rel=1e-12)
    assert abs(1.0 - (eps * math.pi) ** 2 * m) == pytest.approx(gap, rel=1e-12)


def test_p3_resonance_gap_against_a_finite_difference_operator():
    # eps^2 u'' + u on (0, 1) with zero Dirichlet data, second-order differences on 400 cells
    n, eps = 400, 0.1
    h = 1.0 / n
    second = (np.diag(-2.0 * np.ones(n - 1)) + np.diag(np.ones(n - 2), 1) + np.diag(np.ones(n - 2), -1)) / h**2
    smallest = np.abs(np.linalg.eigvalsh(eps**2 * second + np.eye(n - 1))).min()
    assert smallest == pytest.approx(resonance_gap(1, eps)[0], rel=1e-3)


def _mode(k):
    return lambda x: torch.sin(math.pi * x * torch.tensor(k, dtype=DT)).prod(dim=-1)


@pytest.mark.parametrize(
    "d, errors, expected, rel",
    [
        (2, [((1, 3), 0.01), ((2, 2), 0.01)], 0.5, 0.05),  # half the error energy in the (1, 3) mode
        (2, [((3, 1), 0.02)], 1.0, 0.02),
        (2, [((2, 2), 0.02)], 0.0, None),
        (10, [((1,) * 10, 0.01)], 1.0, 0.1),  # the lowest mode resonates in d = 10 (Monte Carlo in 10-D)
    ],
)
def test_p3_resonant_error_share_of_known_errors(d, errors, expected, rel):
    def field(x, eps):
        return Helmholtz.exact(x, eps) + sum(size * _mode(k)(x) for k, size in errors)

    problem = Helmholtz(d, model=ExactModel(field), n_points=10, n_boundary=4, n_test=40_000)
    share = problem.resonant_error_share(torch.tensor([0.1], dtype=DT), 0.1)
    if rel is None:
        assert share < 2e-3
    else:
        assert share == pytest.approx(expected, rel=rel)


@pytest.mark.parametrize("eps", [1.0, 0.1, 0.02])
def test_p4_exact_fit_has_zero_residual(eps):
    problem = HighFrequencyFit(model=ExactModel(HighFrequencyFit.exact), n_points=500)
    residual, _ = value(problem, eps, eps)
    assert residual.shape == (500,)
    assert float(residual.abs().max()) < 1e-13
    assert problem.mean_squared_loss(torch.tensor([eps], dtype=DT), eps) < 1e-26


def test_p4_residual_detects_a_wrong_eps_and_loss_is_a_mean():
    problem = HighFrequencyFit(model=ExactModel(HighFrequencyFit.exact), n_points=500)
    _, pointwise = value(problem, 0.1, 0.11)
    assert float(pointwise.abs().max()) > 0.5
    offset = HighFrequencyFit(model=ExactModel(HighFrequencyFit.exact, offset=0.1), n_points=500)
    assert offset.loss(torch.tensor([0.1], dtype=DT), 0.1) == pytest.approx(0.01, rel=1e-12)


@pytest.mark.parametrize("eps", [0.1, 0.02])
def test_p4_l2re_of_perturbed_fits(eps):
    theta = torch.tensor([eps], dtype=DT)
    scaled = HighFrequencyFit(model=ExactModel(HighFrequencyFit.exact, scale=1.01), n_points=10)
    assert scaled.l2re(theta, eps) == pytest.approx(0.01, rel=1e-9)
    # an offset delta against a sine of mean square 1/2: L2RE = delta sqrt(2)
    shifted = HighFrequencyFit(model=ExactModel(HighFrequencyFit.exact, offset=1e-3), n_points=10)
    assert shifted.l2re(theta, eps) == pytest.approx(1e-3 * math.sqrt(2.0), rel=1e-3)


@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_u_and_laplacian_takes_the_taylor_path_or_falls_back(activation):
    """Both routes of ``NetworkProblem.u_and_laplacian`` give the nested-autodiff Laplacian (tanh: Taylor mode;
    gelu: no closed-form derivatives, so ``pde.calculus.laplacian``)."""
    problem = Helmholtz(3, MLP([3, 6, 6, 1], activation=activation), eps_min=0.5, n_points=10, n_boundary=4)
    theta = problem.model.init(seed=1)
    for x in problem.points[:4]:
        u, lap = problem.u_and_laplacian(theta, x)
        torch.testing.assert_close(u, problem.u(theta, x))
        torch.testing.assert_close(lap, laplacian(lambda y: problem.u(theta, y))(x), rtol=1e-12, atol=1e-12)
