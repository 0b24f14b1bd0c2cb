r"""Boundary conditions as residual blocks, and hard constraints.

A *soft* condition is a block of residuals at boundary points, stacked with
the interior block (:class:`continuation.StackedResidual`) and weighted by
``weight``: the least-squares problem is then

.. math::

    \min_\theta \; \frac{1}{N} \sum_{i=1}^{N} r(x_i)^2
    + \frac{w^2}{N_b} \sum_{j=1}^{N_b} b(x_j)^2 .

Each block is divided by the square root of its point count, so a block's
weight does not change with the number of points; ``w = 1`` (the default)
counts the two mean squares alike. The weight changes the answer only where
a residual floor remains (then it shares the leftover misfit between the
equation and the data); a large ``w`` also makes the least-squares problem
worse conditioned. Start at ``w = 1``: on the boundary-layer example of the
guide ``w = 1, 10, 100`` gave relative errors 2.0e-5, 8.3e-4 and 3.4e-3.

A *hard* constraint builds the boundary values into the network,
``u(x) = g(x) + d(x) N(x)`` with ``d = 0`` on the boundary
(:func:`hard_constraint`); no boundary block is needed then.

The network enters as ``u(theta, x)``, a scalar at one point ``x`` of shape
``(d,)``; data ``g`` as ``g(x, eps)`` or a constant.
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

import torch
from torch import Tensor
from torch.func import grad

from continuation import PointwiseResidual

__all__ = ["dirichlet", "neumann", "periodic", "hard_constraint"]

Network = Callable[[Tensor, Tensor], Tensor]
Data = Union[float, Callable[[Tensor, Tensor], Tensor]]


def _data(g: Data, name: str = "g") -> Callable[[Tensor, Tensor], Tensor]:
    if callable(g):
        return g
    if isinstance(g, (int, float)) and not isinstance(g, bool):
        value = float(g)
        return lambda x, eps: x.new_tensor(value)
    raise TypeError(f"{name} must be a number or a callable g(x, eps), got {type(g).__name__}")


def _network(u: Network) -> Network:
    if not callable(u):
        raise TypeError(f"u must be a callable u(theta, x), got {type(u).__name__}")
    return u


def dirichlet(u: Network, g: Data, points: Tensor, *, weight: float = 1.0) -> PointwiseResidual:
    """The block ``u(x_j) - g(x_j, eps)`` at the boundary points ``x_j``.

    Examples
    --------
    >>> import torch
    >>> u = lambda theta, x: theta[0] + theta[1] * x[0]
    >>> block = dirichlet(u, 1.0, torch.tensor([[0.0], [1.0]], dtype=torch.float64))
    >>> block(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor(0.0))
    tensor([0.0000, 1.4142], dtype=torch.float64)
    """
    u, g = _network(u), _data(g)
    return PointwiseResidual(lambda theta, x, eps: u(theta, x) - g(x, eps), points, weight)


def neumann(
    u: Network, g: Data, points: Tensor, normals: Tensor, *, weight: float = 1.0
) -> PointwiseResidual:
    """The block ``grad u(x_j) . n_j - g(x_j, eps)``: the outward normal derivative against data.

    Parameters
    ----------
    u, g
        The network ``u(theta, x)`` and the data.
    points, normals
        Boundary points and their outward unit normals, both ``(N, d)``
        (:func:`pde.sampling.box_boundary` with ``normals=True`` gives both).
    weight
        Block weight.

    Examples
    --------
    >>> import torch
    >>> u = lambda theta, x: theta[0] * x[0] ** 2
    >>> x, n = torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([[1.0]], dtype=torch.float64)
    >>> neumann(u, 0.0, x, n)(torch.tensor([3.0], dtype=torch.float64), torch.tensor(0.0))  # u' = 6
    tensor([6.], dtype=torch.float64)
    """
    u, g = _network(u), _data(g)
    if not isinstance(normals, Tensor) or not isinstance(points, Tensor) or normals.shape != points.shape:
        shapes = [tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in (points, normals)]
        raise ValueError(f"normals must be a tensor of the shape of points, got {shapes[1]} and {shapes[0]}")
    d = points.shape[1]

    def residual(theta: Tensor, packed: Tensor, eps: Tensor) -> Tensor:
        x, normal = packed[:d], packed[d:]
        return torch.dot(grad(lambda y: u(theta, y))(x), normal) - g(x, eps)

    return PointwiseResidual(residual, torch.cat([points, normals], dim=1), weight)


def periodic(
    u: Network, points: Tensor, period: Union[Tensor, Sequence[float]], *, weight: float = 1.0, derivative: bool = True
) -> PointwiseResidual:
    """The block ``u(x_j + p) - u(x_j)`` (and with ``derivative`` the same for ``grad u``).

    Parameters
    ----------
    u
        The network ``u(theta, x)``.
    points
        Points on one side of the box, ``(N, d)``.
    period
        The shift ``p`` to the opposite side, ``d`` numbers, e.g. ``[2, 0]`` for
        a period 2 in ``x_1``.
    weight
        Block weight.
    derivative
        Also match the gradients (periodicity of ``u'`` too, which a
        second-order equation needs).

    Examples
    --------
    >>> import torch, math
    >>> u = lambda theta, x: torch.sin(theta[0] * x[0])
    >>> x0, period = torch.zeros(1, 1, dtype=torch.float64), [2 * math.pi]
    >>> float(periodic(u, x0, period)(torch.tensor([1.0], dtype=torch.float64), torch.tensor(0.0)).abs().max()) < 1e-12
    True
    """
    u = _network(u)
    period = torch.as_tensor(period, dtype=points.dtype, device=points.device)
    if period.shape != (points.shape[1],):
        raise ValueError(f"period must have shape ({points.shape[1]},), got {tuple(period.shape)}")

    def residual(theta: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        values = (u(theta, x + period) - u(theta, x)).reshape(1)
        if not derivative:
            return values
        gradient = grad(lambda y: u(theta, y))
        return torch.cat([values, gradient(x + period) - gradient(x)])

    return PointwiseResidual(residual, points, weight)


def hard_constraint(
    network: Network, g: Callable[[Tensor], Tensor], distance: Callable[[Tensor], Tensor]
) -> Network:
    """``u(theta, x) = g(x) + distance(x) network(theta, x)``: boundary values built in.

    ``distance`` must vanish on the boundary (where ``u = g`` then holds
    exactly, whatever the weights) and be positive inside, e.g.
    ``1 - x^2`` on ``(-1, 1)``; ``g`` extends the boundary data inside.

    Examples
    --------
    >>> import torch
    >>> u = hard_constraint(lambda theta, x: theta[0], lambda x: x[0], lambda x: 1 - x[0] ** 2)
    >>> theta = torch.tensor([5.0], dtype=torch.float64)
    >>> [float(u(theta, torch.tensor([x], dtype=torch.float64))) for x in (-1.0, 0.0, 1.0)]
    [-1.0, 5.0, 1.0]
    """
    for name, fn in (("network", network), ("g", g), ("distance", distance)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    return lambda theta, x: g(x) + distance(x) * network(theta, x)
