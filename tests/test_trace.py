"""The trace: its path, its correctors, its statuses, and its input checks."""

import math
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import continuation
from continuation import LevenbergMarquardt, Options, Status

DT = torch.float64


def sqrt_path(theta, eps):
    return theta**2 - eps


TIGHT = Options(tol=1e-10)  # the default tol (1e-5) suits PINN losses, not these exact tests


def theta_near(value):
    return torch.tensor([value], dtype=DT)


eps_lists = st.lists(st.floats(0.1, 4.0), min_size=2, max_size=6).filter(
    lambda v: all(abs(a - b) > 1e-3 for a, b in zip(v, v[1:]))
)


@given(eps_lists, st.booleans(), st.sampled_from(["euler", "secant", "none"]))
def test_trace_passes_through_every_listed_eps(eps_path, adaptive, predictor):
    result = continuation.trace(
        sqrt_path, theta_near(math.sqrt(eps_path[0]) + 0.1), eps_path, adaptive=adaptive, predictor=predictor,
        options=TIGHT,
    )
    assert result.success, result.message
    visited = iter(result.eps)
    assert all(any(e == target for e in visited) for target in eps_path)  # in order
    assert result.eps[-1] == eps_path[-1]
    for eps, theta in zip(result.eps, result.thetas):
        assert abs(float(theta[0]) - math.sqrt(eps)) < 1e-6
    if not adaptive:
        assert result.eps == eps_path


