"""Collocation points that follow the path: the engine's resample hook and RAD (pde.AdaptivePoints)."""

import pytest
import torch

import continuation
from continuation import Status
from models import MLP
from pde import AdaptivePoints, AllenCahn1D, ScheduledPoints, rad_density, sampling

DTYPE = torch.float64


class MovingFit(continuation.ResidualMap):
    """``theta_0 + theta_1 x = eps x^2`` at three points, moved once to other three when eps < 0.6."""

    def __init__(self, fail: bool = False):
        self.points, self.fail, self.moves = torch.tensor([0.0, 0.5, 1.0], dtype=DTYPE), fail, 0

    def __call__(self, theta, eps):
        return theta[0] + theta[1] * self.points - eps * self.points**2

    def resample(self, theta, eps):
        if float(eps) >= 0.6 or self.moves:
            return False
        if self.fail:
            raise RuntimeError("no candidates")
        self.points, self.moves = torch.tensor([0.0, 2.0, 4.0], dtype=DTYPE), 1
        return True


def test_a_resample_is_followed_by_a_correction_on_the_new_points_at_the_same_eps():
    problem = MovingFit()
    result = continuation.trace(problem, torch.zeros(2, dtype=DTYPE), [1.0, 0.5, 0.2], adaptive=False,
                                options=continuation.Options(tol=1e-9))
    assert problem.moves == 1
    moved = [i for i, s in enumerate(result.steps) if "points resampled" in s.reason]
    assert len(moved) == 1
    row = result.steps[moved[0]]
    assert row.accepted and row.deps == 0.0 and row.eps == 0.5
    assert result.eps == [1.0, 0.5, 0.5, 0.2]  # the point before and after the move, both kept
    # the least-squares line through (0, 0), (2, 4 eps), (4, 16 eps) is -4/3 eps + 4 eps x: on the new points
    assert torch.allclose(result.thetas[2], torch.tensor([-2 / 3, 2.0], dtype=DTYPE), atol=1e-6)
    assert torch.allclose(result.theta, torch.tensor([-0.8 / 3, 0.8], dtype=DTYPE), atol=1e-6)


@pytest.mark.parametrize("predictor", ["euler", "secant"])
def test_the_step_after_a_resample_is_not_cut_by_the_move(predictor):
    # eps x^2 fitted by a line: the velocity changes only where the points move, never along the path, so
    # a Lipschitz estimate across the move (same eps, other points) would be a spurious cut, and a secant
    # across it a division by zero
    problem = MovingFit()
    result = continuation.trace(problem, torch.zeros(2, dtype=DTYPE), [1.0, 0.01], predictor=predictor,
                                options=continuation.Options(tol=1e-9, ds_max=1.0, lipschitz_c=0.1))
    moved = next(i for i, s in enumerate(result.steps) if "points resampled" in s.reason)
    before, after = result.steps[moved - 1], result.steps[moved + 1]
    assert after.accepted and abs(after.deps) >= abs(before.deps)
    assert result.eps[-1] == 0.01 and bool(torch.isfinite(result.theta).all())


def test_a_resample_at_the_last_point_is_corrected_with_the_final_budget():
    # the move happens at eps = 0.5, the end of the path: the correction there may take final_iterations
    problem = MovingFit()
    options = continuation.Options(tol=1e-9, corrector_iterations=1, final_iterations=7)
    result = continuation.trace(problem, torch.zeros(2, dtype=DTYPE), [1.0, 0.5], adaptive=False, options=options)
    last = result.steps[-1]
    assert "points resampled" in last.reason and last.eps == 0.5
    assert last.iterations > 1
    assert torch.allclose(result.theta, torch.tensor([-2 / 3, 2.0], dtype=DTYPE), atol=1e-6)


def test_a_failing_resample_ends_the_trace_with_its_status_and_the_path_kept():
    result = continuation.trace(MovingFit(fail=True), torch.zeros(2, dtype=DTYPE), [1.0, 0.5, 0.2], adaptive=False)
    assert result.status is Status.RESAMPLING_FAILED and "no candidates" in result.message
    assert result.eps == [1.0, 0.5] and len(result.thetas) == 2


def test_rad_draws_where_the_residual_is_large():
    # residual 10 on a tenth of the candidates, 0 elsewhere: the density gives that tenth
    # (10 / 1 + 1) / (10 / 1 + 1 + 9 * 1 / 10 ... ) -> exactly 11 / (11 + 9) of the mass
    sizes = torch.zeros(1000, dtype=DTYPE)
    sizes[:100] = 10.0
    weights = rad_density(sizes)
    assert float(weights[:100].sum() / weights.sum()) == pytest.approx(1100 / 2000)
    chosen = torch.multinomial(weights, 100, replacement=False, generator=torch.Generator().manual_seed(0))
    assert 0.35 < float((chosen < 100).double().mean()) < 0.75  # a draw without replacement, near 0.55


