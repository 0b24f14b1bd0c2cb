"""Every corrector against small least-squares problems of more than one unknown (a test matrix, as in optimistix).

The reference is :func:`scipy.optimize.least_squares` (trust-region reflective,
tight tolerances) on the same problem from the same start: each corrector must
reach its final ``||H||`` (zero, or the floor of an inconsistent system), and
say why it stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import scipy.optimize
import torch

from continuation import Adam, FunctionResidual, GaussNewton, LBFGS, LevenbergMarquardt, Newton
from continuation.correctors import Stop

DT = torch.float64
EPS = torch.tensor(1.0, dtype=DT)


@dataclass
class Problem:
    name: str
    residual: Callable[[torch.Tensor], torch.Tensor]
    start: list[float]


PROBLEMS = [
    Problem("rosenbrock", lambda x: torch.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]]), [-1.2, 1.0]),
    Problem("nonzero floor", lambda x: torch.stack([x[0] - 1, x[1] - 2, x[0] * x[1] - 1, torch.sin(x[0])]), [0.5, 0.5]),
    Problem("rank deficient", lambda x: torch.stack([x[0] + x[1] - 2, 2 * (x[0] + x[1]) - 4, (x[0] + x[1]) ** 2 - 4]),
            [3.0, 1.5]),
    Problem("overdetermined, zero residual",
            lambda x: torch.stack([x[0] ** 2 + x[1] ** 2 - 2, x[0] - x[1], torch.exp(x[0] - 1) - 1]), [2.0, 0.3]),
    Problem("exponential fit, floor",
            lambda x: x[0] * torch.exp(-x[1] * torch.linspace(0, 2, 7, dtype=DT)) + x[2]
            - torch.tensor([2.1, 1.4, 1.05, 0.8, 0.62, 0.55, 0.52], dtype=DT), [1.0, 1.0, 0.0]),
]

CORRECTORS = {
    # name: (corrector, budget, relative excess of ||H|| over scipy's allowed, absolute ||H|| always allowed)
    "lm": (lambda: LevenbergMarquardt(), 200, 1e-9, 1e-10),
    "gauss-newton": (lambda: GaussNewton(rcond=1e-12), 200, 1e-9, 1e-10),
    "lbfgs": (lambda: LBFGS(), 300, 1e-7, 1e-10),
    "newton": (lambda: Newton(rcond=1e-12), 100, 1e-9, 1e-10),
    "adam": (lambda: Adam(lr=2e-2), 4_000, 1e-2, 1e-5),  # first order, a fixed learning rate: a looser promise
}


def reference_norm(problem: Problem) -> float:
    """``||H||`` at scipy's least-squares solution from the same start."""
    fun = lambda x: problem.residual(torch.from_numpy(x)).numpy()  # noqa: E731
    solution = scipy.optimize.least_squares(fun, np.array(problem.start), xtol=1e-15, ftol=1e-15, gtol=1e-15)
    return float(np.linalg.norm(solution.fun))


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
@pytest.mark.parametrize("name", list(CORRECTORS))
def test_every_corrector_reaches_the_least_squares_solution(name, problem):
    make, budget, excess, allowed = CORRECTORS[name]
    if name == "newton" and problem.name == "rosenbrock":
        pytest.skip("exact Newton on the loss is not globalised: from (-1.2, 1) it stops at a saddle (its point)")
    H = FunctionResidual(lambda theta, eps: problem.residual(theta))
    start = torch.tensor(problem.start, dtype=DT)
    tol = 1e-10
    result = make().correct(H, start, EPS, iterations=budget, tol=tol)
    reference = reference_norm(problem)
    assert isinstance(result.stop, Stop) and result.message == result.stop.value
    assert result.iterations <= budget
    assert result.residual_norm == pytest.approx(float(torch.linalg.vector_norm(H(result.theta, EPS))), rel=1e-12)
    if result.converged:
        assert result.stop is Stop.CONVERGED and result.residual_norm <= tol
    assert result.residual_norm <= max(reference * (1 + excess), allowed), (result.stop, result.residual_norm, reference)
    if reference > 1e-6 and name in ("lm", "gauss-newton"):  # a true floor: found, and said so
        assert result.stop in (Stop.STATIONARY, Stop.STALLED), result.stop


@pytest.mark.parametrize("name", ["lm", "gauss-newton"])
def test_second_order_correctors_never_raise_the_loss(name):
    problem = PROBLEMS[4]
    H = FunctionResidual(lambda theta, eps: problem.residual(theta))
    norms = [CORRECTORS[name][0]().correct(H, torch.tensor(problem.start, dtype=DT), EPS, iterations=k,
                                            tol=0.0).residual_norm for k in range(15)]
    assert all(b <= a for a, b in zip(norms, norms[1:])), norms


@pytest.mark.parametrize("name", list(CORRECTORS))
def test_a_degenerate_jacobian_or_a_nan_is_reported_as_such(name):
    make = CORRECTORS[name][0]
    cut = FunctionResidual(lambda theta, eps: (theta**2 - 4.0).detach())
    nan = FunctionResidual(lambda theta, eps: theta * math.nan)
    start = torch.ones(2, dtype=DT)
    if name in ("lm", "gauss-newton"):
        assert make().correct(cut, start, EPS, iterations=5, tol=1e-10).stop is Stop.DEGENERATE_JACOBIAN
    assert make().correct(nan, start, EPS, iterations=5, tol=1e-10).stop is Stop.NON_FINITE


def test_levenberg_marquardt_stops_within_its_retry_bound_on_a_flat_loss():
    flat = FunctionResidual(lambda theta, eps: torch.stack([torch.tanh(100 * theta[0]) - 2.0, theta[1] * 0 + 1.0]))
    result = LevenbergMarquardt().correct(flat, torch.tensor([5.0, 0.0], dtype=DT), EPS, iterations=1000, tol=1e-12)
    assert result.stop in (Stop.STALLED, Stop.STATIONARY, Stop.DEGENERATE_JACOBIAN)
    assert result.iterations < 1000


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
@pytest.mark.parametrize("name", ["lm", "gauss-newton"])
def test_a_correction_in_two_pieces_that_hand_on_the_state_is_one_run(name, problem):
    """What ``stepping.finish_correction`` relies on: the last step of a trace is corrected for
    ``corrector_iterations`` (and judged), then on from there with the state handed on; for
    Levenberg-Marquardt (state: the damping) and Gauss-Newton (no state) that is the same run, iterate for
    iterate, as one correction of the whole budget."""
    H = FunctionResidual(lambda theta, eps: problem.residual(theta))
    start, make = torch.tensor(problem.start, dtype=DT), CORRECTORS[name][0]
    whole = make().correct(H, start, EPS, iterations=12, tol=0.0)
    first = make().correct(H, start, EPS, iterations=4, tol=0.0)
    if first.stop is not Stop.BUDGET:  # stopped within the first piece: nothing to go on with
        assert torch.equal(first.theta, whole.theta)
        return
    rest = make().correct(H, first.theta, EPS, iterations=12 - first.iterations, tol=0.0, state=first.state)
    assert torch.equal(rest.theta, whole.theta) and rest.stop is whole.stop
    assert first.iterations + rest.iterations == whole.iterations
