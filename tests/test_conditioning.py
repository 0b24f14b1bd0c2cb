"""The function-space conditioning of a trace's last point, and the ILL_CONDITIONED status."""

import dataclasses
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import continuation
from continuation import Options, Status
from continuation.conditioning import solution_conditioning
from continuation.residual import FunctionResidual

DTYPE = torch.float64


def _weakly_pinned(strength: float):
    """``theta_0 + theta_1 = eps`` firmly, ``theta_0 - theta_1 = 1`` with weight ``strength``."""
    return FunctionResidual(lambda t, e: torch.stack([t[0] + t[1] - e, strength * (t[0] - t[1] - 1.0)]))


def difference(theta):
    return (theta[0] - theta[1]).reshape(1)


@settings(max_examples=25, deadline=None)
@given(st.floats(1e-8, 1.0), st.floats(0.1, 3.0))
def test_condition_number_of_a_weak_equation_is_the_inverse_of_its_weight(strength, eps):
    # J = [[1, 1], [s, -s]]: the difference u = t0 - t1 moves by sqrt(2) along the right singular vector
    # (1, -1)/sqrt(2), whose singular value is sqrt(2) s, so kappa_u = 1 / s exactly
    theta = torch.tensor([0.3, -0.2], dtype=DTYPE)
    found = solution_conditioning(_weakly_pinned(strength), difference, theta, torch.tensor(eps, dtype=DTYPE))
    assert found.condition == pytest.approx(1 / strength, rel=1e-10)
    norm = math.hypot(0.1 - eps, strength * (0.5 - 1.0))
    assert found.residual_norm == pytest.approx(norm, rel=1e-12)
    assert found.bound == pytest.approx(norm / strength / 0.5, rel=1e-10)


def test_a_success_on_a_weakly_pinned_solution_is_ill_conditioned_and_keeps_its_path():
    # started on the wrong difference (0), the corrector meets tol long before the weak equation moves it to 1
    problem, theta0 = _weakly_pinned(1e-7), torch.tensor([0.5, 0.5], dtype=DTYPE)
    result = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference, adaptive=False)
    assert result.status is Status.ILL_CONDITIONED and not result.success
    assert result.eps == [1.0, 0.5] and abs(float(difference(result.theta)) - 1) > 0.9  # wrong, and said so
    assert result.conditioning["condition"] == pytest.approx(1e7, rel=1e-6)
    assert result.conditioning["bound"] > 1 and "pin its solution only weakly" in result.message
    unchecked = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference, adaptive=False,
                                   options=Options(conditioning_tol=None))
    assert unchecked.status is Status.SUCCESS and unchecked.conditioning is None
    assert torch.equal(unchecked.thetas, result.thetas)  # the check changes the verdict, never the path


def test_half_a_per_cent_off_in_a_weak_direction_is_not_a_success_by_default():
    # the difference starts at 1 - 5e-3, where the weak equation (weight 1e-4) leaves a residual of 5e-7 < tol:
    # no corrector moves it, the bound kappa_u ||H|| / ||u|| is 5e-3 (here the error itself), above the
    # default conditioning_tol of 1e-3 and below the 1e-2 it used to be
    problem = _weakly_pinned(1e-4)
    off = 1.0 - 5e-3
    theta0 = torch.tensor([(1.0 + off) / 2, (1.0 - off) / 2], dtype=DTYPE)
    result = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference, adaptive=False)
    assert result.status is Status.ILL_CONDITIONED
    assert result.conditioning["bound"] == pytest.approx(5e-3, rel=1e-2)
    assert abs(float(difference(result.theta)) - 1.0) == pytest.approx(5e-3, rel=1e-2)
    looser = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference, adaptive=False,
                                options=Options(conditioning_tol=1e-2))
    assert looser.status is Status.SUCCESS


def test_a_firmly_pinned_solution_stays_a_success_and_records_its_conditioning():
    problem, theta0 = _weakly_pinned(1.0), torch.tensor([0.5, 0.5], dtype=DTYPE)
    result = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference)
    assert result.status is Status.SUCCESS
    assert float(difference(result.theta)) == pytest.approx(1.0, abs=1e-5)
    assert result.conditioning["condition"] == pytest.approx(1.0, rel=1e-8)
    assert result.summary()["conditioning"] == result.conditioning


def test_a_matrix_free_trace_is_checked_with_one_formed_jacobian_while_it_fits(monkeypatch):
    # the trace never forms J; the check at its end does, once, while J fits in the dense budget
    problem, theta0 = _weakly_pinned(1e-7), torch.tensor([0.5, 0.5], dtype=DTYPE)
    free = Options(linear_solver="cg", sketch_rank=2)
    result = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference, adaptive=False, options=free)
    assert result.status is Status.ILL_CONDITIONED
    assert result.conditioning["condition"] == pytest.approx(1e7, rel=1e-6)
    monkeypatch.setattr(continuation.stepping, "AUTO_DENSE_BYTES", 31)  # J (2 x 2 float64) takes 32 bytes
    unchecked = continuation.trace(problem, theta0, [1.0, 0.5], outputs=difference, adaptive=False, options=free)
    assert unchecked.status is Status.SUCCESS and unchecked.conditioning is None
    assert "conditioning was not checked: its Jacobian would take" in unchecked.message


