"""The dynamical systems of P7 (seed 002) and their noisy trajectory data.

Each :class:`System` holds an exact vector field, the initial state, the
observation grid, the noise model and the network widths of P7. 
:func:`make_data` integrates the exact field (tightly: ``rtol = atol = 1e-10``)
on a dense grid that covers the observation span and 20% beyond it (the
extrapolation window), and adds noise with a fixed seed at the observation
times.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from models.neural_ode import integrate

__all__ = [
    "System",
    "TrajectoryData",
    "SYSTEMS",
    "lotka_volterra",
    "lorenz",
    "double_pendulum",
    "make_data",
]


def lotka_volterra(u: Tensor, a: float = 1.3, b: float = 0.9, c: float = 0.8, d: float = 1.8) -> Tensor:
    """``(a u1 - b u1 u2, c u1 u2 - d u2)`` for a state ``(..., 2)``."""
    u1, u2 = u[..., 0], u[..., 1]
    return torch.stack([a * u1 - b * u1 * u2, c * u1 * u2 - d * u2], dim=-1)


def lorenz(u: Tensor, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> Tensor:
    """The Lorenz field for a state ``(..., 3)``."""
    x, y, z = u[..., 0], u[..., 1], u[..., 2]
    return torch.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], dim=-1)


def double_pendulum(u: Tensor, g: float = 9.81) -> Tensor:
    """The double pendulum, unit masses and lengths, state ``(th1, th2, w1, w2)``."""
    th1, th2, w1, w2 = u[..., 0], u[..., 1], u[..., 2], u[..., 3]
    delta = th1 - th2
    denominator = 3 - torch.cos(2 * delta)
    dw1 = (
        -3 * g * torch.sin(th1) - g * torch.sin(th1 - 2 * th2)
        - 2 * torch.sin(delta) * (w2**2 + w1**2 * torch.cos(delta))
    ) / denominator
    dw2 = 2 * torch.sin(delta) * (2 * w1**2 + 2 * g * torch.cos(th1) + w2**2 * torch.cos(delta)) / denominator
    return torch.stack([w1, w2, dw1, dw2], dim=-1)


@dataclass(frozen=True)
class System:
    """A system of P7: exact field, initial state, observation grid, noise, network.

    Attributes
    ----------
    name
        Key in :data:`SYSTEMS`.
    field
        Exact vector field ``f(u)`` (autonomous), batched over leading axes.
    u0
        Initial state.
    t_end, dt
        Observations at ``0, dt, ..., t_end``.
    noise
        Noise standard deviation: absolute, or relative to each component's
        standard deviation over the observed trajectory (``relative_noise``).
    relative_noise
        See ``noise``.
    widths
        Network widths of the neural ODE (P7).
    """

    name: str
    field: Callable[[Tensor], Tensor]
    u0: tuple[float, ...]
    t_end: float
    dt: float
    noise: float
    relative_noise: bool
    widths: tuple[int, ...]

    @property
    def observations(self) -> int:
        """Number of observation times."""
        return int(round(self.t_end / self.dt)) + 1


SYSTEMS: dict[str, System] = {
    "lotka-volterra": System(
        "lotka-volterra", lotka_volterra, (0.44249296, 4.6280594), 6.1, 0.1, 0.05, True, (2, 32, 2)
    ),
    "lorenz": System("lorenz", lorenz, (1.2, 2.1, 1.7), 3.1, 0.1, 0.25, False, (3, 50, 50, 3)),
    "double-pendulum": System(
        "double-pendulum", double_pendulum, (1.0, 0.5, 0.0, 0.0), 5.9, 0.1, 0.05, False, (4, 50, 50, 4)
    ),
}
"""The systems of P7 by name. The double pendulum is simulated (the seed's lab
data is not available): 60 observations of both angles and angular
velocities, absolute noise 0.05."""


@dataclass(frozen=True)
class TrajectoryData:
    """Noisy observations and the noise-free truth on a dense grid.

    Attributes
    ----------
    t
        Observation times ``(N,)``; ``t[0] = 0``.
    y
        Noisy observations ``(N, n)``.
    t_dense, y_dense
        Dense grid (``refine`` points per observation interval) over the
        observation span and the extrapolation window, and the exact solution
        on it. The observation times are grid points: ``t = t_dense[::refine][:N]``.
    interpolation
        Boolean mask of ``t_dense`` within ``[0, t_end]``.
    extrapolation
        Boolean mask of ``t_dense`` in ``(t_end, t_end + fraction * t_end]``.
    """

    t: Tensor
    y: Tensor
    t_dense: Tensor
    y_dense: Tensor
    interpolation: Tensor
    extrapolation: Tensor
    refine: int

    @property
    def y_true(self) -> Tensor:
        """The exact solution at the observation times."""
        return self.y_dense[:: self.refine][: self.t.shape[0]]


def make_data(
    system: System | str,
    seed: int = 0,
    *,
    refine: int = 5,
    extrapolation: float = 0.2,
    dtype: torch.dtype = torch.float64,
) -> TrajectoryData:
    """Noisy observations of ``system`` and its exact solution on a dense grid.

    Parameters
    ----------
    system
        A :class:`System` or a name in :data:`SYSTEMS`.
    seed
        Seed of the noise. The initial state is observed exactly (P7 gives
        it): the noise is added from the second observation on.
    refine
        Dense-grid points per observation interval.
    extrapolation
        Length of the extrapolation window, as a fraction of ``t_end``.

    Examples
    --------
    >>> data = make_data("lotka-volterra", seed=0)
    >>> tuple(data.y.shape), int(data.interpolation.sum()), int(data.extrapolation.sum())
    ((62, 2), 306, 61)
    """
    if isinstance(system, str):
        if system not in SYSTEMS:
            raise ValueError(f"system must be one of {sorted(SYSTEMS)}, got {system!r}")
        system = SYSTEMS[system]
    if not isinstance(refine, int) or refine < 1:
        raise ValueError(f"refine must be a positive integer, got {refine!r}")
    if not (math.isfinite(extrapolation) and extrapolation >= 0):
        raise ValueError(f"extrapolation must be a finite number >= 0, got {extrapolation!r}")
    return _make_data(system, seed, refine, float(extrapolation), dtype)


@functools.lru_cache(maxsize=16)
def _make_data(system: System, seed: int, refine: int, extrapolation: float, dtype: torch.dtype) -> TrajectoryData:
    """The data of :func:`make_data`, computed once per argument tuple."""
    step = system.dt / refine
    n_interp = (system.observations - 1) * refine + 1
    n_extra = int(round(extrapolation * system.t_end / step))
    t_dense = torch.arange(n_interp + n_extra, dtype=dtype) * step
    u0 = torch.tensor(system.u0, dtype=dtype)
    y_dense = integrate(lambda _, u: system.field(u), u0, t_dense, rtol=1e-10, atol=1e-10)
    y_true = y_dense[:n_interp:refine]
    scale = system.noise * (y_true.std(dim=0) if system.relative_noise else torch.ones_like(u0))
    generator = torch.Generator().manual_seed(seed)
    noise = scale * torch.randn(y_true.shape, generator=generator, dtype=dtype)
    y = y_true + torch.cat([torch.zeros_like(u0)[None], noise[1:]])  # u(0) is known exactly (P7)
    index = torch.arange(t_dense.shape[0])
    return TrajectoryData(
        t=t_dense[:n_interp:refine], y=y, t_dense=t_dense, y_dense=y_dense,
        interpolation=index < n_interp, extrapolation=index >= n_interp, refine=refine,
    )
