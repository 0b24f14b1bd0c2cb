"""Collocation points that follow the path: residual-based adaptive distribution (RAD) and point layouts
given as functions of ``eps``.

A layer of width ``eps`` needs points where it is, and where it is changes as
``eps`` shrinks. :class:`MovingPoints` wraps a
:class:`~pde.base.NetworkProblem`'s residual map and gives it the
``resample(theta, eps)`` method that :func:`continuation.trace` calls at
every accepted point: whenever ``eps`` has shrunk by the factor ``every``
since the last placement, the interior points are placed again and the trace
corrects again at the same ``eps`` on the new points. Two placements are
offered:

:class:`AdaptivePoints`
    draws the points from the density of Wu, Zhu, Tan, Kartha and Lu (CMAME
    2023, "A comprehensive study of non-adaptive and residual-based adaptive
    sampling for physics-informed neural networks"),

    .. math::

        p(x) \\propto \\frac{|r(x)|^k}{\\operatorname{mean} |r|^k} + c,

    over a fresh set of uniform candidates, ``r`` the pointwise residual at
    the current weights (``k = 1, c = 1``: half the points where the residual
    is large, half spread out). The number of points may grow as ``eps``
    shrinks (``points=lambda eps: ...``). A symmetry the user knows (a map
    ``x -> S x`` of the domain onto itself under which the problem is
    unchanged, ``lambda x: -x`` for an odd solution) is kept with
    ``symmetry=S``: half the points are drawn, the other half are their
    images.
:class:`ScheduledPoints`
    places the points by a function of ``eps`` the user gives, a grid graded
    towards a layer of known place and width, say
    (:func:`pde.sampling.layer_grid`).

The placed points are the wrapper's state, not the trace's: a trace resumed
from ``result.state`` continues with the points the wrapper has then; in
another process, a fresh wrapper gets them back from
:meth:`MovingPoints.state_dict` by :meth:`MovingPoints.load_state_dict`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Union

import torch
from torch import Tensor

from continuation import ResidualMap

from .base import NetworkProblem

__all__ = ["MovingPoints", "AdaptivePoints", "ScheduledPoints", "rad_density"]


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


class MovingPoints(ResidualMap):
    """A network problem's residual whose interior points are placed again each time ``|eps|`` has shrunk.

    The residual map, its Jacobians and outputs are the problem's as it is
    now. Subclasses say where the points go (:meth:`place`);
    :meth:`resample` decides when.

    Parameters
    ----------
    problem
        The :class:`~pde.base.NetworkProblem`; its interior points and
        residual map are replaced at each placement (:meth:`NetworkProblem.move_points`).
    every
        Place again when ``|eps|`` has fallen to ``every`` times its value at
        the last placement (0 < every < 1).
    """

    def __init__(self, problem: NetworkProblem, *, every: float = 0.5):
        if not isinstance(problem, NetworkProblem):
            raise TypeError(f"problem must be a pde.NetworkProblem, got {type(problem).__name__}")
        if not (isinstance(every, (int, float)) and 0 < every < 1):
            raise ValueError(f"every must lie in (0, 1), got {every!r}")
        self.problem, self.every = problem, float(every)
        self.draws = 0
        """How many times the points were placed again."""
        self.last_eps: Optional[float] = None

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

    @property
    def outputs(self):
        """The network at the current interior points (the problem's :class:`~pde.base.NetworkOutputs`)."""
        return self.problem.outputs

    def place(self, theta: Tensor, eps: Tensor) -> Tensor:
        """The new interior points, shape ``(N, d)``, at the weights ``theta`` and ``eps`` (``self.draws`` is
        already counted up)."""
        raise NotImplementedError

    def resample(self, theta: Tensor, eps: Tensor) -> bool:
        """Place the interior points again if ``|eps|`` has shrunk by ``every`` since the last placement;
        ``True`` if it did.

        The first call only remembers ``eps``.
        """
        value = abs(float(eps))
        if self.last_eps is None or value > self.every * self.last_eps:
            self.last_eps = value if self.last_eps is None else self.last_eps
            return False
        self.draws += 1
        points = self.place(theta, eps)
        dimension = self.problem.points.shape[1]
        if not isinstance(points, Tensor) or points.ndim != 2 or points.shape[1] != dimension or not points.shape[0]:
            raise ValueError(f"{type(self).__name__} placed points of shape {getattr(points, 'shape', None)}, "
                             f"expected (N, {dimension}) with N >= 1")
        self.problem.move_points(points.to(dtype=self.problem.points.dtype, device=self.problem.points.device))
        self.last_eps = value
        return True

    def state_dict(self) -> dict[str, Any]:
        """What a trace resumed in another process needs to go on with these points: the interior points,
        ``last_eps`` and ``draws`` (:meth:`load_state_dict`; ``torch.save`` stores it)."""
        return {"points": self.problem.points.detach().clone(), "last_eps": self.last_eps, "draws": self.draws}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back the points and counters of :meth:`state_dict`: the next placements are those the saved
        run would have made (the draws are seeded by their number).

        Examples
        --------
        >>> import torch
        >>> from pde import AllenCahn1D
        >>> from models import MLP
        >>> residual = AdaptivePoints(AllenCahn1D(MLP([1, 8, 1]), n_points=16))
        >>> theta = residual.problem.model.init(seed=0)
        >>> half, fifth = (torch.tensor(v, dtype=torch.float64) for v in (0.5, 0.2))
        >>> residual.resample(theta, half), residual.resample(theta, fifth)
        (False, True)
        >>> fresh = AdaptivePoints(AllenCahn1D(MLP([1, 8, 1]), n_points=16))
        >>> fresh.load_state_dict(residual.state_dict())
        >>> torch.equal(fresh.problem.points, residual.problem.points), fresh.draws, fresh.last_eps
        (True, 1, 0.2)
        """
        points = state["points"]
        if not isinstance(points, Tensor) or points.ndim != 2 or points.shape[1] != self.problem.points.shape[1]:
            raise ValueError(f"state['points'] must be a tensor of shape (N, {self.problem.points.shape[1]}), "
                             f"got {getattr(points, 'shape', points)!r}")
        self.problem.move_points(points.to(dtype=self.problem.points.dtype, device=self.problem.points.device))
        self.last_eps, self.draws = state["last_eps"], int(state["draws"])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({type(self.problem).__name__}, points={self.problem.points.shape[0]}, "
                f"every={self.every:g}, draws={self.draws})")


class AdaptivePoints(MovingPoints):
    """A network problem's residual whose interior points are redrawn by RAD as ``eps`` shrinks.

    Parameters
    ----------
    problem, every
        As in :class:`MovingPoints`.
    points
        The number of interior points of a draw: a count, or a function of
        ``eps`` (``None``: as many as the problem has).
    candidates
        Uniform candidates per point of a draw (fresh at every draw).
    k, c
        The RAD exponent and floor (:func:`rad_density`).
    symmetry
        ``S(x)``, a map of the domain onto itself that leaves the problem
        unchanged, applied to points of shape ``(N, d)``: then a draw chooses
        ``points // 2`` points by RAD and adds their images ``S(x)``, so that
        the point set is invariant under ``S`` (if ``S`` is an involution)
        and the discrete problem keeps the symmetry (``None``: no symmetry).
    seed
        Seed of the draws.

    Examples
    --------
    >>> import torch, continuation
    >>> from pde import AllenCahn1D
    >>> from models import MLP
    >>> problem = AllenCahn1D(MLP([1, 8, 1]), n_points=16)
    >>> residual = AdaptivePoints(problem, every=0.5, symmetry=lambda x: -x)
    >>> theta = problem.model.init(seed=0)
    >>> residual.resample(theta, torch.tensor(0.5, dtype=torch.float64))  # the first call only remembers eps
    False
    >>> residual.resample(theta, torch.tensor(0.2, dtype=torch.float64)), problem.points.shape
    (True, torch.Size([16, 1]))
    >>> torch.equal(problem.points[8:], -problem.points[:8])  # the mirror images of the drawn half
    True
    """

    def __init__(self, problem: NetworkProblem, *, every: float = 0.5,
                 points: Union[None, int, Callable[[float], int]] = None, candidates: int = 20,
                 k: float = 1.0, c: float = 1.0, symmetry: Optional[Callable[[Tensor], Tensor]] = None,
                 seed: int = 0):
        super().__init__(problem, every=every)
        if points is not None and not callable(points) and (isinstance(points, bool) or not isinstance(points, int)
                                                             or points < 1):
            raise ValueError(f"points must be a positive integer, a function of eps or None, got {points!r}")
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise ValueError(f"candidates must be a positive integer, got {candidates!r}")
        for name, value in (("k", k), ("c", c)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if symmetry is not None and not callable(symmetry):
            raise TypeError(f"symmetry must be a function of the points or None, got {symmetry!r}")
        self.points, self.candidates, self.symmetry = points, candidates, symmetry
        self.k, self.c, self.seed = float(k), float(c), seed
        self.box = problem.interior_box()
        """Where candidates are drawn: the bounding box of the problem's first interior points."""

    def place(self, theta: Tensor, eps: Tensor) -> Tensor:
        """``points`` drawn by RAD over fresh uniform candidates (half of them and their images with ``symmetry``)."""
        value = abs(float(eps))
        count = self.points(value) if callable(self.points) else self.points or self.problem.points.shape[0]
        if isinstance(count, bool) or not isinstance(count, int) or count < (2 if self.symmetry else 1):
            raise ValueError(f"points(eps={value:g}) must return an integer >= {2 if self.symmetry else 1}, "
                             f"got {count!r}")
        drawn = count // 2 if self.symmetry is not None else count
        stream = 2 * (self.seed + self.draws)  # candidates and choice from distinct streams, not tied together
        pool = self.problem.uniform_points(drawn * self.candidates, seed=stream, box=self.box)
        with torch.no_grad():
            moved = self.problem.on_interior_points(pool)
            block = next(b for b in getattr(moved, "blocks", [moved]) if getattr(b, "points", None) is pool)
            sizes = block(theta, eps).reshape(pool.shape[0], -1).norm(dim=1)
        weights = rad_density(sizes, self.k, self.c)
        generator = torch.Generator().manual_seed(stream + 1)
        chosen = pool[torch.multinomial(weights, drawn, replacement=False, generator=generator)]
        if self.symmetry is None:
            return chosen
        images = self.symmetry(chosen)
        if not isinstance(images, Tensor) or images.shape != chosen.shape:
            raise ValueError(f"symmetry must map points of shape {tuple(chosen.shape)} to the same shape, "
                             f"got {getattr(images, 'shape', None)}")
        return torch.cat([chosen, images])


class ScheduledPoints(MovingPoints):
    """A network problem's residual whose interior points are placed by a given function of ``eps``.

    For layers whose place and width are known as functions of ``eps``: a
    grid graded towards the layer (:func:`pde.sampling.layer_grid`) is
    refined each time ``eps`` has shrunk by ``every``. Build the problem on
    ``layout(eps0)`` (:meth:`NetworkProblem.move_points`) to start on it.

    Parameters
    ----------
    problem, every
        As in :class:`MovingPoints`.
    layout
        ``layout(eps) -> Tensor (N, d)``, the interior points at ``|eps|``
        (a float).

    Examples
    --------
    >>> import math, torch
    >>> from pde import AllenCahn1D, sampling
    >>> from models import MLP
    >>> def layout(eps):  # a Shishkin grid around the interface x = 0, width ~ eps ln n
    ...     width = sampling.shishkin_width(eps / math.sqrt(2), 64, cap=0.5)
    ...     return sampling.layer_grid(-1.0, 1.0, 64, center=0.0, width=width)
    >>> problem = AllenCahn1D(MLP([1, 8, 1]), n_points=64)
    >>> problem.move_points(layout(0.5))
    >>> residual = ScheduledPoints(problem, layout, every=0.5)
    >>> theta = problem.model.init(seed=0)
    >>> residual.resample(theta, torch.tensor(0.5)), residual.resample(theta, torch.tensor(0.01))
    (False, True)
    >>> round(float(problem.points.abs().min()), 6)  # the grid is now fine at the interface
    0.001838
    """

    def __init__(self, problem: NetworkProblem, layout: Callable[[float], Tensor], *, every: float = 0.5):
        super().__init__(problem, every=every)
        if not callable(layout):
            raise TypeError(f"layout must be a function of eps, got {layout!r}")
        self.layout = layout

    def place(self, theta: Tensor, eps: Tensor) -> Tensor:
        """``layout(|eps|)``."""
        return self.layout(abs(float(eps)))
