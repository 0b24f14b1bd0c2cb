"""Deflation: a residual map whose known roots are removed.

Farrell, Birkisson and Funke (SISC 2015) multiply the residual by a factor
that blows up at each known solution ``u_k``,

    G(theta, eps) = M(theta) H(theta, eps),
    M(theta) = prod_k (1 / d(u(theta), u_k)^p + shift),

so that a corrector started anywhere cannot converge to ``u_k`` again (near
``u_k`` with ``p = 2``, Newton's step on ``G`` is the reverse of Newton's
step on ``H``) while every other root of ``H`` is a root of ``G``. The
distance ``d`` is measured on the *solution*: for a network, its values at
the collocation points (``outputs(theta)``), never its weights, which are
not unique; for a finite-difference state, the state itself. With
``shift >= 1``, ``||H|| <= ||G||``: a point where the deflated residual is
below ``tol`` solves the original problem to ``tol``.

The deflated map is an ordinary :class:`~continuation.ResidualMap`, so every
corrector of the library and :func:`~continuation.trace` work on it.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor
from torch.func import grad_and_value

from .residual import ResidualMap, as_residual_map

__all__ = ["DeflatedResidual", "deflate", "rms_distance"]

Outputs = Callable[[Tensor], Tensor]
Distance = Callable[[Tensor, Tensor], Tensor]


def rms_distance(a: Tensor, b: Tensor) -> Tensor:
    """The root-mean-square distance ``sqrt(mean((a - b)^2))``: a discrete L2 norm on ``(0, 1)``.

    Examples
    --------
    >>> import torch
    >>> round(float(rms_distance(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]))), 6)  # sqrt(5)
    2.236068
    """
    return torch.sqrt(torch.mean((a - b) ** 2))


class DeflatedResidual(ResidualMap):
    """``G = M(theta) H(theta, eps)``, ``M = prod_k (1 / d(u(theta), u_k)^p + shift)``; see :func:`deflate`.

    The Jacobian is ``M J + H (grad M)^T``, from the problem's own
    ``linearize`` (an analytic finite-difference Jacobian stays analytic)
    and the gradient of ``M``; ``dG/deps = M dH/deps``.

    Attributes
    ----------
    problem
        The residual map ``H``.
    known
        The deflated solutions, as states.
    known_outputs
        Their outputs, where the distance is measured.
    """

    def __init__(self, problem: ResidualMap, known: list[Tensor], power: float, shift: float, outputs: Outputs,
                 distance: Distance, normalize: Optional[Tensor] = None):
        self.problem, self.known, self.power, self.shift = problem, known, power, shift
        self.outputs, self.distance = outputs, distance
        self.known_outputs = [outputs(k).detach() for k in known]
        self.scale = 1.0
        if normalize is not None:
            self.scale = 1.0 / float(self.factor(normalize))

    def factor(self, theta: Tensor) -> Tensor:
        """``M(theta)`` (``1`` with no known solution), times the scale set by ``normalize``."""
        u = self.outputs(theta)
        value = torch.full((), self.scale, dtype=theta.dtype, device=theta.device)
        for known in self.known_outputs:
            value = value * (self.distance(u, known) ** (-self.power) + self.shift)
        return value

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.factor(theta) * self.problem(theta, eps)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        residual, jacobian = self.problem.linearize(theta, eps)
        gradient, factor = grad_and_value(self.factor)(theta)
        return factor * residual, factor * jacobian + torch.outer(residual, gradient)

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.linearize(theta, eps)[1]

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.factor(theta) * self.problem.eps_derivative(theta, eps)

    def __repr__(self) -> str:
        return f"DeflatedResidual({self.problem!r}, {len(self.known)} known, power={self.power:g}, shift={self.shift:g})"


def deflate(
    residual: ResidualMap | Callable[[Tensor, Tensor], Tensor],
    known: Sequence[Tensor],
    *,
    power: float = 2.0,
    shift: float = 1.0,
    outputs: Optional[Outputs] = None,
    distance: Optional[Distance] = None,
    normalize: Optional[Tensor] = None,
) -> DeflatedResidual:
    """The residual map ``residual`` with the solutions ``known`` deflated.

    Parameters
    ----------
    residual
        ``H(theta, eps)``, a :class:`~continuation.ResidualMap` or a callable.
    known
        Solutions to remove, as states (1-D tensors like ``theta``); may be empty.
    power
        ``p`` in ``1 / d^p``; ``p = 2`` makes Newton's step near a known
        root point away from it.
    shift
        Added to each ``1 / d^p``, so that ``G`` stays ``shift^K H`` far
        from every known solution (``shift >= 1`` keeps ``||H|| <= ||G||``).
    outputs
        ``theta -> Tensor``, the solution the distance is measured on (a
        network's values at its collocation points). Default: the
        residual's own ``outputs`` method if it has one, else the state.
    distance
        ``distance(u, v) -> scalar Tensor``; default :func:`rms_distance`.
    normalize
        A state where the factor is made ``1``: ``G = M(theta) / M(normalize) H``.
        A tolerance on ``G`` is then one on ``H`` near that state (deflated
        continuation of a branch from its last point); ``None``: no scaling.

    Returns
    -------
    DeflatedResidual

    Raises
    ------
    TypeError, ValueError
        On bad input, naming the argument.

    Examples
    --------
    ``theta^2 = 1`` from ``theta = 2`` converges to ``1``; with ``1``
    deflated, the same start converges to ``-1``:

    >>> import torch, continuation
    >>> H, start, eps = lambda t, e: t**2 - 1, torch.tensor([2.0], dtype=torch.float64), torch.tensor(0.0)
    >>> lm = continuation.LevenbergMarquardt()
    >>> first = lm.correct(continuation.as_residual_map(H), start, eps, iterations=100, tol=1e-12)
    >>> second = lm.correct(deflate(H, [first.theta]), start, eps, iterations=100, tol=1e-12)
    >>> round(float(first.theta), 8), round(float(second.theta), 8)
    (1.0, -1.0)
    """
    problem = as_residual_map(residual)
    for name, value in (("power", power), ("shift", shift)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if power <= 0:
        raise ValueError(f"power must be positive, got {power!r}")
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift!r}")
    if isinstance(known, Tensor) or not isinstance(known, Sequence):
        raise TypeError(f"known must be a sequence (list) of solution states, got {type(known).__name__}")
    known = list(known)
    for i, state in enumerate(known):
        if not isinstance(state, Tensor) or state.ndim != 1 or not state.dtype.is_floating_point:
            what = f"shape {tuple(state.shape)}, dtype {state.dtype}" if isinstance(state, Tensor) else type(
                state).__name__
            raise TypeError(f"known[{i}] must be a 1-D floating tensor (a state), got {what}")
        if not bool(torch.isfinite(state).all()):
            raise ValueError(f"known[{i}] must be finite, got NaN or Inf entries")
    if outputs is None:
        outputs = getattr(problem, "outputs", None) or (lambda theta: theta)
    if not callable(outputs):
        raise TypeError(f"outputs must be callable or None, got {type(outputs).__name__}")
    if distance is None:
        distance = rms_distance
    elif not callable(distance):
        raise TypeError(f"distance must be callable or None, got {type(distance).__name__}")
    if normalize is not None and not (isinstance(normalize, Tensor) and normalize.ndim == 1):
        raise TypeError(f"normalize must be a state (a 1-D tensor) or None, got {normalize!r:.80}")
    return DeflatedResidual(problem, [k.detach() for k in known], float(power), float(shift), outputs, distance,
                            normalize)
