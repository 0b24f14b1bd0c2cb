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


# ---------------------------------------------------------------- matrix-free solves


@given(m=st.integers(1, 30), p=st.integers(1, 30), seed=st.integers(0, 2**31 - 1),
       mu=st.sampled_from([1e-6, 1e-2, 1.0, 1e2]), rank=st.integers(1, 40))
def test_matrix_free_damped_step_matches_the_dense_one(m, p, seed, mu, rank):
    """Conjugate gradients with the Nystrom preconditioner solve the damped normal equations, whatever the sketch."""
    from continuation.linalg import MatrixFreeLeastSquares

    rng = np.random.default_rng(seed)
    J = torch.from_numpy(rng.standard_normal((m, p)) @ np.diag(np.logspace(0, -3, p)))
    r = torch.from_numpy(rng.standard_normal(m))
    free = MatrixFreeLeastSquares(lambda v: J @ v, lambda w: J.T @ w, r, p, rank=rank, tol=1e-13, maxiter=200)
    dense = DampedLeastSquares(J, r)
    scale = float(torch.trace(J.T @ J)) / min(m, p)
    assert free.scale == pytest.approx(dense.scale, rel=1e-8) or rank < p  # exact once the sketch spans
    assert dense.scale == pytest.approx(scale, rel=1e-12)
    expected = dense.step(mu)
    got = free.step(mu)
    torch.testing.assert_close(got, expected, rtol=1e-7, atol=1e-9 * float(expected.norm()) + 1e-14)


def test_the_nystrom_preconditioner_cuts_conjugate_gradient_iterations():
    """A spectrum that decays fast, then flattens (as PINN Jacobians do): a sketch that spans the decay
    leaves conjugate gradients a well-conditioned rest."""
    from continuation.linalg import MatrixFreeLeastSquares

    rng = np.random.default_rng(0)
    p = 200
    spectrum = np.concatenate([np.logspace(0, -4, 40), np.full(p - 40, 1e-4) * np.linspace(1, 2, p - 40)])
    u, _ = np.linalg.qr(rng.standard_normal((300, p)))
    v, _ = np.linalg.qr(rng.standard_normal((p, p)))
    J = torch.from_numpy(u @ np.diag(spectrum) @ v.T)
    r = torch.from_numpy(rng.standard_normal(300))
    iterations = {}
    for rank in (1, 60):
        free = MatrixFreeLeastSquares(lambda v: J @ v, lambda w: J.T @ w, r, p, rank=rank, tol=1e-10, maxiter=2000)
        free.step(1e-6 * free.scale)
        iterations[rank] = free.iterations
    assert iterations[60] < iterations[1] / 3, iterations


