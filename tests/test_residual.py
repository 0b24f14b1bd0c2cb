"""Residual maps: the vmapped pointwise derivatives against plain torch.func transforms."""

import pytest
import torch
from torch.func import jacfwd, jacrev

from continuation import FunctionResidual, PointwiseResidual, StackedResidual

torch.manual_seed(0)
DT = torch.float64


def point_fn(theta, x, eps):
    return torch.stack([torch.sin(theta[0] * x[0]) * eps**2 + theta[1] * x[1], theta[2] * eps * x.sum()])


def batched(theta, points, eps):
    return torch.stack([point_fn(theta, x, eps) for x in points]).reshape(-1) / points.shape[0] ** 0.5


def test_pointwise_derivatives_match_batched_transforms():
    points = torch.randn(7, 2, dtype=DT)
    theta, eps = torch.randn(3, dtype=DT), torch.tensor(0.3, dtype=DT)
    H = PointwiseResidual(point_fn, points)
    torch.testing.assert_close(H(theta, eps), batched(theta, points, eps))
    torch.testing.assert_close(H.jacobian(theta, eps), jacrev(batched)(theta, points, eps))
    torch.testing.assert_close(H.eps_derivative(theta, eps), jacfwd(batched, argnums=2)(theta, points, eps))
    value, jac = H.linearize(theta, eps)
    torch.testing.assert_close(value, H(theta, eps))
    torch.testing.assert_close(jac, H.jacobian(theta, eps))


def test_stacked_blocks_agree_with_a_function_residual():
    a = PointwiseResidual(point_fn, torch.randn(5, 2, dtype=DT))
    b = PointwiseResidual(point_fn, torch.randn(2, 2, dtype=DT), weight=3.0)
    H = StackedResidual([a, b])
    F = FunctionResidual(lambda theta, eps: torch.cat([a(theta, eps), b(theta, eps)]))
    theta, eps = torch.randn(3, dtype=DT), torch.tensor(-0.7, dtype=DT)
    torch.testing.assert_close(H.jacobian(theta, eps), F.jacobian(theta, eps))
    torch.testing.assert_close(H.eps_derivative(theta, eps), F.eps_derivative(theta, eps))
    torch.testing.assert_close(H.linearize(theta, eps)[1], F.jacobian(theta, eps))


def test_a_plain_callable_block_is_stacked_as_a_function_residual():
    """A constraint row written as a function (a normalisation, say) stacks with pointwise blocks; anything else
    is refused before any work with the index of the block."""
    a = PointwiseResidual(point_fn, torch.randn(5, 2, dtype=DT))
    row = lambda theta, eps: (theta.square().sum() - eps).reshape(1)  # noqa: E731
    H = StackedResidual([a, row])
    F = FunctionResidual(lambda theta, eps: torch.cat([a(theta, eps), row(theta, eps)]))
    theta, eps = torch.randn(3, dtype=DT), torch.tensor(0.4, dtype=DT)
    torch.testing.assert_close(H.jacobian(theta, eps), F.jacobian(theta, eps))
    torch.testing.assert_close(H.eps_derivative(theta, eps), F.eps_derivative(theta, eps))
    with pytest.raises(TypeError, match=r"blocks\[1\] must be a ResidualMap or a callable block\(theta, eps\), got str"):
        StackedResidual([a, "boundary"])


def shifted(theta, x, eps):
    """A pointwise residual with a Python float in it: ``(eps theta_0 - 1.0) x``, zero at ``theta_0 = 1 / eps``."""
    return (eps * theta[0] - 1.0) * x[0]


def test_forward_derivatives_of_a_float32_residual_are_float32_and_exact():
    # torch's forward mode promotes the tangent of `value - 1.0` to float64 (pytorch/pytorch#90065);
    # the engine casts it back, so a float32 trace is not stopped by a dtype check it did not cause
    points = torch.linspace(0.0, 1.0, 5)[:, None]
    theta, eps, v = torch.tensor([2.0]), torch.tensor(0.5), torch.tensor([3.0])
    exact_eps_derivative = theta[0] * points[:, 0] / 5**0.5      # d/deps (eps theta_0 - 1) x / sqrt(N)
    exact_jv = eps * v[0] * points[:, 0] / 5**0.5
    for H in (PointwiseResidual(shifted, points),
              FunctionResidual(lambda t, e: torch.stack([shifted(t, x, e) for x in points]) / 5**0.5)):
        derivative = H.eps_derivative(theta, eps)
        _, jvp, _ = H.products(theta, eps)
        assert derivative.dtype == torch.float32 and jvp(v).dtype == torch.float32
        torch.testing.assert_close(derivative, exact_eps_derivative)
        torch.testing.assert_close(jvp(v), exact_jv)


def test_a_float32_residual_with_python_constants_traces_end_to_end():
    import continuation

    points = torch.linspace(0.1, 1.0, 4)[:, None]
    result = continuation.trace(PointwiseResidual(shifted, points), torch.tensor([1.0]), [1.0, 0.5],
                                options=continuation.Options(tol=1e-5))
    assert result.success and result.thetas.dtype == torch.float32
    # ||H|| = |eps theta - 1| rms(x) <= tol = 1e-5 with eps = 0.5, rms(x) = 0.64: |theta - 2| <= 3.1e-5
    assert abs(float(result.theta[0]) - 2.0) <= 1e-5 / (0.5 * float(points.pow(2).mean().sqrt()))
