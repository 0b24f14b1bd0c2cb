r"""Derivatives in ``x`` of a scalar field ``u(x)`` of one point, for pointwise residuals.

Each helper takes a function ``u`` of one point ``x`` (a 1-D tensor of ``d``
coordinates) returning a scalar, and returns another such function, built
with :mod:`torch.func` so that it can be vmapped over points and
differentiated again in the weights. Inside a residual ``fn(theta, x, eps)``
close over the weights first: ``laplacian(lambda y: u(theta, y))(x)``.

=================  ==========================================================  ========
helper             value at ``x``                                              shape
=================  ==========================================================  ========
:func:`gradient`   :math:`\nabla u(x)`                                          ``(d,)``
:func:`partial`    :math:`\partial u / \partial x_i`                            ``()``
:func:`laplacian`  :math:`\Delta u = \sum_i \partial^2 u / \partial x_i^2`      ``()``
=================  ==========================================================  ========

Networks that know their own Laplacian (:meth:`models.MLP.apply_with_laplacian`,
tanh and sin) are faster still; :meth:`pde.NetworkProblem.u_and_laplacian`
picks it when it can.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.func import grad, jvp

__all__ = ["gradient", "partial", "laplacian"]

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


def partial(u: Field, axis: int) -> Field:
    """``x -> du/dx_axis``, one component of the gradient, a scalar.

    Examples
    --------
    >>> import torch
    >>> u_y = partial(lambda x: x[0] * x[1] ** 2, axis=1)
    >>> u_y(torch.tensor([3.0, 2.0]))
    tensor(12.)
    """
    if isinstance(axis, bool) or not isinstance(axis, int) or axis < 0:
        raise ValueError(f"axis must be a non-negative integer, got {axis!r}")
    gradient_u = grad(u)
    return lambda x: gradient_u(x)[axis]


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
        eye = torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
        total = x.new_zeros(())
        for i in range(x.shape[0]):
            total = total + jvp(gradient_u, (x,), (eye[i],))[1][i]
        return total

    return lap