def test_matrix_free_levenberg_marquardt_and_euler_agree_with_dense():
    from continuation import EulerPredictor, FunctionResidual, LevenbergMarquardt

    rng = np.random.default_rng(1)
    a, y = torch.from_numpy(rng.standard_normal((40, 10))), torch.from_numpy(rng.standard_normal(40))
    H = FunctionResidual(lambda t, e: torch.tanh(a @ t) - e * y)
    theta, eps = torch.zeros(10, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    dense, free = (LevenbergMarquardt(linear_solver=s).correct(H, theta, eps, iterations=30, tol=1e-12)
                   for s in ("dense", "cg"))
    assert free.residual_norm == pytest.approx(dense.residual_norm, rel=1e-10) and free.linear_iterations > 0
    torch.testing.assert_close(free.theta, dense.theta, rtol=1e-8, atol=1e-10)
    # a well-conditioned J: Tikhonov with (rcond s_max)^2 and the truncated SVD give the same velocity
    v_dense, v_free = (EulerPredictor(1e-8, s).velocity(H, dense.theta, eps, None) for s in ("dense", "cg"))
    torch.testing.assert_close(v_free, v_dense, rtol=1e-6, atol=1e-10)


def _decaying_operator(rng: np.random.Generator, rows: int = 300, size: int = 200) -> torch.Tensor:
    """A Jacobian whose spectrum decays over 40 values, then flattens (as a network's does)."""
    spectrum = np.concatenate([np.logspace(0, -4, 40), np.full(size - 40, 1e-4) * np.linspace(1, 2, size - 40)])
    u, _ = np.linalg.qr(rng.standard_normal((rows, size)))
    v, _ = np.linalg.qr(rng.standard_normal((size, size)))
    return torch.from_numpy(u @ np.diag(spectrum) @ v.T)


def test_the_sketch_rank_doubles_while_cg_outnumbers_it_then_stays():
    """On a fixed operator the rank doubles from 5 while the first solve after a sketch takes more CG iterations
    than the rank; then it stays, and the solves take a fraction of the first ones' iterations."""
    from continuation.linalg import MatrixFreeLeastSquares, SketchRank

    rng = np.random.default_rng(0)
    J, r = _decaying_operator(rng), torch.from_numpy(rng.standard_normal(300))
    ranks, counts, seen = SketchRank(sketch_rank=5, sketch_rank_max=320), [], []
    for _ in range(8):
        seen.append(ranks.rank)
        free = MatrixFreeLeastSquares(lambda v: J @ v, lambda w: J.T @ w, r, 200, ranks, tol=1e-10, maxiter=2000)
        free.step(1e-6 * free.scale)
        counts.append(free.iterations)
        free.step(1e-4 * free.scale)  # a retry with a larger damping: not counted
    assert seen[:3] == [5, 10, 20] and seen[-1] == seen[-3] < 320, seen
    assert counts[-1] <= seen[-1] and counts[-1] < counts[0] / 3, counts


def test_a_sketch_rank_grown_on_a_hard_operator_comes_back_down_on_an_easy_one():
    """A hard stretch of a path (a spectrum that CG needs a large sketch for) raises the rank; on an operator
    whose spectrum a small sketch captures (three directions above a flat rest) it halves, down to
    ``sketch_rank``: the sketch's own eigenvalues predict that half of it does as well."""
    from continuation.linalg import MatrixFreeLeastSquares, SketchRank

    rng = np.random.default_rng(2)
    hard, r = _decaying_operator(rng), torch.from_numpy(rng.standard_normal(300))
    u, _ = np.linalg.qr(rng.standard_normal((300, 200)))
    v, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    easy = torch.from_numpy(u @ np.diag(np.concatenate([[1.0, 0.3, 0.1], np.full(197, 1e-4)])) @ v.T)
    ranks, used, counts = SketchRank(sketch_rank=5, sketch_rank_max=320), [], []
    for J in [hard] * 5 + [easy] * 6:
        used.append(ranks.rank)
        free = MatrixFreeLeastSquares(lambda v: J @ v, lambda w: J.T @ w, r, 200, ranks, tol=1e-10, maxiter=2000)
        free.step(1e-6 * free.scale)
        counts.append(free.iterations)
    peak = max(used[:5])
    assert peak >= 40 and counts[4] <= peak, (used, counts)  # grown until CG took no more than the rank
    easy_ranks = used[5:]
    assert easy_ranks[-1] < peak and min(used) >= 5, used
    assert all(later in (earlier, earlier // 2, 5) for earlier, later in zip(easy_ranks, easy_ranks[1:])), used
    assert easy_ranks[-1] == 5 and counts[-1] <= counts[4], (used, counts)


def test_a_sketch_rank_is_not_grown_past_the_size_or_its_maximum():
    from continuation.linalg import NystromPreconditioner, SketchRank

    A = torch.eye(6, dtype=torch.float64)
    ranks = SketchRank(sketch_rank=4, sketch_rank_max=6)
    ranks.solved(NystromPreconditioner(lambda v: A @ v, 6, 4, like=A), 9, 1e-3)
    assert ranks.rank == 6  # doubled, but to the maximum
    ranks.solved(NystromPreconditioner(lambda v: A @ v, 6, 6, like=A), 9, 1e-3)
    assert ranks.rank == 6
    small = SketchRank(sketch_rank=8, sketch_rank_max=64)
    small.solved(NystromPreconditioner(lambda v: A @ v, 6, 8, like=A), 9, 1e-3)  # capped at the size 6: it spans A
    assert small.rank == 8
    with pytest.raises(ValueError, match="sketch_rank must lie in"):
        SketchRank(sketch_rank=10, sketch_rank_max=5)


def test_a_matrix_free_trace_records_the_solves_of_its_predictor_and_corrector_in_each_step():
    from continuation import EulerPredictor, FunctionResidual, Options, trace

    rng = np.random.default_rng(2)
    a, y = torch.from_numpy(rng.standard_normal((8, 12))), torch.from_numpy(0.3 * rng.standard_normal(8))
    H = FunctionResidual(lambda t, e: torch.tanh(a @ t) - e * y)  # 8 equations, 12 unknowns: solvable
    theta0 = torch.zeros(12, dtype=torch.float64)
    converging = Options(linear_solver="cg", sketch_rank=2, sketch_rank_max=4, cg_tol=1e-10)
    starved = Options(linear_solver="cg", sketch_rank=1, sketch_rank_max=1, cg_tol=1e-10, cg_maxiter=1)
    for options in (converging, starved):
        predictor = EulerPredictor.from_options(options)
        result = trace(H, theta0, [0.2, 1.0], predictor=predictor, options=options)
        steps = result.steps[1:]
        assert result.success and len(steps) > 1
        # every velocity solved (one per accepted point before the last) is in the step that computed it
        assert sum(s.predictor_linear_iterations for s in result.steps) == predictor.linear_iterations > 0
        assert sum(s.predictor_linear_iterations > 0 for s in steps) == len(result.eps) - 1
        corrector = [s.linear_residual for s in result.steps if s.iterations > 0]
        velocity = [s.predictor_linear_residual for s in steps if s.predictor_linear_iterations > 0]
        assert all(s.linear_iterations > 0 for s in result.steps if s.iterations > 0)
        if options is converging:  # a 12-unknown system: CG reaches cg_tol well within cg_maxiter
            assert max(corrector + velocity) <= options.cg_tol
        else:  # one iteration per solve: the records say the solves stopped short
            assert min(velocity) > options.cg_tol and max(corrector) > options.cg_tol


def test_a_matrix_free_trace_resumed_from_its_saved_state_sketches_at_the_rank_it_had_reached(tmp_path):
    """Stopped, saved, loaded and resumed: the same points bit for bit as one trace, the sketch ranks with it."""
    from continuation import Options, Status, TraceResult, trace

    operator = _decaying_operator(np.random.default_rng(4), rows=60, size=40)
    H = lambda t, e: operator @ torch.tanh(t) - e * operator @ torch.ones(40, dtype=torch.float64)  # noqa: E731
    theta0, path = torch.zeros(40, dtype=torch.float64), [0.1, 1.0]
    options = Options(linear_solver="cg", sketch_rank=1, sketch_rank_max=16, tol=1e-8, max_steps=12)
    whole = trace(H, theta0, path, options=options)
    first = trace(H, theta0, path, options=options, callback=lambda record, theta: record.step == 3)
    assert first.status is Status.STOPPED_BY_CALLBACK
    assert first.state.sketch_ranks["corrector"] > 1  # grown on the decaying spectrum: there is a rank to keep
    first.save(tmp_path / "trace.pt")
    saved = TraceResult.load(tmp_path / "trace.pt").state
    assert saved.sketch_ranks == first.state.sketch_ranks
    resumed = trace(H, first.theta, path, options=options, resume=saved)
    assert resumed.status is whole.status and resumed.eps == whole.eps
    assert torch.equal(resumed.thetas, whole.thetas)
    assert resumed.state.sketch_ranks == whole.state.sketch_ranks
    saved.sketch_ranks = {}  # as a state saved before the ranks were kept: it starts again from sketch_rank
    restarted = trace(H, first.theta, path, options=options, resume=saved)
    assert not torch.equal(restarted.thetas, whole.thetas)
