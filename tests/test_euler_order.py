"""Pure homotopy dynamics (Euler predictor, no corrector) converges with order 1.

Random smooth paths with known exact solutions theta*(eps); the error at the
end of the path is measured for several step sizes and the slope of
log(error) against log(step) is fitted, as diffrax does for its solvers.
"""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import continuation

DT = torch.float64
STEPS = [10, 20, 40, 80]


def exact_path(coefficients):
    """theta*(eps) = c0 + c1 exp(eps) + c2 sin(eps) with |c1| >= 0.2 in every component.

    For a linear residual the Euler error at eps = 1 is h/2 (v(1) - v(0)) + O(h^2),
    with v = theta*' = c1 exp(eps) + c2 cos(eps): the exp term keeps it away from 0.
    """
    c0, c1, c2 = coefficients

    def theta_star(eps):
        return c0 + c1 * torch.exp(eps) + 0.1 * c2 * torch.sin(eps)

    return theta_star


def fitted_order(residual, theta_star, eps0=0.0, eps1=1.0):
    errors, steps = [], []
    for n in STEPS:
        path = np.linspace(eps0, eps1, n + 1)
        theta0 = theta_star(torch.tensor(eps0, dtype=DT))
        result = continuation.trace(residual, theta0, path, corrector="none", adaptive=False)
        # pure Euler reaches the end; success only if the last point happens to be within tol
        final = float(torch.linalg.vector_norm(residual(result.theta, torch.tensor(eps1, dtype=DT))))
        assert result.status is (continuation.Status.SUCCESS if final <= 1e-5 else continuation.Status.NOT_CONVERGED)
        assert len(result.eps) == n + 1 and result.eps[-1] == eps1
        errors.append(float(torch.linalg.vector_norm(result.theta - theta_star(torch.tensor(eps1, dtype=DT)))))
        steps.append((eps1 - eps0) / n)
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    return slope, errors


def coefficients(p):
    vectors = st.lists(st.floats(-1.0, 1.0), min_size=p, max_size=p)
    slopes = st.lists(st.floats(0.2, 1.0) | st.floats(-1.0, -0.2), min_size=p, max_size=p)
    return st.tuples(vectors, slopes, vectors).map(lambda t: [torch.tensor(v, dtype=DT) for v in t])


@st.composite
def linear_problems(draw):
    p = draw(st.integers(1, 5))
    m = draw(st.integers(p, 8))  # square or tall, full column rank
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    a = torch.from_numpy(rng.standard_normal((m, p)) + 3 * np.eye(m, p))
    return a, draw(coefficients(p))


@given(linear_problems())
def test_euler_is_first_order_on_linear_paths(problem):
    a, coeffs = problem
    theta_star = exact_path(coeffs)
    slope, errors = fitted_order(lambda theta, eps: a @ theta - a @ theta_star(eps), theta_star)
    assert 0.9 <= slope <= 1.1, (slope, errors)


@given(coefficients(3), st.floats(0.5, 2.0))
def test_euler_is_first_order_on_nonlinear_paths(coeffs, k):
    theta_star = exact_path(coeffs)

    def residual(theta, eps):  # g(theta) = g(theta*(eps)), g monotone, so theta*(eps) is the path
        g = lambda t: t**3 + k * t + torch.sin(t)  # noqa: E731
        return g(theta) - g(theta_star(eps))

    slope, errors = fitted_order(residual, theta_star)
    assert 0.9 <= slope <= 1.1, (slope, errors)