def test_adaptive_points_follow_an_allen_cahn_trace():
    problem = AllenCahn1D(MLP([1, 12, 12, 1]), eps_min=0.1, n_points=40)
    grid = problem.points.clone()
    # P1's interface is pinned only by the symmetry x -> -x: the points keep it (random points let it slide)
    residual = AdaptivePoints(problem, every=0.5, points=lambda eps: 40 if eps > 0.2 else 60, symmetry=lambda x: -x)
    result = continuation.trace(residual, problem.model.init(seed=0), [0.8, 0.1],
                                options=continuation.Options(initial_iterations=100, corrector_iterations=8))
    assert residual.draws >= 2  # at eps <= 0.4 and <= 0.2
    assert problem.points.shape == (60, 1) and not torch.equal(problem.points[:40], grid)
    moved = [s for s in result.steps if "points resampled" in s.reason]
    assert len(moved) == residual.draws and all(s.accepted for s in moved)
    assert result.eps[-1] == 0.1 and problem.l2re(result.theta, 0.1) < 0.05


@pytest.mark.parametrize("kwargs, match", [({"every": 1.0}, "every"), ({"points": 0}, "points"),
                                           ({"candidates": 0}, "candidates"), ({"k": -1.0}, "k")])
def test_adaptive_points_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptivePoints(AllenCahn1D(MLP([1, 4, 1]), n_points=8), **kwargs)


def test_a_symmetry_makes_every_draw_invariant_under_it():
    problem = AllenCahn1D(MLP([1, 8, 1]), n_points=20)
    residual = AdaptivePoints(problem, every=0.5, points=lambda eps: 31, symmetry=lambda x: -x)
    theta = problem.model.init(seed=0)
    residual.resample(theta, torch.tensor(0.5, dtype=DTYPE))
    assert residual.resample(theta, torch.tensor(0.2, dtype=DTYPE))
    x = problem.points[:, 0]
    assert x.shape == (30,)  # 31 // 2 drawn and their images
    assert torch.equal(torch.sort(x).values, torch.sort(-x).values)  # the set is its own mirror image
    assert bool((x[:15] > -1).all() and (x[:15] < 1).all())


def test_a_symmetry_of_the_wrong_shape_is_an_error():
    problem = AllenCahn1D(MLP([1, 8, 1]), n_points=20)
    residual = AdaptivePoints(problem, every=0.5, symmetry=lambda x: x[:1])
    theta = problem.model.init(seed=0)
    residual.resample(theta, torch.tensor(0.5, dtype=DTYPE))
    with pytest.raises(ValueError, match="symmetry must map points"):
        residual.resample(theta, torch.tensor(0.2, dtype=DTYPE))


def graded(eps):
    """A Shishkin grid of 60 points around P1's interface."""
    return sampling.layer_grid(-1.0, 1.0, 60, center=0.0, width=sampling.shishkin_width(eps / 2**0.5, 60, cap=0.5))


def test_scheduled_points_follow_their_layout_along_an_allen_cahn_trace(one_thread):
    # one thread: P1's interface is pinned only weakly, so the order of the floating-point sums moves it
    # (L2RE 0.030 on one thread, 0.057 on two, from the same weights and points)
    problem = AllenCahn1D(MLP([1, 12, 12, 1]), n_points=60)
    problem.move_points(graded(0.8))
    residual = ScheduledPoints(problem, graded, every=0.5)
    result = continuation.trace(residual, problem.model.init(seed=0), [0.8, 0.1],
                                options=continuation.Options(initial_iterations=100, corrector_iterations=8))
    moved = [s for s in result.steps if "points resampled" in s.reason]
    assert residual.draws == len(moved) >= 2 and all(s.accepted for s in moved)
    assert torch.equal(problem.points, graded(moved[-1].eps))  # the layout at the eps of the last placement
    assert result.eps[-1] == 0.1 and problem.l2re(result.theta, 0.1) < 0.05


def test_a_layout_of_the_wrong_shape_ends_the_trace_as_a_failed_resampling():
    problem = AllenCahn1D(MLP([1, 8, 1]), n_points=20)
    residual = ScheduledPoints(problem, lambda eps: torch.zeros(5, 2, dtype=DTYPE), every=0.5)
    result = continuation.trace(residual, problem.model.init(seed=0), [0.8, 0.1],
                                options=continuation.Options(initial_iterations=20))
    assert result.status is Status.RESAMPLING_FAILED and "expected (N, 1)" in result.message
