"""Collocation points that follow the path: residual-based adaptive distribution (RAD).

A layer of width ``eps`` needs points where it is, and where it is changes as
``eps`` shrinks. :class:`AdaptivePoints` wraps a
:class:`~pde.base.NetworkProblem`'s residual map and gives it the
``resample(theta, eps)`` method that :func:`continuation.trace` calls at
every accepted point: whenever ``eps`` has shrunk by the factor ``every``
since the last draw, the interior points are drawn again from the density of
Wu, Zhu, Tan, Kartha and Lu (CMAME 2023, "A comprehensive study of
non-adaptive and residual-based adaptive sampling for physics-informed neural
networks"),

.. math::

    p(x) \\propto \\frac{|r(x)|^k}{\\operatorname{mean} |r|^k} + c,

over a fresh set of uniform candidates, ``r`` the pointwise residual at the
current weights (``k = 1, c = 1``: half the points where the residual is
large, half spread out). The trace then corrects again at the same ``eps`` on
the new points. The number of points may grow as ``eps`` shrinks
(``points=lambda eps: ...``).

The resampled points are the wrapper's state, not the trace's: a trace
resumed from ``result.state`` continues with the points the wrapper has then.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Union

import torch
from torch import Tensor

from continuation import ResidualMap

from .base import NetworkProblem

__all__ = ["AdaptivePoints", "rad_density"]


def rad_density(residuals: Tensor, k: float = 1.0, c: float = 1.0) -> Tensor:
    """The RAD sampling weights ``|r|^k / mean |r|^k + c`` of pointwise residual sizes (unnormalized).

    Examples
    --------
    >>> import torch
    >>> rad_density(torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64))
    tensor([1.0000, 1.7500, 3.2500], dtype=torch.float64)
    >>> rad_density(torch.zeros(3, dtype=torch.float64))  # no residual: uniform
    tensor([1., 1., 1.], dtype=torch.float64)
    """
    power = residuals.abs() ** k
    mean = power.mean()
    return (power / mean if mean > 0 else torch.zeros_like(power)) + c


class AdaptivePoints(ResidualMap):
    """A network problem's residual whose interior points are redrawn by RAD as ``eps`` shrinks.

    Parameters
    ----------
    problem
        The :class:`~pde.base.NetworkProblem`; its interior points and
        residual map are replaced at each draw (:meth:`NetworkProblem.move_points`).
    every
        Draw again when ``|eps|`` has fallen to ``every`` times its value at
        the last draw (0 < every < 1).
    points
        The number of interior points of a draw: a count, or a function of
        ``eps`` (``None``: as many as the problem has).
    candidates
        Uniform candidates per point of a draw (fresh at every draw).
    k, c
        The RAD exponent and floor (:func:`rad_density`).
    seed
        Seed of the draws.

    Examples
    --------
    >>> import torch, continuation
    >>> from pde import AllenCahn1D
    >>> from models import MLP
    >>> problem = AllenCahn1D(MLP([1, 8, 1]), n_points=16)
    >>> residual = AdaptivePoints(problem, every=0.5)
    >>> theta = problem.model.init(seed=0)
    >>> residual.resample(theta, torch.tensor(0.5, dtype=torch.float64))  # the first call only remembers eps
    False
    >>> residual.resample(theta, torch.tensor(0.2, dtype=torch.float64)), problem.points.shape
    (True, torch.Size([16, 1]))
    """

    def __init__(self, problem: NetworkProblem, *, every: float = 0.5,
                 points: Union[None, int, Callable[[float], int]] = None, candidates: int = 20,
                 k: float = 1.0, c: float = 1.0, seed: int = 0):
        if not isinstance(problem, NetworkProblem):
            raise TypeError(f"problem must be a pde.NetworkProblem, got {type(problem).__name__}")
        if not (isinstance(every, (int, float)) and 0 < every < 1):
            raise ValueError(f"every must lie in (0, 1), got {every!r}")
        if points is not None and not callable(points) and (isinstance(points, bool) or not isinstance(points, int)
                                                             or points < 1):
            raise ValueError(f"points must be a positive integer, a function of eps or None, got {points!r}")
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise ValueError(f"candidates must be a positive integer, got {candidates!r}")
        for name, value in (("k", k), ("c", c)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        self.problem, self.every, self.points, self.candidates = problem, float(every), points, candidates
        self.k, self.c, self.seed = float(k), float(c), seed
        self.draws = 0
        self.last_eps: Optional[float] = None
        self.box = problem.interior_box()
        """Where candidates are drawn: the bounding box of the problem's first interior points."""

    # the residual map of the problem as it is now
    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem.residual_map(theta, eps)

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem.residual_map.jacobian(theta, eps)

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem.residual_map.eps_derivative(theta, eps)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        return self.problem.residual_map.linearize(theta, eps)

    def products(self, theta: Tensor, eps: Tensor):
        return self.problem.residual_map.products(theta, eps)

    def outputs(self, theta: Tensor) -> Tensor:
        """The network at the current interior points."""
        return self.problem.outputs(theta)

    def resample(self, theta: Tensor, eps: Tensor) -> bool:
        """Draw new interior points if ``|eps|`` has shrunk by ``every`` since the last draw; ``True`` if it did.

        The first call only remembers ``eps``.
        """
        value = abs(float(eps))
        if self.last_eps is None or value > self.every * self.last_eps:
            self.last_eps = value if self.last_eps is None else self.last_eps
            return False
        count = self.points(value) if callable(self.points) else self.points or self.problem.points.shape[0]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"points(eps={value:g}) must return a positive integer, got {count!r}")
        self.draws += 1
        stream = 2 * (self.seed + self.draws)  # candidates and choice from distinct streams, not tied together
        pool = self.problem.uniform_points(count * self.candidates, seed=stream, box=self.box)
        with torch.no_grad():
            moved = self.problem.on_interior_points(pool)
            block = next(b for b in getattr(moved, "blocks", [moved]) if getattr(b, "points", None) is pool)
            sizes = block(theta, eps).reshape(pool.shape[0], -1).norm(dim=1)
        weights = rad_density(sizes, self.k, self.c)
        generator = torch.Generator().manual_seed(stream + 1)
        chosen = torch.multinomial(weights, count, replacement=False, generator=generator)
        self.problem.move_points(pool[chosen])
        self.last_eps = value
        return True

    def __repr__(self) -> str:
        return (f"AdaptivePoints({type(self.problem).__name__}, points={self.problem.points.shape[0]}, "
                f"every={self.every:g}, draws={self.draws})")
