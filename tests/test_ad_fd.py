"""AD against FD: the truncated-SVD training error, the random feature model and the 1D Poisson residuals."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.diagnostics_adfd import run_network, run_rfm
from continuation import truncated_svd_residuals
from models import RandomFeatures
from pde import Poisson1D

ZERO = torch.tensor(0.0, dtype=torch.float64)


pytestmark = pytest.mark.usefixtures("one_thread")


# --------------------------------------------------------------------------- truncated SVD


@given(shape=st.tuples(st.integers(1, 10), st.integers(1, 10)), seed=st.integers(0, 2**31 - 1))
def test_truncated_svd_residuals_match_numpy_truncated_solves(shape, seed):
    rng = np.random.default_rng(seed)
    m, p = shape
    a = rng.standard_normal((m, p)) * np.logspace(0, -6, p)  # spread singular values
    f = rng.standard_normal(m)
    got = truncated_svd_residuals(torch.from_numpy(a), torch.from_numpy(f)).numpy()
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    expected = []
    for k in range(min(m, p) + 1):
        coefficients = vh[:k].T @ ((u[:, :k].T @ f) / s[:k])
        expected.append(np.linalg.norm(a @ coefficients - f) / np.linalg.norm(f))
    assert got.shape == (min(m, p) + 1,)
    # the explicit solve of the reference carries a rounding error of about u * s_1 / s_k
    rounding = 1e-13 * np.concatenate([[1.0], s[0] / s])
    assert np.all(np.abs(got - np.array(expected)) <= 1e-9 * np.array(expected) + rounding)
    assert np.all(np.diff(got) <= 1e-15)  # non-increasing
    assert got[0] == pytest.approx(1.0, rel=1e-12)


def test_truncated_svd_residuals_known_answer_and_tiny_tails():
    # A = diag(4, 3, 2, 1e-9), f = (1, 1, 1, 1) / 2: r_k = sqrt((4 - k) / 4)
    a = torch.diag(torch.tensor([4.0, 3.0, 2.0, 1e-9], dtype=torch.float64))
    got = truncated_svd_residuals(a, torch.full((4,), 0.5, dtype=torch.float64))
    expected = torch.tensor([1.0, math.sqrt(0.75), math.sqrt(0.5), 0.5, 0.0], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=1e-14, atol=0.0)
    # a residual of 1e-14 relative is resolved (no cancellation of ||f||^2 - ||U_k^T f||^2)
    f = torch.tensor([1.0, 1e-14], dtype=torch.float64)
    tall = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    assert float(truncated_svd_residuals(tall, f)[1]) == pytest.approx(1e-14, rel=1e-10)


def test_truncated_svd_residuals_rejects_bad_input():
    a = torch.eye(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="rhs must be a vector of length 3"):
        truncated_svd_residuals(a, torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="rhs must be finite and nonzero"):
        truncated_svd_residuals(a, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="matrix must be a non-empty 2-D tensor"):
        truncated_svd_residuals(torch.ones(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))


# --------------------------------------------------------------------------- models and problem


def test_random_features_are_linear_in_theta_and_uniform_in_range():
    model = RandomFeatures(1, 50, "tanh", scale=3.0, seed=1)
    x = torch.linspace(-1, 1, 7, dtype=torch.float64)[:, None]
    a, b = torch.randn(50, dtype=torch.float64), torch.randn(50, dtype=torch.float64)
    torch.testing.assert_close(model.apply(2 * a - b, x), 2 * model.apply(a, x) - model.apply(b, x))
    features = torch.tanh(x @ model.inner_weights.T + model.inner_biases)
    torch.testing.assert_close(model.apply(a, x), features @ a[:, None])
    assert float(model.inner_weights.abs().max()) <= 3.0 and float(model.inner_biases.abs().max()) <= 3.0
    assert float(model.inner_weights.abs().max()) > 1.5  # the draw spreads over the range


@pytest.mark.parametrize(
    "kwargs, match",
    [({"features": 0}, "features must be a positive integer"), ({"scale": -1.0}, "scale must be a positive"),
     ({"activation": "relu"}, "activation must be one of")],
)
def test_random_features_reject_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomFeatures(**{"d_in": 1, "features": 4, **kwargs})


class SineModel:
    """``u = theta_0 sin(pi x)``: the exact solution when ``theta_0 = 1``."""

    dtype = torch.float64
    num_weights = 1

    def apply(self, theta, x):
        return theta[0] * torch.sin(math.pi * x)


def test_ad_residual_vanishes_at_the_exact_solution():
    problem = Poisson1D(SineModel(), n_points=30, derivative="ad")
    residual = problem.residual_map(torch.ones(1, dtype=torch.float64), ZERO)
    assert float(residual.abs().max()) < 1e-12
    assert problem.l2re(torch.ones(1, dtype=torch.float64), 0.0) == 0.0


def test_fd_second_derivative_is_second_order_by_fitted_slope():
    steps, errors = [], []
    for n in (10, 20, 40, 80, 160):
        problem = Poisson1D(SineModel(), n_points=n, derivative="fd")
        interior = problem.interior(torch.ones(1, dtype=torch.float64), ZERO) / problem.interior.scale
        steps.append(problem.step)
        errors.append(float(interior.abs().max()))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.05)
    # the leading term: max |u'''' h^2 / 12| = pi^4 h^2 / 12
    assert errors[-1] == pytest.approx(math.pi**4 * steps[-1] ** 2 / 12, rel=0.02)


def test_fd_and_ad_feature_matrices_agree_to_second_order():
    model = RandomFeatures(1, 20, "sin", scale=5.0, seed=3)
    gaps, steps = [], []
    for n in (20, 40, 80, 160):
        ad = Poisson1D(model, n, "ad").residual_map.jacobian(model.init(), ZERO)
        fd_problem = Poisson1D(model, n, "fd")
        fd = fd_problem.residual_map.jacobian(model.init(), ZERO)
        torch.testing.assert_close(ad[-2:], fd[-2:])  # the boundary rows are the same
        gaps.append(float(torch.linalg.matrix_norm(ad - fd) / torch.linalg.matrix_norm(ad)))
        steps.append(fd_problem.step)
    assert np.polyfit(np.log(steps), np.log(gaps), 1)[0] == pytest.approx(2.0, abs=0.05)


def test_poisson_rejects_bad_arguments():
    with pytest.raises(ValueError, match="derivative must be one of"):
        Poisson1D(SineModel(), 10, derivative="cd")
    with pytest.raises(ValueError, match="step applies to derivative='fd' only"):
        Poisson1D(SineModel(), 10, derivative="ad", step=0.1)
    with pytest.raises(ValueError, match="n_points must be a positive integer"):
        Poisson1D(SineModel(), 0)


# --------------------------------------------------------------------------- the benchmark pieces


def test_random_feature_solve_reaches_the_fd_discretisation_error():
    """AD: the truncated solve reproduces sin(pi x); FD: the error of the FD scheme, (pi h / 2)^2 / sin^2 - 1."""
    record = run_rfm("sin", 40, 10.0, "test")
    h = record["fd"]["step"]
    fd_error = (math.pi * h / 2) ** 2 / math.sin(math.pi * h / 2) ** 2 - 1
    assert record["ad"]["training_error_at_cutoff"] < 1e-9
    assert record["ad"]["l2re_at_cutoff"] < 1e-9
    assert record["fd"]["l2re_at_cutoff"] == pytest.approx(fd_error, rel=0.01)
    for derivative in ("ad", "fd"):
        entry = record[derivative]
        assert len(entry["training_error_by_truncation"]) == 41
        assert 0 < entry["effective_cutoff_number"] <= 40


def test_network_run_records_curves_and_kernels():
    record = run_network("fd", 6, "test", iterations=4, width=5)
    assert record["weights"] == 16 and record["curves"]["iteration"] == [0, 4]
    assert len(record["kernel_init"]["eigenvalues"]) == 8  # min(6 + 2 rows, 16 weights)
    assert record["curves"]["loss"][-1] < record["curves"]["loss"][0]  # gradient descent lowers the loss
