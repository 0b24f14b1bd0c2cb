"""The Euler predictor judged on the function (``Options.function_weight``).

With outputs ``u(theta)`` the velocity solves ``min ||J v + h||^2 + w^2 ||U v||^2``
with ``w = function_weight * s_max(J) / s_max(U)``. On a diagonal problem with
``u = theta`` that is Tikhonov's filter, known in closed form; the velocity
does not depend on the units of the residual or of the function; with weight
0 it is the weight-space velocity ``-J^+ h``.
"""

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import continuation
from continuation import EulerPredictor, FunctionResidual, Options
from continuation.predictors import largest_singular_value
from continuation.setup import check_inputs

DT = torch.float64
EPS = torch.tensor(0.5, dtype=DT)

singular_values = st.lists(st.floats(1e-6, 1e3), min_size=2, max_size=6)


def diagonal_problem(s, h):
    """``H(theta, eps) = diag(s) theta + eps h``: ``J = diag(s)``, ``dH/deps = h``."""
    s, h = torch.tensor(s, dtype=DT), torch.tensor(h, dtype=DT)
    return FunctionResidual(lambda theta, eps: s * theta + eps * h), s, h


@settings(max_examples=30, deadline=None)
@given(singular_values, st.floats(1e-4, 1e-1))
def test_the_velocity_is_tikhonov_filtered_by_the_function_weight(s, function_weight):
    problem, s, h = diagonal_problem(s, [1.0] * len(s))
    velocity = EulerPredictor(rcond=1e-14, function_weight=function_weight, outputs=lambda t: t).velocity(
        problem, torch.zeros(len(s), dtype=DT), EPS, None)
    w = function_weight * largest_singular_value(torch.diag(s))  # U = I: s_max(U) = 1; s_max(J) as estimated
    expected = -s * h / (s**2 + w**2)
    assert torch.allclose(velocity, expected, rtol=1e-8, atol=0)


@settings(max_examples=20, deadline=None)
@given(singular_values, st.floats(1e-3, 1e3), st.floats(1e-3, 1e3))
def test_the_velocity_does_not_depend_on_the_units_of_residual_or_function(s, residual_unit, function_unit):
    problem, s, h = diagonal_problem(s, [1.0] * len(s))
    theta = torch.zeros(len(s), dtype=DT)
    plain = EulerPredictor(rcond=1e-14, function_weight=1e-2, outputs=lambda t: t).velocity(problem, theta, EPS, None)
    scaled_problem = FunctionResidual(lambda t, e: residual_unit * problem(t, e))
    scaled = EulerPredictor(rcond=1e-14, function_weight=1e-2, outputs=lambda t: function_unit * t).velocity(
        scaled_problem, theta, EPS, None)
    assert torch.allclose(scaled, plain, rtol=1e-6, atol=0)


def test_weight_zero_or_no_outputs_is_the_weight_space_velocity():
    problem, s, h = diagonal_problem([3.0, 1e-5], [1.0, 1.0])
    theta = torch.zeros(2, dtype=DT)
    expected = continuation.pinv_solve(torch.diag(s), -h, 1e-12)
    for predictor in (EulerPredictor(rcond=1e-12, function_weight=0.0, outputs=lambda t: t),
                      EulerPredictor(rcond=1e-12, function_weight=1e-3)):
        assert torch.allclose(predictor.velocity(problem, theta, EPS, None), expected, rtol=1e-12, atol=0)


def test_a_weakly_pinned_direction_is_damped_and_a_firm_one_kept():
    # s = 3 (firm) and 1e-6 (weak) against w = 1e-3 * 3: the firm component keeps its
    # velocity to (w / 3)^2 = 1e-6 relative, the weak one is cut by (1e-6 / w)^2
    problem, s, h = diagonal_problem([3.0, 1e-6], [1.0, 1e-6])
    velocity = EulerPredictor(rcond=1e-14, function_weight=1e-3, outputs=lambda t: t).velocity(
        problem, torch.zeros(2, dtype=DT), EPS, None)
    weight_space = -h / s  # [-1/3, -1]
    assert math.isclose(float(velocity[0]), float(weight_space[0]), rel_tol=2e-6)
    assert abs(float(velocity[1])) < 1e-6 * abs(float(weight_space[1]))


def test_trace_hands_the_residual_maps_outputs_to_the_euler_predictor():
    problem = FunctionResidual(lambda t, e: t - e, outputs=lambda t: 2 * t)
    theta0 = torch.zeros(2, dtype=DT)
    arguments = dict(method="natural", corrector="lm", adaptive=True, callback=None, diagnostics=None,
                     inner_product=None, corrector_state=None, resume=None)
    named = check_inputs(problem, theta0, [1.0, 0.5], predictor="euler", options=None, **arguments).predictor
    assert named.outputs is not None and named.function_weight == Options().function_weight
    off = check_inputs(problem, theta0, [1.0, 0.5], predictor="euler", options=Options(function_weight=0.0),
                       **arguments).predictor
    assert off.function_weight == 0.0
    mine = EulerPredictor()
    assert check_inputs(problem, theta0, [1.0, 0.5], predictor=mine, options=None, **arguments).predictor is mine


def test_function_weight_is_validated():
    for bad in (-1e-3, math.inf, math.nan):
        try:
            Options(function_weight=bad)
        except ValueError as error:
            assert "function_weight" in str(error)
        else:
            raise AssertionError(f"function_weight={bad!r} was accepted")


class _OutputsWithJacobian:
    """``u = theta`` with its own Jacobian, counting the calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, theta):
        return theta

    def jacobian(self, theta):
        self.calls += 1
        return torch.eye(theta.numel(), dtype=theta.dtype)


def test_the_outputs_own_jacobian_is_used_and_gives_the_same_velocity():
    problem, s, h = diagonal_problem([3.0, 1e-6], [1.0, 1e-6])
    own = _OutputsWithJacobian()
    theta = torch.zeros(2, dtype=DT)
    assert torch.equal(continuation.output_jacobian(own, theta), torch.eye(2, dtype=DT)) and own.calls == 1
    with_own = EulerPredictor(rcond=1e-14, function_weight=1e-3, outputs=own).velocity(problem, theta, EPS, None)
    plain = EulerPredictor(rcond=1e-14, function_weight=1e-3, outputs=lambda t: t).velocity(problem, theta, EPS, None)
    assert own.calls == 2 and torch.allclose(with_own, plain, rtol=1e-12, atol=0)


def test_too_many_plain_outputs_keep_the_weight_space_velocity_and_say_so(monkeypatch):
    import pytest

    from continuation import predictors

    monkeypatch.setattr(predictors, "MAX_PLAIN_OUTPUTS", 1)
    problem, s, h = diagonal_problem([3.0, 1e-6], [1.0, 1e-6])
    theta = torch.zeros(2, dtype=DT)
    predictor = EulerPredictor(rcond=1e-14, function_weight=1e-3, outputs=lambda t: t)
    with pytest.warns(RuntimeWarning, match="2 values and no jacobian"):
        velocity = predictor.velocity(problem, theta, EPS, None)
    assert torch.allclose(velocity, -h / s, rtol=1e-12, atol=0)  # the weight-space velocity
    own = EulerPredictor(rcond=1e-14, function_weight=1e-3, outputs=_OutputsWithJacobian())
    assert abs(float(own.velocity(problem, theta, EPS, None)[1])) < 1e-6  # with its own Jacobian: weighted