@st.composite
def least_squares_problems(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    m, p = draw(st.integers(2, 10)), draw(st.integers(2, 10))
    a, b = rng.standard_normal((m, p)), rng.standard_normal((p, p))
    y = rng.standard_normal(m)
    a, b, y = (torch.from_numpy(v) for v in (a, b, y))
    theta0 = torch.from_numpy(rng.standard_normal(p))
    return (lambda theta, eps: a @ torch.tanh(b @ theta) - eps * y), theta0


@given(least_squares_problems())
def test_levenberg_marquardt_never_increases_the_loss(problem):
    residual, theta0 = problem
    H = continuation.as_residual_map(residual)
    eps = torch.tensor(1.0, dtype=DT)
    norms = [
        LevenbergMarquardt().correct(H, theta0, eps, iterations=k, tol=1e-14).residual_norm for k in range(12)
    ]
    assert all(b <= a for a, b in zip(norms, norms[1:])), norms


@pytest.mark.parametrize("corrector", ["lm", "gauss-newton", "adam", "lbfgs", "newton"])
def test_every_corrector_follows_a_simple_path(corrector):
    # |theta - sqrt(eps)| ~ ||H|| / (2 sqrt(eps)): tol 1e-6 gives ~1e-6
    options = Options(learning_rate=0.01, initial_iterations=2000, final_iterations=2000, tol=1e-6)
    result = continuation.trace(
        sqrt_path, theta_near(1.2), [1.0, 0.5], corrector=corrector, adaptive=False, options=options
    )
    assert result.success, result.message
    assert result.steps[-1].residual_norm <= 1e-6
    assert abs(float(result.theta[0]) - math.sqrt(0.5)) < 2e-6


def test_eps_may_increase():
    result = continuation.trace(sqrt_path, theta_near(0.5), [0.25, 4.0], options=TIGHT)
    assert result.success and result.eps[-1] == 4.0
    assert abs(float(result.theta[0]) - 2.0) < 1e-8


def test_natural_continuation_stops_cleanly_at_a_fold():
    # theta^2 = eps has no real solution below 0: the path turns at eps = 0
    result = continuation.trace(sqrt_path, theta_near(1.0), [1.0, -1.0], options=Options(ds_min=1e-4))
    assert result.status is Status.STEP_TOO_SMALL
    assert not result.success
    assert "arclength" in result.message and "ds_min" in result.message
    assert len(result.eps) == len(result.thetas) >= 2
    assert 0 <= result.eps[-1] < 0.05  # it got close to the fold and kept the path
    assert result.rejected > 0


def test_a_residual_that_breaks_returns_the_accepted_path():
    def fragile(theta, eps):
        if float(eps) < 0.5:
            raise RuntimeError("solver exploded")
        return theta**2 - eps

    result = continuation.trace(fragile, theta_near(1.0), [1.0, 0.1], options=Options(ds_min=1e-3))
    assert result.status is Status.STEP_TOO_SMALL
    assert "solver exploded" in result.message
    assert min(result.eps) >= 0.5 and len(result.eps) >= 2


def test_nan_residual_is_rejected_and_halved():
    def nan_below(theta, eps):
        return torch.where(eps < 0.3, torch.full_like(theta, math.nan), theta**2 - eps)

    result = continuation.trace(nan_below, theta_near(1.0), [1.0, 0.1], options=Options(ds_min=1e-3))
    assert result.status is Status.STEP_TOO_SMALL
    assert any("non-finite" in s.reason for s in result.steps)
    assert result.eps[-1] >= 0.3


def test_callback_can_stop_and_diagnostics_are_recorded():
    seen = []

    def callback(record, theta):
        seen.append(record.eps)
        return len(seen) == 3  # the initial point counts

    result = continuation.trace(
        sqrt_path, theta_near(1.0), [1.0, 0.9, 0.8, 0.7], adaptive=False, callback=callback, options=TIGHT,
        diagnostics={"theta": lambda problem, theta, eps: float(theta[0])},
    )
    assert result.status is Status.STOPPED_BY_CALLBACK
    assert seen == result.eps == [1.0, 0.9, 0.8]
    assert [d["eps"] for d in result.diagnostics] == result.eps
    assert result.diagnostics[1]["theta"] == pytest.approx(math.sqrt(0.9))


@pytest.mark.parametrize("method", ["natural", "arclength"])
def test_callback_can_stop_at_the_initial_point(method):
    seen = []

    def stop_at_once(record, theta):
        seen.append((record.step, record.eps, float(theta[0])))
        return True

    result = continuation.trace(sqrt_path, theta_near(1.2), [1.0, 0.5], method=method, callback=stop_at_once,
                                options=TIGHT)
    assert result.status is Status.STOPPED_BY_CALLBACK and "eps = 1" in result.message
    assert result.eps == [1.0] and len(seen) == 1
    assert seen[0][:2] == (0, 1.0) and seen[0][2] == pytest.approx(1.0, abs=1e-10)
    assert result.theta[0] == pytest.approx(1.0, abs=1e-10)
    # the trace resumed there goes on from the point: the callback is not called for it again
    rest = continuation.trace(sqrt_path, result.theta, [1.0, 0.5], method=method, callback=stop_at_once,
                              options=TIGHT, resume=result.state)
    assert rest.status is Status.STOPPED_BY_CALLBACK and rest.eps[0] == 1.0 and rest.eps[1] < 1.0
    assert len(seen) == 2 and seen[1][0] > 0 and seen[1][1] == rest.eps[1]


def test_result_counters_and_table():
    result = continuation.trace(sqrt_path, theta_near(1.0), [1.0, 0.5])
    assert result.accepted == len(result.eps) and result.rejected == 0
    assert result.jacobian_evaluations > 0 and result.wall_time > 0
    assert result.steps[0].step == 0 and result.steps[0].deps == 0.0
    assert "reason" in result.table().splitlines()[0]
    summary = result.summary()
    assert summary["status"] == "success" and summary["eps"] == result.eps


@given(eps_lists, st.booleans())
def test_residual_norms_are_those_of_the_accepted_points(eps_path, adaptive):
    result = continuation.trace(
        sqrt_path, theta_near(math.sqrt(eps_path[0]) + 0.1), eps_path, adaptive=adaptive, options=TIGHT
    )
    assert len(result.residual_norms) == len(result.eps) == result.accepted
    for norm, eps, theta in zip(result.residual_norms, result.eps, result.thetas):
        assert norm == pytest.approx(float(sqrt_path(theta, torch.tensor(eps, dtype=DT)).norm()), abs=1e-15)
    assert "not corrected" not in result.message  # every point converged to tol


def test_a_trace_that_ends_off_tolerance_says_so():
    """A fixed schedule with no corrector iterations reaches the end, far from the path: not a success."""
    options = Options(tol=1e-10, corrector_iterations=0, final_iterations=0)
    result = continuation.trace(
        sqrt_path, theta_near(1.0), [1.0, 0.5, 0.25], adaptive=False, predictor="none", options=options
    )
    assert result.status is Status.NOT_CONVERGED and not result.success  # every listed eps was reached ...
    assert result.eps == [1.0, 0.5, 0.25]
    assert result.residual_norms == pytest.approx([0.0, 0.5, 0.75])  # ... with theta left at 1
    assert [r.criterion for r in result.steps] == ["converged", "unconverged", "unconverged"]
    assert "reached eps = 0.25" in result.message
    assert "not corrected to tol = 1e-10: ||H|| = 7.500e-01" in result.message


def test_a_final_correction_cut_by_its_budget_says_which_option_corrects_it_further():
    """The message of a trace whose last correction ran out of iterations names ``final_iterations``; one
    whose last point got no iterations, or that stopped at a floor, does not."""
    slow = Options(tol=1e-10, initial_iterations=3, corrector_iterations=3, final_iterations=3)
    cut = continuation.trace(lambda t, e: t - e, theta_near(2.0), [1.0, 0.5], corrector="adam", adaptive=False,
                             predictor="none", options=slow)
    assert cut.status is Status.NOT_CONVERGED and cut.steps[-1].iterations == 3
    assert "still going when its budget (final_iterations = 3) ran out" in cut.message
    uncorrected = continuation.trace(sqrt_path, theta_near(1.0), [1.0, 0.5], adaptive=False, predictor="none",
                                     options=Options(tol=1e-10, final_iterations=0))
    assert uncorrected.status is Status.NOT_CONVERGED and "final_iterations" not in uncorrected.message
    floor = continuation.trace(lambda t, e: torch.cat([t - e, t + e]), theta_near(0.3), [1.0, 0.5],
                               adaptive=False, predictor="none", options=Options(tol=1e-10))
    assert floor.status is Status.FLOOR and "final_iterations" not in floor.message


def test_max_steps_ends_with_a_status():
    result = continuation.trace(sqrt_path, theta_near(1.0), [1.0, 0.1], options=Options(max_steps=2, ds=0.01))
    assert result.status is Status.MAX_STEPS
    assert len(result.eps) == 3
    # max_steps counts the whole trace: resumed with the same bound it stops at once and says what goes on
    again = continuation.trace(sqrt_path, result.theta, [1.0, 0.1], options=Options(max_steps=2, ds=0.01),
                               resume=result.state)
    assert again.status is Status.MAX_STEPS and again.eps == result.eps and "a larger max_steps" in again.message
    further = continuation.trace(sqrt_path, result.theta, [1.0, 0.1], options=Options(max_steps=1000, ds=0.01),
                                 resume=result.state)
    whole = continuation.trace(sqrt_path, theta_near(1.0), [1.0, 0.1], options=Options(max_steps=1000, ds=0.01))
    assert further.success and torch.equal(further.thetas, whole.thetas)


class ExplodingCorrector:
    """A user corrector (the protocol, not a registry name) that always fails."""

    def correct(self, problem, theta, eps, *, iterations, tol, state=None):
        raise FloatingPointError("diverged")


def test_failed_initial_correction_has_a_status_and_no_path():
    result = continuation.trace(sqrt_path, theta_near(1.0), [1.0, 0.5], corrector=ExplodingCorrector())
    assert result.status is Status.INITIAL_CORRECTION_FAILED
    assert "diverged" in result.message and not result.success
    assert result.eps == [] and result.thetas.shape == (0, 1)


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"theta0": [1.0]}, TypeError, "theta0 must be a torch.Tensor"),
        ({"theta0": torch.ones(1, 1, dtype=DT)}, ValueError, r"theta0 must be a non-empty 1-D tensor, got shape \(1, 1\)"),
        ({"theta0": torch.ones(0, dtype=DT)}, ValueError, "theta0 must be a non-empty 1-D"),
        ({"theta0": torch.ones(1, dtype=torch.int64)}, TypeError, "theta0 must have a floating dtype"),
        ({"theta0": torch.tensor([math.nan], dtype=DT)}, ValueError, "theta0 must be finite"),
        ({"eps_path": [1.0]}, ValueError, "eps_path must hold at least two values"),
        ({"eps_path": [1.0, 1.0]}, ValueError, "eps_path must not repeat"),
        ({"eps_path": [1.0, math.inf]}, ValueError, "eps_path must be finite"),
        ({"eps_path": "ab"}, TypeError, "eps_path must be an ordered sequence"),
        ({"eps_path": 0.5}, TypeError, "eps_path must be an ordered sequence"),
        ({"eps_path": {1.0, 0.5}}, TypeError, "eps_path must be an ordered sequence .* got set"),
        ({"eps_path": {1.0: 0, 0.5: 1}}, TypeError, "eps_path must be an ordered sequence .* got dict"),
        ({"corrector_state": -1.0}, ValueError, r"corrector_state of Levenberg-Marquardt must be a damping"),
        ({"corrector_state": math.nan}, ValueError, r"corrector_state of Levenberg-Marquardt .* got nan"),
        ({"inner_product": lambda a, b: a @ b, "method": "arclength"}, TypeError,
         r"inner_product must be a function inner_product\(theta, a, b\)"),
        ({"resume": "state"}, TypeError, "resume must be a TraceState"),
        ({"residual": 3.0}, TypeError, "residual must be a ResidualMap or a callable"),
        ({"residual": lambda t, e: (t - e).reshape(1, 1)}, ValueError,
         r"residual\(theta0, eps_path\[0\]=1\) must return a non-empty 1-D tensor, got shape \(1, 1\); flatten it"),
        ({"residual": lambda t, e: [1.0]}, TypeError, "must return a torch.Tensor"),
        ({"residual": lambda t, e: ((t - e)[:1], (t + e)[:1])}, TypeError,
         r"got a tuple of 2 tensors; join them with torch.cat, or pass the blocks as continuation.StackedResidual"),
        ({"residual": lambda t, e: (t - e).square().mean()}, ValueError,
         r"got shape \(\): a single number; if it is a loss \(a mean of squares\), return the residuals"),
        ({"residual": lambda t, e: (t - e).float()}, TypeError, "returned dtype torch.float32"),
        ({"residual": lambda t, e: t / 0 * 0}, ValueError, "is not finite"),
        ({"method": "pseudo"}, ValueError, "method must be one of"),
        ({"predictor": "runge-kutta"}, ValueError, "predictor must be one of"),
        ({"corrector": "sgd"}, ValueError, "corrector must be one of"),
        ({"corrector": object()}, TypeError, r"corrector must be a name or an object with a correct\(\) method"),
        ({"predictor": object()}, TypeError, r"predictor must be a name or an object with a velocity\(\) method"),
        ({"options": {"tol": 1.0}}, TypeError, "options must be a continuation.Options"),
        ({"adaptive": "yes"}, TypeError, "adaptive must be True or False"),
        ({"callback": 3}, TypeError, "callback must be callable"),
    ],
)
def test_bad_input_is_rejected_before_any_work(kwargs, error, match):
    calls = []

    def residual(theta, eps):
        calls.append(1)
        return theta - eps

    arguments = {"residual": residual, "theta0": theta_near(1.0), "eps_path": [1.0, 0.5], **kwargs}
    with pytest.raises(error, match=match):
        continuation.trace(arguments.pop("residual"), arguments.pop("theta0"), arguments.pop("eps_path"), **arguments)
    # at most the evaluations that check the residual's output and its eps-derivative (torch.func, and a
    # central difference to compare it with)
    assert len(calls) <= 4