def test_without_outputs_the_conditioning_is_not_checked_and_the_message_says_so():
    result = continuation.trace(_weakly_pinned(1e-7), torch.tensor([0.5, 0.5], dtype=DTYPE), [1.0, 0.5])
    assert result.status is Status.SUCCESS and result.conditioning is None
    assert "conditioning was not checked: no outputs" in result.message


def test_the_residual_maps_own_outputs_are_used():
    class Observed(FunctionResidual):
        def outputs(self, theta):
            return difference(theta)

    problem = Observed(lambda t, e: torch.stack([t[0] + t[1] - e, 1e-7 * (t[0] - t[1] - 1.0)]))
    result = continuation.trace(problem, torch.tensor([0.5, 0.5], dtype=DTYPE), [1.0, 0.5], adaptive=False)
    assert result.status is Status.ILL_CONDITIONED


@pytest.mark.parametrize("value", [0.0, -1e-2, float("nan"), "1e-2"])
def test_conditioning_tol_is_validated(value):
    with pytest.raises(ValueError, match="conditioning_tol"):
        Options(conditioning_tol=value)


# ---- validation residual on fresh points ------------------------------------------------------------


def _polynomial_fit(power: int, points):
    """``p(x) = theta_0 + theta_1 x + theta_2 x^2`` fitted to ``eps x^power`` at ``points``."""
    return continuation.PointwiseResidual(
        lambda theta, x, eps: theta[0] + theta[1] * x[0] + theta[2] * x[0] ** 2 - eps * x[0] ** power, points
    )


COLLOCATION = torch.tensor([[-1.0], [0.0], [1.0]], dtype=DTYPE)
FRESH = torch.linspace(-0.95, 0.95, 40, dtype=DTYPE)[:, None]


def test_an_interpolant_exact_at_too_few_points_is_under_resolved():
    # a quadratic interpolates eps x^3 at three points exactly (||H|| ~ 0), and misses it in between
    result = continuation.trace(_polynomial_fit(3, COLLOCATION), torch.zeros(3, dtype=DTYPE), [1.0, 0.5],
                                validation=_polynomial_fit(3, FRESH), options=Options(tol=1e-12))
    assert result.status is Status.UNDER_RESOLVED and not result.success
    assert result.residual_norms[-1] <= 1e-12
    exact_gap = float(torch.sqrt(torch.mean((0.5 * (FRESH[:, 0] ** 3 - FRESH[:, 0])) ** 2)))  # p = 0.5 x there
    accepted = [s for s in result.steps if s.accepted]
    assert all(s.validation_norm is not None for s in accepted)
    assert accepted[-1].validation_norm == pytest.approx(exact_gap, rel=1e-8)
    assert "do not resolve the solution" in result.message


def test_an_under_resolved_end_says_where_along_the_path_the_points_stopped_resolving_the_function():
    # the target gains a cubic term below eps = 0.75: a quadratic still interpolates it at three points, and the
    # fresh points see the miss from the first accepted point below 0.75 on
    def fit(points):
        return continuation.PointwiseResidual(
            lambda theta, x, eps: theta[0] + theta[1] * x[0] + theta[2] * x[0] ** 2
            - eps * x[0] - torch.clamp(0.75 - eps, min=0.0) * x[0] ** 3, points)

    result = continuation.trace(fit(COLLOCATION), torch.zeros(3, dtype=DTYPE), [1.0, 0.5],
                                validation=fit(FRESH), options=Options(tol=1e-12))
    assert result.status is Status.UNDER_RESOLVED
    accepted = [s for s in result.steps if s.accepted]
    before = accepted[:-1]
    first = next(s for s in before if s.eps < 0.75)
    assert all(s.validation_norm < 1e-10 for s in before if s.eps >= 0.75)
    later = [s for s in before if s.eps < 0.75]
    assert len(later) >= 2
    assert (f"they first failed to resolve it at eps = {first.eps:.4g} (step {first.step}), and failed at "
            f"{len(later)} of the {len(later)} accepted points from there before the last" in result.message)


def test_a_resolved_fit_stays_a_success_and_records_its_validation_residual():
    result = continuation.trace(_polynomial_fit(2, COLLOCATION), torch.zeros(3, dtype=DTYPE), [1.0, 0.5],
                                validation=_polynomial_fit(2, FRESH), options=Options(tol=1e-12))
    assert result.status is Status.SUCCESS
    assert all(s.validation_norm is not None and s.validation_norm < 1e-10 for s in result.steps if s.accepted)


def test_validation_is_checked_before_any_work():
    with pytest.raises(TypeError, match="validation must be"):
        continuation.trace(_polynomial_fit(2, COLLOCATION), torch.zeros(3, dtype=DTYPE), [1.0, 0.5], validation=3)
    with pytest.raises(ValueError, match="validation"):
        continuation.trace(_polynomial_fit(2, COLLOCATION), torch.zeros(3, dtype=DTYPE), [1.0, 0.5],
                           validation=lambda theta, eps: theta.sum())


