"""The truncated pseudo-inverse against numpy, the damped solve against a dense solve."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from continuation import DampedLeastSquares, pinv_solve

shapes = st.tuples(st.integers(1, 12), st.integers(1, 12))


@given(shape=shapes, rank=st.integers(1, 12), seed=st.integers(0, 2**31 - 1),
       rcond=st.sampled_from([3e-12, 3e-8, 3e-4, 3e-2]),  # no ties with the spectrum
       method=st.sampled_from(["auto", "gelsd", "svd"]))
def test_pinv_solve_matches_numpy_pinv(shape, rank, seed, rcond, method):
    rng = np.random.default_rng(seed)
    m, p = shape
    rank = min(rank, m, p)
    # singular values spread over 10 decades so that rcond truncates some
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((p, p)))
    s = np.zeros(min(m, p))
    s[:rank] = np.logspace(0, -10, rank) if rank > 1 else 1.0
    a = (u[:, : len(s)] * s) @ v[:, : len(s)].T
    b = rng.standard_normal(m)
    expected = np.linalg.pinv(a, rcond=rcond) @ b
    got = pinv_solve(torch.from_numpy(a), torch.from_numpy(b), rcond, method).numpy()
    # perturbation bound of a truncated least-squares solve: relative error ~ kappa * u, kappa the
    # condition number of the kept part (1e10 here at most: two pinvs then agree to ~1e-6 only)
    kept = s[s > rcond * s[0]]
    kappa = kept[0] / kept[-1]
    scale = np.linalg.norm(expected) + 1.0
    assert np.linalg.norm(got - expected) <= 100 * kappa * np.finfo(float).eps * scale


@given(shape=shapes, seed=st.integers(0, 2**31 - 1), mu=st.floats(1e-6, 1e3))
def test_damped_step_matches_dense_normal_equations(shape, seed, mu):
    rng = np.random.default_rng(seed)
    j = rng.standard_normal(shape)
    r = rng.standard_normal(shape[0])
    expected = -np.linalg.solve(j.T @ j + mu * np.eye(shape[1]), j.T @ r)
    got = DampedLeastSquares(torch.from_numpy(j), torch.from_numpy(r)).step(mu).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


def test_pinv_solve_refuses_non_finite_matrices_and_maps_zero_to_zero():
    a = torch.ones(3, 2, dtype=torch.float64)
    a[1, 0] = float("nan")
    with pytest.raises(torch.linalg.LinAlgError, match="non-finite"):
        pinv_solve(a, torch.ones(3, dtype=torch.float64), 1e-4)
    zero = pinv_solve(torch.zeros(3, 2, dtype=torch.float64), torch.ones(3, dtype=torch.float64), 1e-4)
    assert torch.equal(zero, torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="method must be"):
        pinv_solve(torch.eye(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), 1e-4, "qr")