def test_a_loss_returned_as_the_residual_is_warned_about():
    """One nonnegative value for more than ten weights is most likely a network's loss: the warning says to return
    the residuals. One equation in a few unknowns is not warned about."""
    points = torch.linspace(0.0, 1.0, 5, dtype=DT)

    def loss(theta, eps):  # a polynomial of degree 10 fitted to eps x
        return (torch.vander(points, 11) @ theta - eps * points).square().mean().reshape(1)

    with pytest.warns(RuntimeWarning, match=r"returns one value, \d\.\d+, for 11 weights; if it is a loss"):
        continuation.trace(loss, torch.full((11,), 0.1, dtype=DT), [1.0, 0.5], options=Options(max_steps=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        continuation.trace(lambda t, e: (t.square().sum() + e).reshape(1), torch.ones(3, dtype=DT), [1.0, 0.5],
                           options=Options(max_steps=2))



POINTS = torch.linspace(0.0, 1.0, 12, dtype=DT)


def autograd_inside(theta, eps):
    """``eps u' + u - 1`` with ``u'`` taken the PINN way of many tutorials: ``torch.autograd.grad``."""
    x = POINTS.clone().requires_grad_(True)
    u = torch.tanh(theta[0] * x + theta[1])
    return eps * torch.autograd.grad(u.sum(), x, create_graph=True)[0] + u - 1.0


X_WITH_GRAD = torch.linspace(0.0, 1.0, 12, dtype=DT, requires_grad=True)


def autograd_outside(theta, eps):
    """The same, with the points made to require grad outside the residual."""
    u = torch.tanh(theta[0] * X_WITH_GRAD + theta[1])
    return eps * torch.autograd.grad(u.sum(), X_WITH_GRAD, create_graph=True)[0] + u - 1.0


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True")  # its value carries a graph
@pytest.mark.parametrize("residual", [autograd_inside, autograd_outside])
def test_a_residual_with_autograd_derivatives_in_x_is_told_to_use_torch_func(residual):
    """Such a residual evaluates alone, but the engine's ``torch.func`` transforms refuse it: the trace says
    so before any work, naming the residual and the way out, and a trace without the eps-derivative (no
    predictor) reports the same at its first Jacobian."""
    theta0 = torch.tensor([1.0, 0.5], dtype=DT)
    assert residual(theta0, torch.tensor(1.0, dtype=DT)).shape == (12,)
    with pytest.raises(TypeError, match=r"residual: residual\(theta0, eps_path\[0\]=1\) evaluates, but its "
                                        r"eps-derivative .* torch.autograd.grad .* pde.calculus"):
        continuation.trace(residual, theta0, [1.0, 0.5])
    result = continuation.trace(residual, theta0, [1.0, 0.5], predictor="none")
    assert result.status is Status.INITIAL_CORRECTION_FAILED and "with torch.func" in result.message


def test_a_success_on_collocation_points_says_whether_it_was_checked_between_them():
    """``||H|| <= tol`` at the points says nothing between them: without a validation residual the success
    says it was not checked there; with one (the same block on other points) it does not."""
    line = continuation.PointwiseResidual(lambda theta, x, eps: theta[0] * x[0] + theta[1] - eps * x[0],
                                          torch.linspace(0.1, 1.0, 5, dtype=DT)[:, None])
    theta0 = torch.tensor([1.0, 0.0], dtype=DT)
    unchecked = continuation.trace(line, theta0, [1.0, 0.5])
    assert unchecked.success and "not checked: no validation residual" in unchecked.message
    elsewhere = line.with_points(torch.linspace(0.15, 0.95, 4, dtype=DT)[:, None])
    checked = continuation.trace(line, theta0, [1.0, 0.5], validation=elsewhere)
    assert checked.success and "validation" not in checked.message
    algebraic = continuation.trace(lambda theta, eps: theta - eps, theta_near(1.0), [1.0, 0.5])
    assert algebraic.success and "validation" not in algebraic.message  # no points, nothing between them


def far_points(residual, x=3.0):
    """``residual`` at one point ``x``, far outside its points."""
    return residual.with_points(torch.tensor([[x]], dtype=DT))


def test_a_trace_above_tol_says_when_its_points_do_not_resolve_it():
    """A last point above ``tol`` (here a least-squares floor: a line fitted to ``eps x^2`` at three points,
    ``||H||`` = 0.118 eps) whose validation residual is far larger (at x = 3: 6.08 eps) says so: lowering
    ``||H||`` on the points would fit them, not the function. Without validation, or with a validation
    residual of the same size, nothing is added."""
    quadratic = continuation.PointwiseResidual(lambda theta, x, eps: theta[0] + theta[1] * x[0] - eps * x[0] ** 2,
                                               torch.tensor([[0.0], [0.5], [1.0]], dtype=DT))
    theta0 = torch.tensor([-1 / 12, 1.0], dtype=DT)
    far = continuation.trace(quadratic, theta0, [1.0, 0.5], validation=far_points(quadratic))
    assert far.status is Status.FLOOR, far.message
    assert re.search(r"validation points is 3\.04\de\+00, above tol = 1e-05 and 5\d\.?\d* times \|\|H\|\|.*do not resolve", far.message)
    near = continuation.trace(quadratic, theta0, [1.0, 0.5], validation=quadratic.with_points(
        torch.tensor([[0.25], [0.75]], dtype=DT)))
    alone = continuation.trace(quadratic, theta0, [1.0, 0.5])
    assert near.status is alone.status is Status.FLOOR
    assert "validation" not in near.message and "validation" not in alone.message
    # cut by its budget: more iterations would fit the points, so the message does not advise them
    slow = continuation.trace(quadratic, theta0, [1.0, 0.5], predictor="none", corrector="adam",
                              validation=far_points(quadratic, 6.0))
    assert slow.status is Status.NOT_CONVERGED and "budget (final_iterations = 200) ran out; and" in slow.message
    assert "do not resolve" in slow.message and "a larger final_iterations" not in slow.message


def test_an_eps_dependence_cut_from_autograd_is_warned_about():
    """``math.exp`` of eps is a constant to ``torch.func``: the eps-derivative is not zero, only wrong. A
    central difference sees it; a residual written with torch operations gets no warning (the suite runs
    with warnings as errors)."""
    x = torch.linspace(0.0, 1.0, 20, dtype=DT)

    def cut(theta, eps):
        return theta[0] * x + theta[1] - (1 - torch.exp(-x / eps)) / (1 - math.exp(-1 / eps))

    def whole(theta, eps):
        return theta[0] * x + theta[1] - (1 - torch.exp(-x / eps)) / (1 - torch.exp(-1 / eps))

    theta0 = torch.tensor([1.0, 0.0], dtype=DT)
    with pytest.warns(RuntimeWarning, match=r"differs from a finite difference by 0\.\d+ of its norm: part of "
                                            r"the residual's dependence on eps is cut"):
        continuation.trace(cut, theta0, [1.0, 0.5])
    assert continuation.trace(whole, theta0, [1.0, 0.5]).eps[-1] == 0.5

def floored_path(theta, eps):
    """Three equations, two unknowns: least-squares solution ``theta_i = (1 + 2 eps) / 3``, floor ``|1 - eps| / sqrt(3)``."""
    return torch.stack([theta[0] - eps, theta[1] - eps, theta[0] + theta[1] - 1.0 - eps])


@pytest.mark.parametrize("direction", ["floor falls", "floor rises"])
def test_steps_grow_on_a_least_squares_floor_above_tol(direction):
    """No point converges to tol, yet every step is accepted and the step grows while the floor does not rise fast."""
    eps_path = [0.0, 0.9] if direction == "floor falls" else [0.9, 0.0]
    theta0 = torch.full((2,), eps_path[0], dtype=DT)
    options = Options(tol=1e-12, ds=0.01, ds_max=1.0)
    result = continuation.trace(floored_path, theta0, eps_path, options=options)
    assert result.status is Status.FLOOR and not result.success, result.message  # a floor is not a solution
    assert "stationary at ||H|| = " in result.message
    assert result.rejected == 0
    steps = [abs(r.deps) for r in result.steps[1:]]
    assert all(r.criterion == "floor" for r in result.steps[1:])
    if direction == "floor falls":  # every point beats the last: 1.5x growth, 0.01 -> 0.9 in 10 steps
        assert all(b >= 1.5 * a * (1 - 1e-9) for a, b in zip(steps, steps[1:-1]))
        assert len(steps) <= 10
    else:  # the floor grows 0.06 -> 0.58 by ratios below sqrt(10): the step is never cut
        assert all(b >= a * (1 - 1e-9) for a, b in zip(steps, steps[1:-1]))


def test_a_floor_rising_from_zero_costs_logarithmically_many_steps():
    """The start of a time homotopy: solved exactly at eps = 1, floor |1 - eps| / sqrt(3) after.

    The first step must be tiny (the floor may exceed ``residual_growth * tol`` by
    no more than the acceptance allows); from there, with ``step_growth_ratio =
    residual_growth^(1/4)``, a step that raises the floor by at most that factor grows by 1.5, so ``|1 - eps|`` grows
    geometrically and 1 -> 0 takes tens of steps, not ``1 / ds``.
    """
    options = Options(tol=1e-6, ds=0.1, ds_max=1.0, step_growth_ratio=10**0.25)
    result = continuation.trace(floored_path, torch.ones(2, dtype=DT), [1.0, 0.0], options=options)
    crawl = continuation.trace(floored_path, torch.ones(2, dtype=DT), [1.0, 0.0], options=options.replace(
        step_growth_ratio=1.0, max_steps=100))
    assert crawl.status == Status.MAX_STEPS  # the default keeps the step while the floor rises
    assert result.status is Status.FLOOR, result.message  # the end was reached, on a floor
    first = next(r for r in result.steps[1:] if r.accepted)
    assert first.residual_norm <= options.residual_growth * options.tol
    assert abs(first.deps) < 1e-4
    assert result.accepted < 40
    floor = abs(1 - torch.tensor(result.eps[1:], dtype=DT)) / math.sqrt(3)
    norms = torch.tensor([r.residual_norm for r in result.steps if r.accepted][1:], dtype=DT)
    torch.testing.assert_close(norms, floor, rtol=1e-9, atol=1e-12)


def test_a_floor_rising_from_zero_is_followed_at_full_steps_when_the_function_is_known():
    """The same start of a time homotopy, with the outputs known: the corrector settles (stationary) on the
    exact Euler prediction, ``delta = 0``, so a step is not rejected for the floor it lands on and the path
    is followed at steps of ``ds / 2`` at least, where the residual rule alone crawls. (The weight-space
    velocity is the exact one here; the function-weighted one is biased by ``function_weight^2``.)"""
    options = Options(tol=1e-6, ds=0.1, ds_max=1.0, max_steps=100, function_weight=0.0)
    result = continuation.trace(floored_path, torch.ones(2, dtype=DT), [1.0, 0.0], options=options,
                                outputs=lambda theta: theta)
    assert result.status is Status.FLOOR, result.message
    assert result.rejected == 0 and min(abs(r.deps) for r in result.steps[1:]) >= 0.05 - 1e-12
    assert "a floor of the path: delta = 0" in result.steps[1].reason
    floor = abs(1 - torch.tensor(result.eps[1:], dtype=DT)) / math.sqrt(3)
    norms = torch.tensor([r.residual_norm for r in result.steps[1:]], dtype=DT)
    torch.testing.assert_close(norms, floor, rtol=1e-9, atol=1e-12)  # on the path, at its floor


def lagging_target(theta, eps):
    """``theta = (1, 2) / eps``: a path that a corrector of two Adam iterations a step cannot keep up with."""
    return theta - torch.tensor([1.0, 2.0], dtype=DT) / eps


def test_a_residual_that_rises_at_every_step_is_caught_up():
    """Without a predictor, two Adam iterations a step fall behind the moving target: each point's residual is
    a little above the last one's (within ``residual_growth``), so every point is accepted and the trace walks
    away from the path, 1e-8 to above 1. With ``catch_up_iterations`` a point cut by its budget above the
    last one's residual and above ``residual_growth * tol`` is corrected on until it is back there (or its
    rate says it will not be within the catch-up budget): the points stay near ``residual_growth * tol``."""
    options = Options(corrector_iterations=2, final_iterations=2, learning_rate=0.01, tol=1e-2)
    theta0, path, band = torch.tensor([0.99, 2.01], dtype=DT), [1.0, 0.5], options.residual_growth * options.tol

    def run(catch_up):
        return continuation.trace(lagging_target, theta0, path, predictor="none", corrector="adam",
                                  options=options.replace(catch_up_iterations=catch_up))

    ratchet, caught = run(0), run(16)
    norms = [r.residual_norm for r in ratchet.steps if r.accepted]
    assert ratchet.rejected == 0 and all(b > a for a, b in zip(norms, norms[1:]))  # rose at every step
    assert norms[-1] > 1.0 and ratchet.status is Status.NOT_CONVERGED
    previous = None
    for record in caught.steps[:-1]:  # the last step has its own budget (final_iterations) and no catch-up
        if previous is not None and record.accepted and record.residual_norm > max(previous, band):
            assert "more iterations" in record.reason and "caught up" not in record.reason, record  # it tried
        if record.accepted:
            previous = record.residual_norm
    caught_norms = [r.residual_norm for r in caught.steps if r.accepted]
    assert caught.eps[-1] == 0.5 and max(caught_norms[:-1]) < 1.1 * band  # near the path up to the last step
    assert sum("caught up" in r.reason for r in caught.steps if r.accepted) >= 5
    assert caught_norms[-1] < norms[-1] / 10
    exact = torch.tensor([1.0, 2.0], dtype=DT) / 0.5
    assert float(torch.linalg.vector_norm(caught.theta - exact)) == pytest.approx(caught_norms[-1])


def test_arclength_catches_up_on_its_bordered_system():
    """The same lagging path by pseudo-arclength: a point cut by its budget above the last one's residual and
    ``residual_growth * tol`` is corrected on, on the bordered system, and its record counts both runs."""
    options = Options(corrector_iterations=2, final_iterations=2, learning_rate=0.01, tol=1e-3, catch_up_iterations=16)
    result = continuation.trace(lagging_target, torch.tensor([0.99, 2.01], dtype=DT), [1.0, 0.5], method="arclength",
                                corrector="adam", options=options)
    caught = [r for r in result.steps if "more iterations" in r.reason]
    assert caught and all(2 < r.iterations <= 2 + 16 for r in caught)
    assert result.eps[-1] == 0.5


def test_each_step_records_the_damping_it_hands_on():
    """Levenberg-Marquardt divides its relative damping by 3 at every accepted iteration: each record holds
    the damping after its attempt, and the trace's corrector state is that of its last accepted point."""
    result = continuation.trace(lambda theta, eps: theta**3 - eps, torch.ones(1, dtype=DT), [1.0, 2.0])
    assert result.status is Status.SUCCESS
    for record in result.steps:
        assert record.damping == pytest.approx(1e-3 / 3 ** sum(r.iterations for r in result.steps[:record.step + 1]))
    assert result.corrector_state == [r.damping for r in result.steps if r.accepted][-1]
    adam = continuation.trace(lambda theta, eps: theta - eps, torch.zeros(1, dtype=DT), [0.0, 1.0], corrector="adam")
    assert all(r.damping is None for r in adam.steps)  # its state is not a number


def test_a_trace_resumed_with_its_corrector_state_continues_as_one_trace():
    rng = np.random.default_rng(3)
    a, b, y = (torch.from_numpy(v) for v in (rng.standard_normal((8, 4)), rng.standard_normal((4, 4)),
                                             rng.standard_normal(8)))

    def misfit(theta, eps):  # 8 residuals, 4 unknowns: LM runs its budget and its damping moves
        return a @ torch.tanh(b @ theta) - eps * y

    path, theta0 = [1.0, 0.8, 0.6, 0.4, 0.2], torch.from_numpy(rng.standard_normal(4))
    options = Options(tol=1e-300, corrector_iterations=3, initial_iterations=3, final_iterations=3)
    whole = continuation.trace(misfit, theta0, path, adaptive=False, options=options)
    first = continuation.trace(misfit, theta0, path, adaptive=False, options=options,
                               callback=lambda record, theta: record.eps == 0.6)
    assert first.status is Status.STOPPED_BY_CALLBACK and isinstance(first.corrector_state, float)

    def resume(state):
        return continuation.trace(misfit, first.theta, path[2:], adaptive=False, corrector_state=state,
                                  options=options.replace(initial_iterations=0))

    resumed, restarted = resume(first.corrector_state), resume(None)
    assert torch.equal(resumed.thetas, whole.thetas[2:])
    assert resumed.corrector_state == whole.corrector_state
    assert not torch.equal(restarted.theta, whole.theta)  # the damping matters: without it the path differs


def test_a_finished_trace_resumed_corrects_its_last_point_as_one_longer_final_correction():
    """Ended above tol with ``final_iterations = n`` and resumed with ``m``: the last point of one trace with
    ``n + m`` (Levenberg-Marquardt's damping goes on in the state), added as a point at the same eps."""
    def cubic(theta, eps):  # a triple root: Levenberg-Marquardt converges linearly, the budget decides
        return torch.stack([(theta[0] - eps) ** 3, theta[1] - eps ** 2])

    theta0, path = torch.tensor([1.3, 0.9], dtype=DT), [1.0, 0.5]
    whole = continuation.trace(cubic, theta0, path, options=Options(tol=1e-12, final_iterations=25))
    part = continuation.trace(cubic, theta0, path, options=Options(tol=1e-12, final_iterations=10))
    assert part.status is Status.NOT_CONVERGED and "resume=result.state" in part.message
    rest = continuation.trace(cubic, part.theta, path, options=Options(tol=1e-12, final_iterations=15),
                              resume=part.state)
    assert whole.status is rest.status is Status.SUCCESS and "after the trace was resumed" in rest.message
    assert torch.equal(rest.theta, whole.theta) and torch.equal(rest.thetas[:-1], part.thetas)
    assert rest.eps[-1] == rest.eps[-2] == 0.5 and rest.steps[-1].criterion == "converged"
    assert part.steps[-1].iterations + rest.steps[-1].iterations == whole.steps[-1].iterations
    again = continuation.trace(cubic, rest.theta, path, options=Options(tol=1e-12), resume=rest.state)
    assert "already reached its end" in again.message and torch.equal(again.thetas, rest.thetas)
    # a further correction that fails keeps the path and the status, and records the attempt
    failing = continuation.trace(cubic, part.theta, path, corrector="adam", options=Options(tol=1e-12),
                                 resume=part.state)
    assert failing.status is Status.NOT_CONVERGED and torch.equal(failing.thetas, part.thetas)
    assert "the further correction of its last point failed" in failing.message
    assert not failing.steps[-1].accepted and len(failing.steps) == len(part.steps) + 1


def test_a_trace_above_tol_says_when_its_start_was_not_solved_either():
    def cubic(theta, eps):
        return torch.stack([(theta[0] - eps) ** 3, theta[1] - eps ** 2])

    options = Options(tol=1e-12, final_iterations=10)
    cut = continuation.trace(cubic, torch.tensor([3.3, 0.9], dtype=DT), [1.0, 0.5],
                             options=options.replace(initial_iterations=5))
    assert cut.status is Status.NOT_CONVERGED and cut.steps[0].criterion == "unconverged"
    assert f"nor was its start (||H|| = {cut.steps[0].residual_norm:.3e} after 5 iterations" in cut.message
    solved = continuation.trace(cubic, torch.tensor([1.3, 0.9], dtype=DT), [1.0, 0.5], options=options)
    assert solved.status is Status.NOT_CONVERGED and solved.steps[0].criterion == "converged"
    assert "nor was its start" not in solved.message


def test_log_parametrization_takes_relative_steps():
    """With steps in log|eps| and a fixed step, the visited eps form a geometric sequence."""
    options = Options(parametrization="log", ds=math.log(2), ds_min=math.log(2), ds_max=math.log(2), tol=1e-10)
    result = continuation.trace(sqrt_path, theta_near(1.0), [1.0, 1 / 64], options=options)
    assert result.success
    assert result.eps == pytest.approx([2.0**-k for k in range(7)], rel=1e-12)
    with pytest.raises(ValueError, match="eps_path must keep one sign and avoid 0"):
        continuation.trace(sqrt_path, theta_near(1.0), [1.0, 0.0], options=options)


@pytest.mark.parametrize("method, path", [("natural", [1.0, 0.05]), ("arclength", [1.0, 0.05])])
def test_corrector_step_control_measures_every_step(method, path):
    options = Options(step_control="corrector", tol=1e-10, ds_max=0.2)
    result = continuation.trace(sqrt_path, theta_near(1.0), path, method=method, options=options)
    assert result.success, result.message
    steps = [r for r in result.steps[1:] if r.accepted and (method == "natural" or r.ds is not None)]
    assert steps and all(r.delta is not None and r.kappa is not None for r in steps)
    assert all(r.delta <= options.delta_max and r.kappa <= options.kappa_max for r in steps)
    if method == "arclength":
        assert all(r.alpha is not None and r.alpha <= options.alpha_max for r in steps)


def test_corrector_step_control_measures_on_the_outputs():
    """Two weights, one function value: the step is judged by the function, not by the weights."""
    def product(theta, eps):
        return (theta[0] * theta[1] - eps)[None]

    seen = []
    outputs = lambda theta: (seen.append(1), (theta[0] * theta[1])[None])[1]  # noqa: E731
    result = continuation.trace(product, torch.tensor([1.0, 1.0], dtype=DT), [1.0, 0.5], outputs=outputs,
                                options=Options(step_control="corrector", tol=1e-10))
    assert result.success and seen
    with pytest.raises(TypeError, match="outputs must be callable"):
        continuation.trace(product, torch.ones(2, dtype=DT), [1.0, 0.5], outputs=3)


@pytest.mark.parametrize("step_control", ["effort", "corrector"])
def test_a_point_off_its_path_is_repaired_not_halved_to_ds_min(step_control, monkeypatch):
    """The last accepted point is moved 40 % off its path (as a residual that ratchets up leaves it): the
    corrector's move from any prediction is then about as long whatever the step, so shrinking the step
    cannot bring ``delta`` under ``delta_max``. The second shorter attempt is accepted as a repair and the
    trace goes on to its end; without the rule it ends at ``ds_min``."""
    from continuation import stepping

    def line(theta, eps):
        return theta - eps

    def off_path_state():
        options = Options(tol=1e-10, step_control=step_control, ds=0.1)
        stopped = continuation.trace(line, theta_near(1.0), [1.0, 0.2], options=options, outputs=lambda t: t,
                                     callback=lambda record, theta: record.eps < 0.85)  # stop at eps = 0.8
        state = stopped.state
        state.thetas[-1] = state.thetas[-1] * 1.4
        state.residual_norm = float(line(state.thetas[-1], torch.tensor(state.eps[-1], dtype=DT)).norm())
        state.velocity_known = False
        return state, options

    state, options = off_path_state()
    repaired = continuation.trace(line, state.thetas[-1], [1.0, 0.2], options=options, outputs=lambda t: t,
                                  resume=state)
    assert repaired.success, repaired.message
    repairs = [r for r in repaired.steps if "a repair" in r.reason]
    assert len(repairs) == 1 and repairs[0].accepted and repairs[0].delta > options.delta_max
    before = repaired.steps[repaired.steps.index(repairs[0]) - 1]
    assert not before.accepted and abs(before.deps) > abs(repairs[0].deps)
    assert repairs[0].delta > stepping.REPAIR_RATIO * before.delta

    monkeypatch.setattr(stepping, "REPAIR_RATIO", math.inf)
    state, options = off_path_state()
    halved = continuation.trace(line, state.thetas[-1], [1.0, 0.2], options=options, outputs=lambda t: t,
                                resume=state)
    assert halved.status is Status.STEP_TOO_SMALL, halved.message


class _Creeping(continuation.correctors.IterativeCorrector):
    """Gradient descent on ``||H||^2 / 2`` at rate 0.01 for ``H = theta - eps a``: every iteration removes 1 %
    of the error, so that 8 iterations remove 8 % of it and 60 remove 45 %."""

    def step(self, problem, theta, eps, residual, state):
        moved = theta - 0.01 * residual
        return continuation.correctors.Step(moved, problem(moved, eps), state)


def test_the_last_step_is_judged_after_the_paths_budget_then_corrected_on():
    """A corrector that creeps leaves every point of the path behind it; the last step's ``final_iterations``
    then take the function far from the prediction whatever the step. Judged after them, the last step was
    rejected again and again while the half steps before it passed (P3 at d = 100); judged after
    ``corrector_iterations``, as every step, it is accepted at once, and the correction goes on to
    ``final_iterations`` at the goal. (Judged after ``final_iterations``, this trace ended at ``ds_min`` near
    eps = 0.500001, its last step rejected for a ``delta`` of 0.09 to 0.12.) The contraction test is off: the
    corrector is slow by design."""
    a = torch.tensor([1.0, -2.0, 0.5], dtype=DT)

    def line(theta, eps):
        return theta - eps * a

    options = Options(step_control="corrector", tol=1e-12, delta_max=0.05, kappa_nominal=math.inf,
                      kappa_max=math.inf)
    result = continuation.trace(line, a.clone(), [1.0, 0.5], predictor="none", corrector=_Creeping(),
                                options=options)
    last = result.steps[-1]
    assert result.eps[-1] == 0.5 and last.accepted and last.iterations == options.final_iterations
    assert not [r for r in result.steps if r.eps == 0.5 and not r.accepted]
    # delta is the distance of the first corrector_iterations from the prediction (the point before: no predictor)
    before, goal = result.thetas[-2], torch.tensor(0.5, dtype=DT)
    step = _Creeping().correct(continuation.FunctionResidual(line), before, goal, iterations=options.corrector_iterations, tol=0.0)
    distance = lambda x: float((x - before).norm() / before.norm())  # noqa: E731
    assert last.delta == pytest.approx(distance(step.theta), rel=1e-12) and last.delta < options.delta_max
    # the whole correction went further than delta_max, and it is the one the trace ends with
    assert distance(result.thetas[-1]) > options.delta_max
    whole = _Creeping().correct(continuation.FunctionResidual(line), before, goal, iterations=options.final_iterations, tol=0.0)
    assert torch.allclose(result.thetas[-1], whole.theta, rtol=0, atol=1e-14)
    assert "moved by" in last.reason and result.status is Status.NOT_CONVERGED

def test_a_last_step_rejected_for_its_jump_is_not_corrected_on():
    """A last step whose ``delta`` (after ``corrector_iterations``) already rejects it is not corrected on to
    ``final_iterations``: only the accepted one is. With ``final_iterations`` raised, as a ``not_converged``
    message advises, each rejected attempt would otherwise cost the whole final correction."""
    a = torch.tensor([1.0, -2.0, 0.5], dtype=DT)

    def line(theta, eps):
        return theta - eps * a

    # the first attempt goes to the goal at once: its 8 iterations move the point by 8 % of 0.4 a (delta 0.03)
    options = Options(step_control="corrector", tol=1e-12, ds=0.4, ds_max=0.5, delta_nominal=0.005,
                      delta_max=0.01, kappa_nominal=math.inf, kappa_max=math.inf, final_iterations=500)
    result = continuation.trace(line, a.clone(), [1.0, 0.6], predictor="none", corrector=_Creeping(),
                                options=options)
    at_goal = [r for r in result.steps if r.eps == 0.6]
    rejected = [r for r in at_goal if not r.accepted]
    assert result.eps[-1] == 0.6 and at_goal[-1].accepted and at_goal[-1].iterations == options.final_iterations
    assert rejected and all("delta = " in r.reason and "above delta_max" in r.reason for r in rejected)
    assert all(r.iterations == options.corrector_iterations and "at the goal" not in r.reason for r in rejected)


def test_a_last_step_too_long_for_the_paths_rule_is_accepted_only_if_the_polish_solves_it():
    """A last step whose residual after ``corrector_iterations`` is above what the path allows (``residual_growth``
    times the last point's, or ``tol``) is a step too long unless the final correction makes it a solution. Here
    500 iterations of a corrector that removes 1 % a time take the first attempt from 0.85 to 6e-3: under the
    path's bound of 1e-2 when ``tol`` is 1e-3, but not a solution, so it is rejected and halved (a point the path
    would not accept is not made the answer by brute force); with ``tol`` = 1e-2 it is one, and accepted."""
    a = torch.tensor([1.0, -2.0, 0.5], dtype=DT)

    def line(theta, eps):
        return theta - eps * a

    options = Options(tol=1e-3, ds=0.4, ds_max=0.5, final_iterations=500)
    dragged = continuation.trace(line, a.clone(), [1.0, 0.6], predictor="none", corrector=_Creeping(),
                                 options=options)
    first = dragged.steps[1]
    assert first.eps == 0.6 and not first.accepted and first.residual_norm < 1e-2
    assert "above 1.000e-02 after 8 iterations, and the final correction did not reach tol" in first.reason
    assert dragged.eps[-1] == 0.6 and dragged.steps[-1].accepted and len(dragged.eps) > 2
    solved = continuation.trace(line, a.clone(), [1.0, 0.6], predictor="none", corrector=_Creeping(),
                                options=options.replace(tol=1e-2))
    assert solved.success and solved.eps == [1.0, 0.6] and solved.steps[1].iterations > options.corrector_iterations


def test_the_default_step_bound_is_a_hundredth_of_a_long_path():
    """A parameter traced from 1 to 100 (a Peclet number, say): ``ds_max = None`` is a hundredth of the path's
    extent, 0.99, so the steps grow past 0.1 (which took 990 steps at least); on a path within [0, 1] it stays 0.1."""
    def residual(theta, p):  # theta(p) = sqrt(p), solved by one Gauss-Newton step: the step rules set the steps
        return theta ** 2 - p

    result = continuation.trace(residual, torch.ones(1, dtype=DT), [1.0, 100.0], corrector="gauss-newton",
                                options=TIGHT)
    assert result.success, result.message
    assert float(result.theta) == pytest.approx(10.0)
    steps = [abs(b - a) for a, b in zip(result.eps, result.eps[1:])]
    assert max(steps) == pytest.approx(0.99) and result.accepted < 150
    short = continuation.trace(residual, torch.ones(1, dtype=DT), [1.0, 0.01], corrector="gauss-newton", options=TIGHT)
    assert short.success and max(abs(b - a) for a, b in zip(short.eps, short.eps[1:])) == pytest.approx(0.1)


def test_step_rules_switched_off_by_inf_put_no_bound():
    from continuation.correctors import CorrectorResult
    from continuation.stepsize import corrector_factor, next_step

    converged = CorrectorResult(torch.zeros(1), 1, 0.0, True, "converged")
    capped = next_step(0.01, converged, budget=10, lipschitz=100.0, options=Options())
    free = next_step(0.01, converged, budget=10, lipschitz=100.0, options=Options(lipschitz_c=math.inf))
    assert capped == pytest.approx(0.005) and free == pytest.approx(0.02)
    no_delta = Options(delta_nominal=math.inf, delta_max=math.inf)
    assert corrector_factor(Options(), delta=0.32, kappa=0.0) == pytest.approx(0.25)
    assert corrector_factor(no_delta, delta=0.32, kappa=0.0) == no_delta.growth_max
    no_kappa = Options(kappa_nominal=math.inf, kappa_max=math.inf)
    assert corrector_factor(no_kappa, delta=0.0, kappa=0.8) == no_kappa.growth_max


@given(st.floats(0.01, 100.0))
def test_the_lipschitz_cap_is_measured_on_the_function_when_there_are_outputs(scale):
    """The same function in rescaled weights ``u = S theta``: with outputs the steps are the same, without
    them the weight-space estimate of the Theorem 2 bound moves them."""
    def traced(weights, outputs):
        def residual(theta, eps):  # Gauss-Newton solves it in one step: the step rules alone set the steps
            u = weights * theta
            return u - torch.stack([torch.sin(5 * eps), torch.cos(5 * eps)])

        theta0 = torch.tensor([math.sin(5.0), math.cos(5.0)], dtype=DT) / weights
        result = continuation.trace(residual, theta0, [1.0, 0.0], corrector="gauss-newton", options=TIGHT,
                                    outputs=(lambda theta: weights * theta) if outputs else None)
        assert result.success, result.message
        return np.array(result.eps)

    plain, rescaled = torch.tensor([1.0, 1.0], dtype=DT), torch.tensor([scale, 1.0], dtype=DT)
    same = traced(plain, True), traced(rescaled, True)
    assert len(same[0]) > 5 and len(same[0]) == len(same[1]) and np.allclose(*same, rtol=0, atol=1e-9)
    if abs(math.log10(scale)) > 1:  # without outputs the cap is measured on the weights
        weights_only = traced(plain, False), traced(rescaled, False)
        assert len(weights_only[0]) != len(weights_only[1]) or not np.allclose(*weights_only, atol=1e-9)


def test_a_prediction_outside_the_linear_regime_does_not_throw_the_trace_onto_another_branch():
    """``theta^3 - theta - eps`` has roots near -1, 0 and 1. A velocity that leaves the linear regime (here a
    wrong one, as a network's can be near a branch point) would start the corrector near the root at -1; the
    corrector starts from the last point instead, whose residual is the smaller, and stays on the branch."""
    class Wild:
        def velocity(self, problem, theta, eps, previous):
            return torch.full_like(theta, 1e3)

    cubic = continuation.as_residual_map(lambda theta, eps: theta**3 - theta - eps)
    theta0 = continuation.GaussNewton().correct(cubic, theta_near(1.0), torch.tensor(0.1, dtype=DT),
                                                iterations=50, tol=1e-14).theta
    result = continuation.trace(cubic, theta0, [0.1, 0.0], predictor=Wild(), corrector="gauss-newton",
                                adaptive=False, options=TIGHT)
    assert result.success and float(result.theta) == pytest.approx(1.0, abs=1e-10)
    assert "corrected from the last point" in result.steps[-1].reason
    followed = continuation.GaussNewton().correct(cubic, theta0 - 100, torch.tensor(0.0, dtype=DT), iterations=60,
                                                  tol=1e-12)
    assert float(followed.theta) == pytest.approx(-1.0, abs=1e-8)  # where the prediction would have led


def test_a_residual_whose_eps_derivative_vanishes_is_named_before_the_trace():
    # -eps u'' + u - 1 with a ReLU network u: u'' = 0 wherever it exists, so the residual does not depend on eps
    torch.manual_seed(0)
    theta0 = torch.randn(24, dtype=DT)  # one hidden layer of 8: weights, biases, output weights

    def u(theta, x):
        return torch.relu(theta[:8] * x + theta[8:16]) @ theta[16:]

    def interior(theta, x, eps):
        u_xx = torch.func.grad(torch.func.grad(lambda y: u(theta, y)))(x[0])
        return -eps * u_xx + u(theta, x[0]) - 1.0

    relu = continuation.PointwiseResidual(interior, torch.linspace(0.05, 0.95, 10, dtype=DT)[:, None])
    with pytest.warns(RuntimeWarning, match=r"eps_path\[0\]=1\) is zero at all 10 .* does not depend on eps"):
        continuation.trace(relu, theta0, [1.0, 0.5], options=Options(max_steps=2))
    # eps cut from the graph by float(): the values change with eps, the derivative does not see it
    with pytest.warns(RuntimeWarning, match="eps is cut from the autograd graph"):
        continuation.trace(lambda theta, eps: theta - float(eps), torch.zeros(2, dtype=DT), [1.0, 0.5])


def test_a_derivative_that_vanishes_at_the_start_only_is_not_warned_about(recwarn):
    # a trivial branch: theta = 0 solves eps^2 theta^3 + theta - theta^3 = 0 for every eps, and dH/deps =
    # 2 eps theta^3 vanishes there and only there; a circle theta^2 + eps^2 = 1, stationary in eps at eps = 0
    trivial = continuation.FunctionResidual(lambda theta, eps: eps**2 * theta**3 + theta - theta**3)
    continuation.trace(trivial, torch.zeros(1, dtype=DT), [0.5, 0.4], options=Options(max_steps=2))
    circle = continuation.FunctionResidual(lambda theta, eps: theta**2 + eps**2 - 1)
    continuation.trace(circle, torch.ones(1, dtype=DT), [0.0, 0.5], options=Options(max_steps=2))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
