"""Spectral diagnostics: kernel spectrum and summaries against numpy, truncated entropy on
spectra with known answers, Lanczos Hessian extremes against a dense Hessian."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy
from torch.func import hessian

import continuation
from continuation import (
    effective_cutoff_number,
    hessian_extremes,
    kernel_spectrum,
    kernel_summary,
    negative_eigenvalue_count,
    summarize_spectrum,
    truncated_entropy,
)
from models import MLP

shapes = st.tuples(st.integers(1, 12), st.integers(1, 12))
seeds = st.integers(0, 2**31 - 1)


def linear_residual(a: np.ndarray, b: np.ndarray):
    """``A theta - b``, whose Jacobian is ``A`` everywhere."""
    a_t, b_t = torch.from_numpy(a), torch.from_numpy(b)
    return lambda theta, eps: a_t @ theta - b_t


def spread_matrix(rng, m: int, p: int, decades: float) -> np.ndarray:
    """A random ``m x p`` matrix with singular values ``logspace(0, -decades)``."""
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((p, p)))
    n = min(m, p)
    s = np.logspace(0, -decades, n) if n > 1 else np.ones(1)
    return (u[:, :n] * s) @ v[:, :n].T


# --------------------------------------------------------------------------- kernel spectrum


@given(shape=shapes, seed=seeds, method=st.sampled_from(["svd", "gram"]))
def test_kernel_spectrum_matches_numpy_eigvalsh_of_the_smaller_gram(shape, seed, method):
    rng = np.random.default_rng(seed)
    m, p = shape
    a = rng.standard_normal((m, p))
    b = rng.standard_normal(m)
    gram = a @ a.T if m <= p else a.T @ a
    expected = np.linalg.eigvalsh(gram)
    got = kernel_spectrum(linear_residual(a, b), torch.zeros(p, dtype=torch.float64), 0.3, method=method)
    assert got.shape == (min(m, p),)
    assert bool((got[1:] >= got[:-1]).all())  # ascending
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-12 * max(expected.max(), 1.0))


@given(shape=shapes, seed=seeds, threshold=st.sampled_from([3e-11, 3e-7, 3e-3]))
def test_kernel_summary_matches_numpy_cond_and_matrix_rank(shape, seed, threshold):
    rng = np.random.default_rng(seed)
    m, p = shape
    a = spread_matrix(rng, m, p, decades=5)  # kernel eigenvalues down to 1e-10
    summary = kernel_summary(linear_residual(a, np.zeros(m)), torch.zeros(p, dtype=torch.float64), 0.0,
                             threshold=threshold)
    s = np.linalg.svd(a, compute_uv=False)
    assert summary.size == min(m, p)
    assert summary.threshold == threshold
    assert math.isclose(summary.lambda_max, s.max() ** 2, rel_tol=1e-10)
    assert math.isclose(summary.lambda_min, s.min() ** 2, rel_tol=1e-8)
    assert math.isclose(summary.condition, np.linalg.cond(a) ** 2, rel_tol=1e-8)
    # lambda_i > t lambda_max  <=>  s_i > sqrt(t) s_max
    assert summary.effective_rank == np.linalg.matrix_rank(a, tol=math.sqrt(threshold) * s.max())


def test_summary_of_a_singular_spectrum_has_infinite_condition():
    summary = summarize_spectrum(torch.tensor([0.0, 1e-30, 2.0], dtype=torch.float64))
    assert summary.condition == math.inf
    assert (summary.lambda_min, summary.lambda_max, summary.effective_rank) == (0.0, 2.0, 1)
    with pytest.raises(AttributeError):
        summary.lambda_min = 1.0  # frozen


def test_kernel_spectrum_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        kernel_spectrum(lambda t, e: t, torch.ones(2, dtype=torch.float64), 0.0, method="qr")
    with pytest.raises(ValueError, match="eigenvalues"):
        summarize_spectrum(torch.tensor([1.0, math.nan]))
    with pytest.raises(ValueError, match="threshold"):
        summarize_spectrum(torch.tensor([1.0]), threshold=-1.0)


def test_kernel_summary_as_a_trace_diagnostic():
    result = continuation.trace(lambda theta, eps: theta**2 - eps, torch.tensor([0.9, 1.1], dtype=torch.float64),
                                [1.0, 0.25], diagnostics={"kernel": kernel_summary})
    assert result.success
    for row in result.diagnostics:  # K = diag(4 theta^2) = 4 eps at the solution
        assert math.isclose(row["kernel"].lambda_min, 4 * row["eps"], rel_tol=1e-3)
        assert math.isclose(row["kernel"].condition, 1.0, rel_tol=1e-3)


# --------------------------------------------------------------------------- truncated entropy


@given(n=st.integers(1, 200), scale=st.floats(1e-8, 1e8))
def test_uniform_spectrum_has_entropy_log_n(n, scale):
    s = torch.full((n,), scale, dtype=torch.float64)
    assert effective_cutoff_number(s, 1e-12) == n
    assert math.isclose(truncated_entropy(s, 1e-12), math.log(n), rel_tol=1e-12, abs_tol=1e-12)
    if n > 1:
        assert math.isclose(truncated_entropy(s, 1e-12, normalized=True), 1.0, rel_tol=1e-12)


@given(n=st.integers(1, 200), seed=seeds)
def test_one_dominant_value_has_entropy_near_zero(n, seed):
    rng = np.random.default_rng(seed)
    s = torch.from_numpy(np.concatenate([[1.0], rng.uniform(0, 1e-10, n)]))
    assert 0.0 <= truncated_entropy(s, 1e-14) < 1e-6


@given(seed=seeds, n=st.integers(2, 60), cutoff=st.sampled_from([1e-12, 1e-8, 1e-4]))
def test_entropy_matches_scipy_on_the_kept_values_and_ignores_the_cut_ones(seed, n, cutoff):
    rng = np.random.default_rng(seed)
    s = 10.0 ** rng.uniform(-14, 0, n)
    s[0] = 1.0
    kept = s[s > cutoff * s.max()]
    expected = scipy_entropy(kept)  # scipy normalises by the sum of what it is given
    got = truncated_entropy(torch.from_numpy(rng.permutation(s)), cutoff)
    assert effective_cutoff_number(torch.from_numpy(s), cutoff) == kept.size
    assert math.isclose(got, expected, rel_tol=1e-10, abs_tol=1e-12)
    # values below the cut-off have no influence, whatever they are
    below = torch.from_numpy(np.concatenate([s, rng.uniform(0, cutoff, 5) * 0.5]))
    assert math.isclose(truncated_entropy(below, cutoff), got, rel_tol=1e-12, abs_tol=1e-15)
    normalized = truncated_entropy(torch.from_numpy(s), cutoff, normalized=True)
    assert 0.0 <= normalized <= 1.0 + 1e-12


@given(shape=shapes, seed=seeds, cutoff=st.sampled_from([3e-9, 3e-5, 3e-2]))
def test_effective_cutoff_number_is_numpy_matrix_rank_and_pinv_truncation(shape, seed, cutoff):
    rng = np.random.default_rng(seed)
    a = spread_matrix(rng, *shape, decades=10)
    s = torch.linalg.svdvals(torch.from_numpy(a))
    assert effective_cutoff_number(s, cutoff) == np.linalg.matrix_rank(a, tol=cutoff * s.max().item())


def test_entropy_edge_cases_and_errors():
    zero = torch.zeros(4, dtype=torch.float64)
    assert effective_cutoff_number(zero, 1e-12) == 0 and truncated_entropy(zero, 1e-12) == 0.0
    assert truncated_entropy(torch.tensor([3.0]), 0.0, normalized=True) == 0.0
    s = torch.tensor([4.0, 2.0, 1.0], dtype=torch.float64)
    assert effective_cutoff_number(s, 1.5, relative=False) == 2  # absolute cut-off
    expected = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))  # p = (4, 2) / 6
    assert math.isclose(truncated_entropy(s, 1.5, relative=False), expected, rel_tol=1e-12)
    with pytest.raises(ValueError, match=">= 0"):
        truncated_entropy(torch.tensor([1.0, -1.0]), 1e-12)
    with pytest.raises(ValueError, match="cutoff"):
        effective_cutoff_number(s, math.inf)


# --------------------------------------------------------------------------- Hessian extremes

NET = MLP([1, 8, 8, 1])
X = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64)[:, None]


def sine_fit(theta, eps):
    """An MLP 1-8-8-1 fit to sin(3x / eps) at six points: an indefinite Hessian away from the fit."""
    return NET.apply(theta, X)[:, 0] - torch.sin(3.0 * X[:, 0] / eps)


def dense_eigenvalues(theta, eps):
    eps = torch.tensor(eps, dtype=torch.float64)
    return torch.linalg.eigvalsh(hessian(lambda t: 0.5 * (sine_fit(t, eps) ** 2).sum())(theta))


@pytest.mark.parametrize("seed", [0, 1])
def test_lanczos_extremes_match_the_dense_hessian(seed):
    theta = NET.init(seed=seed)
    exact = dense_eigenvalues(theta, 1.0)
    radius = float(exact.abs().max())
    negative = int((exact < -1e-10 * radius).sum())
    assert negative > 0  # the test needs an indefinite Hessian

    full = hessian_extremes(sine_fit, theta, 1.0, k=theta.numel())
    assert math.isclose(full.smallest, float(exact[0]), abs_tol=1e-9 * radius)
    assert math.isclose(full.largest, float(exact[-1]), abs_tol=1e-9 * radius)
    assert full.negative_count == negative  # the Krylov space holds every distinct eigenvalue
    assert negative_eigenvalue_count(sine_fit, theta, 1.0, k=theta.numel()) == negative

    short = hessian_extremes(sine_fit, theta, 1.0, k=20, seed=3)
    assert short.iterations == 20 and short.ritz_values.shape == (20,)
    # Ritz values lie inside the spectrum (interlacing) and within their residual of an eigenvalue
    assert float(exact[0]) - 1e-10 * radius <= short.smallest <= short.largest <= float(exact[-1]) + 1e-10 * radius
    assert float((exact - short.smallest).abs().min()) <= short.smallest_residual + 1e-10 * radius
    assert float((exact - short.largest).abs().min()) <= short.largest_residual + 1e-10 * radius
    assert math.isclose(short.largest, float(exact[-1]), rel_tol=1e-8)  # well separated: converged
    assert short.negative_count <= negative


def test_lanczos_at_a_zero_residual_point_sees_a_gauss_newton_hessian():
    theta = NET.init(seed=0)
    target = NET.apply(theta, X)[:, 0].detach()
    fitted = hessian_extremes(lambda t, eps: NET.apply(t, X)[:, 0] - target, theta, 0.0, k=theta.numel())
    jacobian = torch.func.jacrev(lambda t: NET.apply(t, X)[:, 0])(theta)
    top = float(torch.linalg.eigvalsh(jacobian @ jacobian.T)[-1])
    assert math.isclose(fitted.largest, top, rel_tol=1e-9)  # Hessian = J^T J exactly
    assert fitted.negative_count == 0 and fitted.smallest > -1e-10 * top


def test_hessian_extremes_rejects_bad_input():
    theta = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="k must"):
        hessian_extremes(lambda t, e: t, theta, 0.0, k=0)
    with pytest.raises(ValueError, match="start"):
        hessian_extremes(lambda t, e: t, theta, 0.0, start=torch.zeros(3))
    with pytest.raises(ValueError, match="theta"):
        hessian_extremes(lambda t, e: t, torch.zeros(2, 2), 0.0)
