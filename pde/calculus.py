"""Derivatives of a scalar field ``u(x)`` of one point, for pointwise residuals."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.func import grad, jvp

__all__ = ["gradient", "laplacian"]

Field = Callable[[Tensor], Tensor]


def gradient(u: Field) -> Field:
    """``x -> grad u(x)`` for a scalar field of one point ``x`` of shape ``(d,)``.

    Examples
    --------
    >>> import torch
    >>> g = gradient(lambda x: (x**2).sum())
    >>> g(torch.tensor([1.0, 2.0]))
    tensor([2., 4.])
    """
    return grad(u)


def laplacian(u: Field) -> Field:
    """``x -> sum_i d^2u/dx_i^2``, one forward-over-reverse product per axis.

    No Hessian matrix is formed: axis ``i`` costs one Jacobian-vector product
    of the gradient along ``e_i`` and only its ``i``-th component is kept, so
    the cost grows linearly in ``d`` with a small constant.

    Examples
    --------
    >>> import torch
    >>> lap = laplacian(lambda x: (x**2).sum() + x[0] * x[1])
    >>> lap(torch.tensor([1.0, 2.0, 3.0]))
    tensor(6.)
    """
    gradient_u = grad(u)

    def lap(x: Tensor) -> Tensor:
        eye = torch.eye(x.shape[0], dtype=x.dtype)
        total = x.new_zeros(())
        for i in range(x.shape[0]):
            total = total + jvp(gradient_u, (x,), (eye[i],))[1][i]
        return total

    return lap
