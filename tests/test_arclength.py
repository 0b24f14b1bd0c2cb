"""Pseudo-arclength continuation: folds found once and located, both directions; Bratu."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import continuation
from continuation import Options, Status
from pde import LAMBDA_CRITICAL, BratuFD, bratu_exact

DT = torch.float64


def s_curve(a, c):
    """(x - c)^3 - a (x - c) + lam = 0: folds at lam = +-(2a/3) sqrt(a/3)."""
    return lambda theta, lam: (theta - c) ** 3 - a * (theta - c) + lam


def real_root(a, c, lam, largest):
    roots = np.roots([1.0, 0.0, -a, lam])
    real = sorted(r.real for r in roots if abs(r.imag) < 1e-9)
    return (real[-1] if largest else real[0]) + c


@given(a=st.floats(0.5, 3.0), c=st.floats(-1.0, 1.0), increasing=st.booleans())
@settings(max_examples=15)
def test_every_fold_of_an_s_curve_is_found_once_and_located(a, c, increasing):
    fold = (2 * a / 3) * math.sqrt(a / 3)
    span = 2 * fold + 1.0
    start, end = (-span, span) if increasing else (span, -span)
    # from lam = -span the only real root is the largest; from +span the smallest
    theta0 = torch.tensor([real_root(a, c, start, largest=increasing) + 1e-3], dtype=DT)
    result = continuation.trace(
        s_curve(a, c), theta0, [start, end], method="arclength",
        options=Options(tol=1e-12, ds_max=0.2, max_steps=2000),
    )
    assert result.status is Status.LEFT_RANGE and result.success, result.message
    expected = [fold, -fold] if increasing else [-fold, fold]
    assert [e.kind for e in result.events] == ["fold", "fold"]
    assert [e.eps for e in result.events] == pytest.approx(expected, abs=1e-8)
    assert result.eps[-1] == end  # landed on the far end of the range
    # at each fold the state is where dH/dx = 0
    for event in result.events:
        assert abs(abs(float(event.theta[0]) - c) - math.sqrt(a / 3)) < 1e-4


def test_the_step_beyond_the_range_is_not_counted_as_a_point_of_the_path():
    result = continuation.trace(s_curve(1.0, 0.0), torch.tensor([real_root(1.0, 0.0, -2.0, True)], dtype=DT),
                                [-2.0, 2.0], method="arclength", options=Options(tol=1e-12))
    assert result.status is Status.LEFT_RANGE
    assert result.accepted == len(result.eps) == len(result.residual_norms)
    beyond = result.steps[-2]
    assert not beyond.accepted and beyond.eps > 2.0 and "beyond the range" in beyond.reason
    assert [s.step for s in result.steps] == list(range(len(result.steps)))  # each row numbered by its place
    assert result.steps[-1].accepted and result.eps[-1] == 2.0


def test_arclength_table_has_tangent_and_arclength():
    result = continuation.trace(s_curve(1.0, 0.0), torch.tensor([real_root(1.0, 0.0, -2.0, True)], dtype=DT),
                                [-2.0, 2.0], method="arclength", options=Options(tol=1e-12))
    accepted = [s for s in result.steps[1:] if s.accepted and s.tangent_eps is not None]
    assert accepted and all(s.arclength > 0 and s.ds > 0 for s in accepted)
    assert any(s.tangent_eps < 0 for s in accepted) and any(s.tangent_eps > 0 for s in accepted)


FD_OPTIONS = Options(rcond=1e-12, tol=1e-9, ds_max=0.5)


def test_bratu_finite_differences_round_the_fold():
    """Lower branch at lam = 1, round the fold, back to lam = 1 on the upper branch (200 points)."""
    problem = BratuFD(200)
    result = continuation.trace(problem, torch.zeros(200, dtype=DT), [1.0, 4.0], method="arclength",
                                options=FD_OPTIONS)
    assert result.status is Status.LEFT_RANGE, result.message
    assert len(result.events) == 1
    assert abs(result.events[0].eps - LAMBDA_CRITICAL) / LAMBDA_CRITICAL < 1e-3
    assert result.eps[0] == result.eps[-1] == 1.0
    half = torch.tensor([0.5])
    lower, upper = (float(bratu_exact(half, 1.0, b)[0]) for b in ("lower", "upper"))
    assert abs(problem.midpoint(result.thetas[0]) - lower) / lower < 1e-3
    assert abs(problem.midpoint(result.theta) - upper) / upper < 1e-3


def test_natural_continuation_stops_cleanly_at_the_bratu_fold():
    problem = BratuFD(100)
    result = continuation.trace(problem, torch.zeros(100, dtype=DT), [1.0, 4.0], options=FD_OPTIONS)
    assert result.status is Status.STEP_TOO_SMALL and not result.success
    assert "try method='arclength'" in result.message
    assert abs(result.eps[-1] - LAMBDA_CRITICAL) < 1e-2
    assert len(result.thetas) == len(result.eps) > 2