def test_auto_linear_solver_forms_the_jacobian_while_it_fits():
    from continuation.setup import AUTO_DENSE_BYTES, auto_linear_solver

    rows = AUTO_DENSE_BYTES // 8 // 1000
    assert auto_linear_solver(rows, 1000, torch.float64) == "dense"
    assert auto_linear_solver(rows + 1, 1000, torch.float64) == "cg"
    assert auto_linear_solver(rows + 1, 1000, torch.float32) == "dense"  # half the bytes
    result = continuation.trace(lambda t, e: t**2 - e, torch.tensor([0.9], dtype=DTYPE), [1.0, 0.25],
                                options=Options(linear_solver="auto"))
    assert result.status is Status.SUCCESS and abs(float(result.theta) - 0.5) < 1e-6


def test_auto_linear_solver_goes_matrix_free_for_a_large_fit_and_not_for_a_pinn_of_its_size():
    """The cost rule, from operation counts of the real problems (measured: the fit's matrix-free iteration
    7 times faster, the PINN's 3 times slower; benchmarks/results/step-cost/solver-evidence/)."""
    from continuation.setup import auto_linear_solver, product_flops
    from models import MLP
    from pde import AllenCahn1D, HighFrequencyFit

    eps = torch.tensor(0.5, dtype=DTYPE)
    fit = HighFrequencyFit(MLP([1, 50, 50, 50, 1]), n_points=8000)
    pinn = AllenCahn1D(MLP([1, 30, 30, 30, 1]), eps_min=0.5, n_points=1000)
    picks = []
    for problem in (fit, pinn):
        theta = problem.model.init(seed=0)
        rows = problem.residual_map(theta, eps).numel()
        flops = product_flops(problem.residual_map, theta, eps)
        assert flops > 10 * rows * theta.numel()  # an evaluation and two products of the network at every row
        picks.append(auto_linear_solver(rows, theta.numel(), DTYPE, flops))
    assert picks == ["cg", "dense"]


def test_a_trace_with_auto_runs_the_linear_solver_the_cost_rule_picks(monkeypatch):
    from models import MLP
    from pde import HighFrequencyFit

    problem = HighFrequencyFit(MLP([1, 8, 8, 1]), n_points=64)
    theta0 = problem.model.init(seed=0)
    options = Options(linear_solver="auto", initial_iterations=3, corrector_iterations=2, final_iterations=2,
                      max_steps=2)
    for ratio, matrix_free in ((1e-9, True), (1e9, False)):
        monkeypatch.setattr(continuation.setup, "AUTO_CG_RATIO", ratio)
        result = continuation.trace(problem.residual_map, theta0, [1.0, 0.9], options=options)
        assert (sum(step.linear_iterations for step in result.steps) > 0) is matrix_free


class _JumpingCorrector:
    """Levenberg-Marquardt, but its ``n``-th call lands on the other branch ``-theta`` (a root as well)."""

    def __init__(self, n: int):
        self.inner, self.calls, self.n = continuation.LevenbergMarquardt(), 0, n

    def correct(self, problem, theta, eps, *, iterations, tol, state=None):
        self.calls += 1
        report = self.inner.correct(problem, theta, eps, iterations=iterations, tol=tol, state=state)
        if self.calls == self.n:
            return dataclasses.replace(report, theta=-report.theta)
        return report


def test_a_corrector_that_jumps_branches_is_rejected_when_the_function_is_known():
    # H = theta^2 - eps^2 has the branches +eps and -eps; the third correction jumps to the wrong one
    def square(theta, eps):
        return theta**2 - eps**2

    theta0 = torch.tensor([1.0], dtype=DTYPE)
    blind = continuation.trace(square, theta0, [1.0, 0.5], corrector=_JumpingCorrector(3))
    assert blind.status is Status.SUCCESS and float(blind.theta) == pytest.approx(-0.5)  # unseen without outputs
    seen = continuation.trace(square, theta0, [1.0, 0.5], corrector=_JumpingCorrector(3), outputs=lambda t: t)
    assert seen.status is Status.SUCCESS and float(seen.theta) == pytest.approx(0.5, abs=1e-6)
    rejected = [s for s in seen.steps if not s.accepted]
    assert len(rejected) == 1 and "delta" in rejected[0].reason and "delta_max" in rejected[0].reason
    unguarded = continuation.trace(square, theta0, [1.0, 0.5], corrector=_JumpingCorrector(3), outputs=lambda t: t,
                                   options=Options(delta_max=math.inf))  # the guard switched off
    # on the other branch; within tol of it (the function-weighted Euler velocity is biased by
    # (function_weight)^2 = 1e-6 relative here, and points within tol take no corrector iteration)
    assert unguarded.status is Status.SUCCESS and float(unguarded.theta) == pytest.approx(-0.5, abs=1e-5)
