"""Residual maps H(theta, eps) and their derivatives.

A residual map is the *problem* of a trace: it knows how to evaluate
``H(theta, eps)`` (a 1-D tensor of length M), its Jacobian ``J = dH/dtheta``
(M x P) and its parameter derivative ``H_eps = dH/deps`` (length M). The
engine only talks to this small interface, so any problem that can supply
faster derivatives (a finite-difference grid with a sparse Jacobian, say) can
subclass :class:`ResidualMap` and override them.

Two ready-made maps cover most uses:

* :class:`FunctionResidual` wraps any callable ``fn(theta, eps)`` written with
  torch operations and differentiates it with :mod:`torch.func`.
* :class:`PointwiseResidual` takes a function of *one* collocation point and
  vmaps it (and its Jacobian) over a tensor of points. This is about 100x
  faster than differentiating a batched residual with ``jacrev`` because the
  per-point Jacobians are independent (see the engine notes in the docs).

Blocks of pointwise residuals (interior, boundary) are joined with
:class:`StackedResidual`.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor
from torch.func import jacfwd, jacrev, jvp, vjp, vmap

__all__ = [
    "ResidualMap",
    "FunctionResidual",
    "PointwiseResidual",
    "StackedResidual",
    "as_residual_map",
    "output_jacobian",
]


class ResidualMap:
    """Base class of a residual map ``H(theta, eps) -> Tensor[M]``.

    Subclasses implement :meth:`__call__`; the derivatives default to
    :mod:`torch.func` transforms of it and may be overridden.

    Examples
    --------
    >>> import torch
    >>> class Line(ResidualMap):
    ...     def __call__(self, theta, eps):
    ...         return theta - eps
    >>> H = Line()
    >>> theta, eps = torch.zeros(2, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    >>> H.jacobian(theta, eps)
    tensor([[1., 0.],
            [0., 1.]], dtype=torch.float64)
    >>> H.eps_derivative(theta, eps)
    tensor([-1., -1.], dtype=torch.float64)
    """

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        raise NotImplementedError

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        """``dH/dtheta`` at ``(theta, eps)``, shape ``(M, P)``."""
        return jacrev(self.__call__, argnums=0)(theta, eps)

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        """``dH/deps`` at ``(theta, eps)``, shape ``(M,)``, in ``theta``'s dtype (see :func:`forward_tangent`)."""
        return forward_tangent(jacfwd(self.__call__, argnums=1)(theta, eps), theta)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        """The value and the Jacobian together, ``(H, J)``.

        Subclasses may compute both in one pass.
        """
        return self(theta, eps), self.jacobian(theta, eps)

    def products(
        self, theta: Tensor, eps: Tensor
    ) -> tuple[Tensor, Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
        """The value and the Jacobian as products, ``(H, v -> J v, w -> J^T w)``, without forming ``J``.

        From :func:`torch.func.jvp` and :func:`torch.func.vjp` (the reverse
        pass is recorded once and reused for every ``J^T w``).
        """
        def value(t: Tensor) -> Tensor:
            return self(t, eps)

        residual, pullback = vjp(value, theta)
        return (residual, lambda v: forward_tangent(jvp(value, (theta,), (v,))[1], theta), lambda w: pullback(w)[0])


class FunctionResidual(ResidualMap):
    """A residual map from a plain callable ``fn(theta, eps) -> Tensor[M]``.

    Parameters
    ----------
    fn
        Any function written with torch operations that :mod:`torch.func`
        can differentiate.
    outputs
        ``theta -> Tensor``: the function the state represents (a network's
        values at some points), or ``None``. A trace picks it up: it
        measures steps on it and checks there that the equations pin the
        solution (:mod:`continuation.conditioning`).

    Examples
    --------
    >>> import torch
    >>> H = FunctionResidual(lambda theta, eps: theta**2 - eps)
    >>> theta = torch.tensor([1.0, 2.0], dtype=torch.float64)
    >>> H.jacobian(theta, torch.tensor(1.0, dtype=torch.float64))
    tensor([[2., 0.],
            [0., 4.]], dtype=torch.float64)
    """

    def __init__(self, fn: Callable[[Tensor, Tensor], Tensor],
                 outputs: Optional[Callable[[Tensor], Tensor]] = None):
        if not callable(fn):
            raise TypeError(f"residual must be callable, got {type(fn).__name__}")
        self.fn = fn
        _keep_outputs(self, outputs)

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.fn(theta, eps)

    def __repr__(self) -> str:
        return f"FunctionResidual({getattr(self.fn, '__name__', repr(self.fn))})"


OUTPUT_CHUNK_VALUES = 2**18
""":func:`output_jacobian` without the outputs' own Jacobian: reverse passes per chunk times outputs."""


def output_jacobian(outputs: Callable[[Tensor], Tensor], theta: Tensor) -> Tensor:
    """``d outputs / d theta`` at ``theta``, shape ``(N, P)`` (the outputs flattened).

    The outputs' own ``jacobian(theta)`` when they have one (a network's
    values at points, vmapped over the points: :class:`pde.NetworkOutputs`),
    else :func:`torch.func.jacrev` of the whole map, which costs one reverse
    pass through all ``N`` outputs for each of them.

    Examples
    --------
    >>> import torch
    >>> output_jacobian(lambda t: torch.stack([t[0] * t[1], t[1]]), torch.tensor([2.0, 3.0]))
    tensor([[3., 2.],
            [0., 1.]])
    """
    own = getattr(outputs, "jacobian", None)
    if callable(own):
        return own(theta).reshape(-1, theta.numel())
    flat = outputs(theta).reshape(-1)  # the reverse passes go in chunks: memory O(chunk N), not O(N^2)
    return jacrev(lambda t: outputs(t).reshape(-1), chunk_size=max(1, OUTPUT_CHUNK_VALUES // flat.numel()))(theta)


def _keep_outputs(residual: ResidualMap, outputs: Optional[Callable[[Tensor], Tensor]]) -> None:
    """Set ``residual.outputs`` when given (checked callable); absent otherwise."""
    if outputs is not None:
        if not callable(outputs):
            raise TypeError(f"outputs must be callable or None, got {type(outputs).__name__}")
        residual.outputs = outputs


def _with_value(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """``fn`` returning its value twice, for ``jacrev(..., has_aux=True)``."""

    def both(theta: Tensor) -> tuple[Tensor, Tensor]:
        value = fn(theta)
        return value, value

    return both


class PointwiseResidual(ResidualMap):
    """A block of residuals, one function of one collocation point, vmapped.

    ``H`` is ``weight / sqrt(N) * [fn(theta, x_1, eps), ..., fn(theta, x_N, eps)]``
    flattened, so that ``||H||^2`` is ``weight^2`` times the mean-squared
    pointwise residual.

    Parameters
    ----------
    fn
        ``fn(theta, x, eps)`` for one point ``x`` (a 1-D tensor of
        coordinates), returning a scalar or a 1-D tensor of ``k`` components.
    points
        Collocation points, shape ``(N, d)``.
    weight
        Block weight (the boundary weight of a PINN loss, for instance).
    chunk_size
        Points per vmapped chunk (``None``: all at once). Bounds the memory of
        the per-point Jacobians at the cost of a loop over chunks; the values
        are the same.
    outputs
        ``theta -> Tensor``: the function the state represents (a network's
        values at some points), or ``None``. A trace picks it up: it
        measures steps on it and checks there that the equations pin the
        solution (:mod:`continuation.conditioning`).

    Examples
    --------
    >>> import torch
    >>> x = torch.linspace(0, 1, 5, dtype=torch.float64)[:, None]
    >>> H = PointwiseResidual(lambda theta, x, eps: theta[0] * x[0] - eps, x)
    >>> theta, eps = torch.tensor([2.0], dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    >>> H.jacobian(theta, eps).shape
    torch.Size([5, 1])
    >>> float((H(theta, eps) ** 2).sum())  # mean of (2 x)^2 over the points
    1.5
    >>> torch.equal(PointwiseResidual(H.fn, x, chunk_size=2).jacobian(theta, eps), H.jacobian(theta, eps))
    True
    """

    def __init__(
        self,
        fn: Callable[[Tensor, Tensor, Tensor], Tensor],
        points: Tensor,
        weight: float = 1.0,
        chunk_size: Optional[int] = None,
        outputs: Optional[Callable[[Tensor], Tensor]] = None,
    ):
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                       or chunk_size < 1):
            raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
        if not isinstance(points, Tensor) or points.ndim != 2 or points.shape[0] == 0:
            shape = tuple(points.shape) if isinstance(points, Tensor) else type(points).__name__
            raise ValueError(f"points must be a tensor of shape (N, d) with N >= 1, got {shape}")
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"weight must be a positive finite number, got {weight!r}")
        self.fn = fn
        self.points = points
        self.weight = float(weight)
        self.scale = self.weight / math.sqrt(points.shape[0])
        self.chunk_size = chunk_size
        _keep_outputs(self, outputs)

    def with_points(self, points: Tensor) -> "PointwiseResidual":
        """The same residual (function, weight, chunks, outputs) at other points: a validation set, say.

        Examples
        --------
        >>> import torch
        >>> H = PointwiseResidual(lambda theta, x, eps: theta[0] * x[0] - eps, torch.zeros(3, 1, dtype=torch.float64))
        >>> H.with_points(torch.ones(5, 1, dtype=torch.float64))
        PointwiseResidual(points=(5, 1), weight=1)
        """
        return PointwiseResidual(self.fn, points, self.weight, self.chunk_size, getattr(self, "outputs", None))

    def _batched(self, transform: Callable) -> Callable:
        return vmap(transform, in_dims=(None, 0, None), chunk_size=self.chunk_size)

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.scale * self._batched(self.fn)(theta, self.points, eps).reshape(-1)

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        jac = self._batched(jacrev(self.fn, argnums=0))(theta, self.points, eps)
        return self.scale * jac.reshape(-1, theta.shape[0])

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        d_eps = self._batched(jacfwd(self.fn, argnums=2))(theta, self.points, eps)
        return self.scale * forward_tangent(d_eps, theta).reshape(-1)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        def value_and_jacobian(theta: Tensor, x: Tensor, eps: Tensor):
            return jacrev(_with_value(lambda t: self.fn(t, x, eps)), has_aux=True)(theta)

        jac, value = self._batched(value_and_jacobian)(theta, self.points, eps)
        return self.scale * value.reshape(-1), self.scale * jac.reshape(-1, theta.shape[0])

    def __repr__(self) -> str:
        return f"PointwiseResidual(points={tuple(self.points.shape)}, weight={self.weight:g})"


class StackedResidual(ResidualMap):
    """Residual blocks joined end to end (interior, boundary, ...).

    Parameters
    ----------
    blocks
        Residual maps sharing ``theta`` and ``eps``; a plain callable
        ``block(theta, eps) -> Tensor`` (a constraint row, say) is wrapped as
        a :class:`FunctionResidual`.
    outputs
        ``theta -> Tensor``: the function the state represents (a network's
        values at some points), or ``None``. A trace picks it up: it
        measures steps on it and checks there that the equations pin the
        solution (:mod:`continuation.conditioning`).

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(3, 1, dtype=torch.float64)
    >>> a = PointwiseResidual(lambda theta, x, eps: theta[0] - eps, x)
    >>> b = PointwiseResidual(lambda theta, x, eps: theta[0] + eps, x[:1])
    >>> H = StackedResidual([a, b])
    >>> H(torch.ones(1, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)).shape
    torch.Size([4])
    >>> StackedResidual([a, lambda theta, eps: theta[:1] ** 2 - 1]).blocks[1]
    FunctionResidual(<lambda>)
    """

    def __init__(
        self,
        blocks: Sequence[ResidualMap | Callable[[Tensor, Tensor], Tensor]],
        outputs: Optional[Callable[[Tensor], Tensor]] = None,
    ):
        blocks = list(blocks)
        if not blocks:
            raise TypeError("blocks must be a non-empty sequence of residual maps or callables, got none")
        for index, block in enumerate(blocks):
            if not callable(block):
                raise TypeError(f"blocks[{index}] must be a ResidualMap or a callable block(theta, eps), "
                                f"got {type(block).__name__}")
        self.blocks = [as_residual_map(b) for b in blocks]
        _keep_outputs(self, outputs)

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return torch.cat([b(theta, eps) for b in self.blocks])

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        return torch.cat([b.jacobian(theta, eps) for b in self.blocks])

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return torch.cat([b.eps_derivative(theta, eps) for b in self.blocks])

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        values, jacobians = zip(*(b.linearize(theta, eps) for b in self.blocks))
        return torch.cat(values), torch.cat(jacobians)

    def __repr__(self) -> str:
        return f"StackedResidual({self.blocks!r})"


def forward_tangent(tangent: Tensor, theta: Tensor) -> Tensor:
    """A forward-mode derivative (``jacfwd``, ``jvp``) in ``theta``'s dtype.

    Forward-mode AD in torch promotes the tangent of a 0-dim float32 value
    to float64 when a Python float is added to it (``u - 1.0`` in a
    pointwise residual; pytorch/pytorch#90065), while the value itself stays
    float32. The derivative was computed from float32 values, so casting it
    back loses nothing; a float64 trace is unchanged.

    Examples
    --------
    >>> import torch
    >>> theta, eps = torch.ones(2), torch.tensor(0.5)
    >>> tangent = torch.func.jacfwd(lambda t, e: e * t.sum() - 1.0, argnums=1)(theta, eps)
    >>> forward_tangent(tangent, theta).dtype
    torch.float32
    """
    return tangent if tangent.dtype == theta.dtype else tangent.to(theta.dtype)


TRANSFORM_HINT = (
    "the engine differentiates the residual with torch.func transforms (jacrev, jacfwd, vjp, vmap), and "
    "derivatives in x taken inside it with torch.autograd.grad (or requires_grad_) cannot be transformed: take "
    "them with torch.func (jacrev, jacfwd, hessian of the network in x) or with pde.calculus"
)
"""What to do when a residual works alone but not under the engine's transforms."""

_TRANSFORM_FAILURES = ("functorch transform", "does not require grad and does not have a grad_fn",
                       "appears to not have been used in the graph")


def transform_hint(exc: BaseException) -> str:
    """:data:`TRANSFORM_HINT` if ``exc`` reads like torch refusing ``torch.autograd`` inside a
    :mod:`torch.func` transform, else ``""``.

    Examples
    --------
    >>> transform_hint(RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn"))[:40]
    'the engine differentiates the residual w'
    >>> transform_hint(ValueError("shape mismatch"))
    ''
    """
    text = str(exc)
    return TRANSFORM_HINT if isinstance(exc, RuntimeError) and any(f in text for f in _TRANSFORM_FAILURES) else ""


def has_collocation_points(problem: ResidualMap) -> bool:
    """Whether ``problem`` is a :class:`PointwiseResidual`, or a :class:`StackedResidual` with one among its
    blocks: a residual sampled at points, whose solution may be wrong between them.

    Examples
    --------
    >>> import torch
    >>> pointwise = PointwiseResidual(lambda theta, x, eps: theta[0] * x[0] - eps, torch.ones(3, 1))
    >>> has_collocation_points(StackedResidual([pointwise])), has_collocation_points(FunctionResidual(abs))
    (True, False)
    """
    if isinstance(problem, StackedResidual):
        return any(has_collocation_points(block) for block in problem.blocks)
    return isinstance(problem, PointwiseResidual)


def as_residual_map(residual: ResidualMap | Callable[[Tensor, Tensor], Tensor]) -> ResidualMap:
    """Return ``residual`` itself if it is a :class:`ResidualMap`, else wrap it.

    Examples
    --------
    >>> H = as_residual_map(lambda theta, eps: theta - eps)
    >>> isinstance(H, FunctionResidual)
    True
    """
    if isinstance(residual, ResidualMap):
        return residual
    if callable(residual):
        return FunctionResidual(residual)
    raise TypeError(
        f"residual must be a ResidualMap or a callable residual(theta, eps), "
        f"got {type(residual).__name__}"
    )
