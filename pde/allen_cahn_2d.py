"""P2: 2D Allen-Cahn with a wavy interface, ``eps^2 Lap u + u - u^3 = f_eps`` on ``(-1, 1)^2``.

Exact solution ``u = tanh(phi / (sqrt(2) eps))`` with ``phi = y - a sin(pi x)``,
``a = 0.25``; the forcing ``f_eps`` is manufactured from it (see
``../shared/spec/problems.md``). Two homotopies are offered: in ``eps``
(from 0.5 down to the target) and the seed's time homotopy in ``s`` (from 1
down to 0) at a fixed target ``eps``.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual, StackedResidual
from models import MLP

from .base import NetworkProblem, device_of

__all__ = ["AllenCahn2D", "default_points_2d", "AMPLITUDE"]

AMPLITUDE = 0.25
"""The amplitude ``a`` of the interface ``y = a sin(pi x)``."""

HOMOTOPIES = ("eps", "time", "gradient-flow")


def default_points_2d(eps: float) -> int:
    """Interior collocation count for an interface of width ~``eps``: ``max(1000, 100 / eps)``.

    The band ``|phi| < eps`` covers a fraction ~``eps`` of the square, so this
    rule keeps about 100 uniform random points inside the interface layer
    whatever ``eps`` is (1,000 points at eps = 0.1, 2,000 at 0.05, 5,000 at 0.02).

    Examples
    --------
    >>> default_points_2d(0.05), default_points_2d(0.5)
    (2000, 1000)
    """
    return max(1000, math.ceil(100.0 / eps - 1e-9))


def _phi(x: Tensor) -> Tensor:
    return x[..., 1] - AMPLITUDE * torch.sin(math.pi * x[..., 0])


class AllenCahn2D(NetworkProblem):
    """P2, the 2D Allen-Cahn equation with a wavy interface, as a residual map.

    The residual has an interior block at ``n_points`` uniform random points of
    ``(-1, 1)^2`` and a boundary block at ``n_boundary`` points on the four
    edges (a quarter on each, uniform random along the edge), each block scaled
    by ``1/sqrt(count)``, the boundary block also by ``boundary_weight``.

    * ``homotopy="eps"``: ``H(theta, eps)`` is ``eps^2 Lap u + u - u^3 - f_eps``
      inside and ``u - u_exact(eps)`` on the boundary (Dirichlet data moving
      with ``eps``); trace ``eps`` from 0.5 down to the target.
    * ``homotopy="time"``: at the fixed target ``eps``, ``H(theta, s)`` is
      ``(1 - s)(eps^2 Lap u + u - u^3 - f) + s (u - u0)`` inside, ``u0 = y``,
      and the same convex combination ``(1 - s)(u - u_exact) + s (u - u0)`` on
      the boundary, so that ``s = 1`` is solved exactly by ``u = u0`` and
      ``s = 0`` is the steady problem; trace ``s`` from 1 down to 0. This is
      the formula of the spec (P2). Dividing by ``s``, it is an implicit Euler
      step ``u - u0 = -dt R(u)`` with ``dt = (1 - s) / s`` for the *reversed*
      flow ``u_t = -R(u)``, ``R`` the steady residual: since ``R`` is minus
      the variation of the Allen-Cahn energy, that flow climbs the energy.
    * ``homotopy="gradient-flow"``: the same, with the sign of the steady part
      flipped inside, ``s (u - u0) - (1 - s)(eps^2 Lap u + u - u^3 - f)``: the
      implicit Euler step ``u - u0 = dt R(u)`` of the Allen-Cahn flow
      ``u_t = R(u)`` itself, which descends the energy. Both end at ``R = 0``
      at ``s = 0``; they may end at different solutions of it.

    Collocation count: the default interior count is :func:`default_points_2d`
    of the smallest ``eps`` to be solved (``eps_min``, or ``eps`` for the time
    homotopy), ``max(1000, 100 / eps)``: it grows like ``1/eps`` so that the
    interface layer holds about 100 points. The default boundary count is
    ``max(200, n_points // 5)``.

    Parameters
    ----------
    model
        A network with ``apply(theta, x)``; default MLP 2-30-30-30-1, tanh.
    eps_min
        The smallest ``eps`` to be traced (eps homotopy), which sets the
        default point count.
    n_points
        Interior collocation points (default :func:`default_points_2d`).
    homotopy
        ``"eps"``, ``"time"`` or ``"gradient-flow"``.
    eps
        The target ``eps`` of the time homotopy (default ``eps_min``); unused
        by the eps homotopy.
    boundary_weight
        Weight of the boundary block.
    seed
        Seed of the generator of the collocation points.
    n_boundary
        Boundary points (default ``max(200, n_points // 5)``).
    n_test
        Points per axis of the uniform test grid used by :meth:`l2re`.

    Examples
    --------
    >>> import torch
    >>> problem = AllenCahn2D(eps_min=0.1, n_points=50, n_boundary=20)
    >>> theta = problem.model.init(seed=0)
    >>> problem.residual_map(theta, torch.tensor(0.1, dtype=torch.float64)).shape
    torch.Size([70])
    >>> time = AllenCahn2D(homotopy="time", eps=0.05, n_points=50, n_boundary=20)
    >>> time.parameter_start, time.parameter_target(0.05)
    (1.0, 0.0)
    """

    def __init__(
        self,
        model: Optional[MLP] = None,
        eps_min: float = 0.02,
        n_points: Optional[int] = None,
        homotopy: str = "eps",
        eps: Optional[float] = None,
        boundary_weight: float = 1.0,
        seed: int = 0,
        n_boundary: Optional[int] = None,
        n_test: int = 201,
    ):
        if homotopy not in HOMOTOPIES:
            raise ValueError(f"homotopy must be one of {HOMOTOPIES}, got {homotopy!r}")
        if not (math.isfinite(eps_min) and eps_min > 0):
            raise ValueError(f"eps_min must be a positive number, got {eps_min!r}")
        if eps is not None and not (math.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a positive number or None, got {eps!r}")
        self.homotopy = homotopy
        self.eps = float(eps if eps is not None else eps_min)
        smallest = eps_min if homotopy == "eps" else self.eps
        self.model = model if model is not None else MLP([2, 30, 30, 30, 1])
        n_points = n_points if n_points is not None else default_points_2d(smallest)
        n_boundary = n_boundary if n_boundary is not None else max(200, n_points // 5)
        dtype, device = self.model.dtype, device_of(self.model)
        # drawn on the CPU, then moved: a seed gives the same points on every device
        generator = torch.Generator().manual_seed(seed)
        self.points = (2.0 * torch.rand(n_points, 2, generator=generator, dtype=dtype) - 1.0).to(device)
        self.boundary_points = self._edge_points(n_boundary, generator, dtype).to(device)
        axis = torch.linspace(-1.0, 1.0, n_test, dtype=dtype, device=device)
        grid_x, grid_y = torch.meshgrid(axis, axis, indexing="ij")
        self.n_test = n_test
        self.test_points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
        self.residual_map = StackedResidual(
            [
                PointwiseResidual(self.interior_residual, self.points),
                PointwiseResidual(self.boundary_residual, self.boundary_points, boundary_weight),
            ],
            outputs=self.outputs,
        )

    @staticmethod
    def _edge_points(count: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """``count`` points on the four edges, a quarter (rounded) on each, uniform along the edge."""
        if count < 4:
            raise ValueError(f"n_boundary must be at least 4 (one point per edge), got {count}")
        pieces = []
        for edge in range(4):
            k = count // 4 + (1 if edge < count % 4 else 0)
            along = 2.0 * torch.rand(k, generator=generator, dtype=dtype) - 1.0
            fixed = torch.full((k,), -1.0 if edge % 2 == 0 else 1.0, dtype=dtype)
            pieces.append(torch.stack([fixed, along] if edge < 2 else [along, fixed], dim=1))
        return torch.cat(pieces)

    @property
    def parameter_name(self) -> str:
        """The homotopy parameter: ``"eps"`` or ``"s"``."""
        return "eps" if self.homotopy == "eps" else "s"

    @property
    def parameter_start(self) -> float:
        """Where the homotopy starts: eps = 0.5, or s = 1."""
        return 0.5 if self.homotopy == "eps" else 1.0

    def parameter_target(self, eps: float) -> float:
        """The homotopy parameter of the steady problem at ``eps``: ``eps`` itself, or s = 0."""
        return float(eps) if self.homotopy == "eps" else 0.0

    @staticmethod
    def exact(x: Tensor, eps) -> Tensor:
        """``tanh((y - a sin(pi x)) / (sqrt(2) eps))`` at points of shape ``(..., 2)``.

        Examples
        --------
        >>> import torch
        >>> float(AllenCahn2D.exact(torch.tensor([[0.0, 0.0]]), 0.1))
        0.0
        """
        return torch.tanh(_phi(x) / (math.sqrt(2.0) * eps))

    @staticmethod
    def forcing(x: Tensor, eps) -> Tensor:
        """``f_eps = eps^2 Lap u_exact + u_exact - u_exact^3`` in closed form, points ``(..., 2)``.

        ``sech^2(z) [(eps / sqrt(2)) a pi^2 sin(pi x) - tanh(z) a^2 pi^2 cos^2(pi x)]``
        with ``z = phi / (sqrt(2) eps)``.

        Examples
        --------
        >>> import torch
        >>> float(AllenCahn2D.forcing(torch.tensor([[0.0, 0.0]]), 0.1))
        0.0
        """
        z = _phi(x) / (math.sqrt(2.0) * eps)
        sech2 = 1.0 / torch.cosh(z) ** 2
        a_pi2 = AMPLITUDE * math.pi**2
        return sech2 * (
            eps / math.sqrt(2.0) * a_pi2 * torch.sin(math.pi * x[..., 0])
            - torch.tanh(z) * AMPLITUDE * a_pi2 * torch.cos(math.pi * x[..., 0]) ** 2
        )

    @staticmethod
    def initial_state(x: Tensor) -> Tensor:
        """``u0(x, y) = y``, the state at s = 1 of the time homotopy; points ``(..., 2)``."""
        return x[..., 1]

    def steady_residual(self, theta: Tensor, x: Tensor, eps) -> Tensor:
        """``eps^2 Lap u + u - u^3 - f_eps`` at one interior point."""
        u, lap = self.u_and_laplacian(theta, x)
        return eps**2 * lap + u - u**3 - self.forcing(x, eps)

    def dirichlet_residual(self, theta: Tensor, x: Tensor, eps) -> Tensor:
        """``u - u_exact(eps)`` at one boundary point."""
        return self.u(theta, x) - self.exact(x, eps)

    def interior_residual(self, theta: Tensor, x: Tensor, parameter: Tensor) -> Tensor:
        """The interior residual at one point; ``parameter`` is ``eps`` or ``s``."""
        if self.homotopy == "eps":
            return self.steady_residual(theta, x, parameter)
        s = parameter
        sign = -1.0 if self.homotopy == "gradient-flow" else 1.0
        return sign * (1 - s) * self.steady_residual(theta, x, self.eps) + s * (
            self.u(theta, x) - self.initial_state(x)
        )

    def boundary_residual(self, theta: Tensor, x: Tensor, parameter: Tensor) -> Tensor:
        """The boundary residual at one point; ``parameter`` is ``eps`` or ``s``."""
        if self.homotopy == "eps":
            return self.dirichlet_residual(theta, x, parameter)
        s = parameter
        return (1 - s) * self.dirichlet_residual(theta, x, self.eps) + s * (
            self.u(theta, x) - self.initial_state(x)
        )

    def l2re(self, theta: Tensor, eps: Optional[float] = None) -> float:
        """Relative L2 error against the steady exact solution at ``eps`` on the test grid.

        ``eps`` defaults to the target ``eps`` of the problem (``self.eps``).
        For the time homotopy this is the error against the steady solution,
        whatever ``s`` the weights were computed at. (:meth:`loss` takes the
        homotopy parameter, ``s`` for the time homotopy.)
        """
        return super().l2re(theta, self.eps if eps is None else eps)

    def interface_error(self, theta: Tensor) -> float:
        """The largest distance, in ``y``, of the zero level set of ``u_theta`` from ``y = a sin(pi x)``.

        On every column ``x = const`` of the test grid the roots of ``u_theta``
        in ``y`` are located by sign changes and linear interpolation; the root
        farthest from ``a sin(pi x)`` counts. ``nan`` if a column has no root.
        """
        with torch.no_grad():
            n = self.n_test
            grid = self.test_points.reshape(n, n, 2)
            u = self.predict(theta, self.test_points).reshape(n, n)
            y = grid[0, :, 1]
            change = torch.sign(u[:, :-1]) * torch.sign(u[:, 1:]) <= 0
            if not bool(change.any(dim=1).all()):
                return math.nan
            u0, u1 = u[:, :-1], u[:, 1:]
            y0, y1 = y[:-1].expand_as(u0), y[1:].expand_as(u0)
            flat = u1 == u0
            roots = torch.where(flat, y0, y0 - u0 * (y1 - y0) / torch.where(flat, torch.ones_like(u0), u1 - u0))
            interface = AMPLITUDE * torch.sin(math.pi * grid[:, 0, 0])
            distance = torch.where(change, (roots - interface[:, None]).abs(), torch.zeros_like(roots))
            return float(distance.max())
