"""Residual maps: the vmapped pointwise derivatives against plain torch.func transforms."""

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
