"""Finite-difference references for steady Burgers: P5 by time marching and by Newton, and with a source.

Both solve ``nu u_xx - u u_x = f`` on the uniform grid ``x_j = -1 + j h``,
``h = 2 / n``, with the boundary values held fixed (P5: ``u(-1) = g``,
``u(1) = -g`` and ``f = 0``) and second-order central differences

    F_j(u) = nu (u_{j+1} - 2 u_j + u_{j-1}) / h^2 - u_j (u_{j+1} - u_{j-1}) / (2 h) - f_j,

for a batch of ``F`` initial states at once (arrays of shape ``(F, n + 1)``,
numpy, vectorised over the batch):

* :func:`march_explicit`: forward Euler in time, ``u <- u + dt F(u)``, the
  seed's reference; ``dt`` obeys the diffusion limit ``h^2 / (2 nu)`` and the
  cell-Peclet limit ``2 nu / max|u|^2``, so it costs ``O(n^2)`` steps per unit
  time, and the approach to the steady state slows down like ``exp(-1 / nu)``
  when a shock sits off the centre (metastability).
* :func:`newton_steady`: damped Newton on ``F(u) = 0`` directly, one banded
  (tridiagonal) solve per iteration for the whole batch (``scipy``), with
  an optional source ``f`` (one per state) and given boundary values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ["FDResult", "fd_grid", "fd_residual", "march_explicit", "newton_steady"]


@dataclass(frozen=True)
class FDResult:
    """What a finite-difference solve returns.

    Attributes
    ----------
    u
        The states on the grid, boundary values included, shape ``(F, n + 1)``.
    residual
        ``max_j |F_j(u)|`` for each state, shape ``(F,)``.
    converged
        ``residual <= tol`` for each state, shape ``(F,)``.
    iterations
        Newton iterations, or time steps of the march.
    time
        Time reached by the march (0 for Newton).
    """

    u: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    iterations: int
    time: float = 0.0


def _check_positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def fd_grid(n: int) -> np.ndarray:
    """The ``n + 1`` nodes ``-1 + 2 j / n`` of ``[-1, 1]``.

    Examples
    --------
    >>> fd_grid(4)
    array([-1. , -0.5,  0. ,  0.5,  1. ])
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (intervals of the grid), got {n!r}")
    return np.linspace(-1.0, 1.0, n + 1)


def fd_residual(u: np.ndarray, nu: float, source: Optional[np.ndarray] = None) -> np.ndarray:
    """``F_j(u)`` at the interior nodes, shape ``(F, n - 1)``, for states ``u`` of shape ``(F, n + 1)``.

    ``source``: the values ``f_j`` at every node, shape ``(F, n + 1)`` (only
    the interior ones are used); ``None`` for ``f = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> x = fd_grid(4)
    >>> fd_residual(np.stack([x**2]), nu=1.0)  # u'' = 2, u u' = 2 x^3 exactly on this grid
    array([[2.25, 2.  , 1.75]])
    >>> fd_residual(np.stack([x**2]), nu=1.0, source=np.stack([2 - 2 * x**3]))
    array([[0., 0., 0.]])
    """
    h = 2.0 / (u.shape[1] - 1)
    left, centre, right = u[:, :-2], u[:, 1:-1], u[:, 2:]
    residual = nu * (right - 2 * centre + left) / h**2 - centre * (right - left) / (2 * h)
    return residual if source is None else residual - source[:, 1:-1]


def _check_states(u_start: np.ndarray, nu: float, tol: float) -> tuple[np.ndarray, float, float]:
    u = np.array(u_start, dtype=np.float64, ndmin=2)
    if u.ndim != 2 or u.shape[1] < 3 or not np.all(np.isfinite(u)):
        raise ValueError(f"u_start must be finite states of shape (F, n + 1) with n >= 2, got {np.shape(u_start)}")
    return u, _check_positive("nu", nu), _check_positive("tol", tol)


def _with_boundary(u: np.ndarray, left: float, right: float) -> np.ndarray:
    u = u.copy()
    u[:, 0], u[:, -1] = left, right
    return u


def _boundary(nu: float, boundary: Optional[tuple[float, float]]) -> tuple[float, float]:
    """The given boundary values, or P5's ``(g, -g)``, ``g = tanh(1 / (2 nu))``."""
    if boundary is None:
        g = math.tanh(1.0 / (2.0 * nu))
        return g, -g
    return boundary


def march_explicit(
    u_start: np.ndarray,
    nu: float,
    *,
    tol: float = 1e-8,
    t_max: float = 100.0,
    cfl: float = 0.9,
) -> FDResult:
    """Forward-Euler time march of ``u_t = nu u_xx - u u_x`` until ``max|u_t| <= tol`` for every state.

    Parameters
    ----------
    u_start
        Initial states on :func:`fd_grid`, shape ``(F, n + 1)``; their end
        values are replaced by ``+-g``, ``g = tanh(1 / (2 nu))``.
    nu
        Viscosity.
    tol
        Stop when ``max_j |F_j(u)| = max|u_t|`` is at most ``tol`` for every state.
    t_max
        Stop at this time anyway (``converged`` then says which states made it).
    cfl
        Fraction of the stability limit ``min(h^2 / (2 nu), 2 nu / max|u|^2)``
        used as the time step.

    Examples
    --------
    >>> import numpy as np
    >>> x = fd_grid(20)
    >>> result = march_explicit(np.stack([-np.tanh(0.5) * x]), nu=0.5, tol=1e-8)
    >>> bool(result.converged[0]), float(np.abs(result.u[0] + np.tanh(x)).max()) < 1e-3
    (True, True)
    """
    u, nu, tol = _check_states(u_start, nu, tol)
    t_max, cfl = _check_positive("t_max", t_max), _check_positive("cfl", cfl)
    if cfl > 1:
        raise ValueError(f"cfl must be at most 1, got {cfl!r}")
    g = math.tanh(1.0 / (2.0 * nu))
    u = _with_boundary(u, g, -g)
    h = 2.0 / (u.shape[1] - 1)
    speed = max(float(np.abs(u).max()), g)
    dt = cfl * min(h**2 / (2 * nu), 2 * nu / speed**2)
    steps, time = 0, 0.0
    while True:
        rate = fd_residual(u, nu)
        residual = np.abs(rate).max(axis=1)
        if bool(np.all(residual <= tol)) or time >= t_max:
            return FDResult(u, residual, residual <= tol, steps, time)
        u[:, 1:-1] += dt * rate
        steps, time = steps + 1, time + dt


def newton_steady(
    u_start: np.ndarray,
    nu: float,
    *,
    tol: float = 1e-9,
    max_iterations: int = 100,
    nu_start: Optional[float] = None,
    ratio: float = 0.5,
    source: Optional[np.ndarray] = None,
    boundary: Optional[tuple[float, float]] = None,
) -> FDResult:
    """Damped Newton on the steady equations ``F(u) = 0``, every state of the batch at once.

    Each iteration solves the tridiagonal Newton systems of all states as one
    banded system (``scipy.linalg.solve_banded``); the step of each state is
    halved (at most 40 times) until ``||F||_2`` decreases.

    From a guess whose shock sits off the centre, plain Newton crawls at
    small ``nu``: the shock position is pinned only by terms of size
    ``exp(-1 / nu)``. With ``nu_start``, Newton instead follows the viscosity
    homotopy: it solves at ``nu_start``, then at ``nu_start * ratio^k`` down
    to ``nu``, each solve starting from the previous solution (P5's boundary
    values reset to ``+-g`` of the new ``nu``; given ones stay).

    Parameters
    ----------
    u_start
        Initial guesses on :func:`fd_grid`, shape ``(F, n + 1)``; their end
        values are replaced by the boundary values.
    nu
        Viscosity.
    tol
        Converged when ``max_j |F_j(u)| <= tol``.
    max_iterations
        Bound on the Newton iterations of each solve.
    nu_start
        Start of the viscosity continuation (``None``: plain Newton at ``nu``).
    ratio
        Factor between consecutive viscosities of the continuation.
    source
        The source ``f`` at the grid nodes, one row per state, shape
        ``(F, n + 1)``; ``None`` for ``f = 0`` (P5).
    boundary
        The values ``(u(-1), u(1))``; ``None`` for P5's ``(g, -g)``,
        ``g = tanh(1 / (2 nu))``.

    Returns
    -------
    FDResult
        ``iterations`` counts the Newton iterations of all the solves.

    Examples
    --------
    >>> import numpy as np
    >>> x = fd_grid(40)
    >>> result = newton_steady(np.stack([np.cos(3 * x), x**3]), nu=0.1)
    >>> bool(result.converged.all()), float(np.abs(result.u + np.tanh(5 * x)).max()) < 0.05
    (True, True)
    >>> homotopy = newton_steady(np.stack([np.cos(3 * x), x**3]), nu=0.1, nu_start=1.0)
    >>> bool(homotopy.converged.all()), homotopy.iterations < result.iterations
    (True, True)

    With a source, ``u = 1 - x^2`` solves ``u'' - u u' = -2 + 2 x (1 - x^2)``,
    ``u(+-1) = 0``, and the scheme is exact for it:

    >>> f = np.stack([-2 + 2 * x * (1 - x**2)])
    >>> exact = newton_steady(np.zeros((1, 41)), nu=1.0, source=f, boundary=(0.0, 0.0))
    >>> float(np.abs(exact.u[0] - (1 - x**2)).max()) < 1e-9
    True
    """
    u, nu, tol = _check_states(u_start, nu, tol)
    if source is not None:
        source = np.asarray(source, dtype=np.float64)
        if source.shape != u.shape or not np.all(np.isfinite(source)):
            raise ValueError(f"source must be finite values of shape {u.shape} (one row per state), got "
                             f"{np.shape(source)}")
    if boundary is not None:
        if len(boundary) != 2 or not all(isinstance(b, (int, float)) and math.isfinite(b) for b in boundary):
            raise ValueError(f"boundary must be two finite numbers (u(-1), u(1)), got {boundary!r}")
        boundary = (float(boundary[0]), float(boundary[1]))
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}")
    if nu_start is None:
        ladder = [nu]
    else:
        nu_start = _check_positive("nu_start", nu_start)
        ratio = _check_positive("ratio", ratio)
        if nu_start < nu or ratio >= 1:
            raise ValueError(f"need nu_start >= nu and ratio < 1, got nu_start={nu_start!r}, ratio={ratio!r}")
        count = math.ceil(math.log(nu / nu_start) / math.log(ratio) - 1e-9)
        ladder = [nu_start * ratio**k for k in range(count)] + [nu]
    total = 0
    for level in ladder:
        result = _newton(u, level, tol, max_iterations, source, _boundary(level, boundary))
        u, total = result.u, total + result.iterations
    return FDResult(u, result.residual, result.converged, total)


def _newton(
    u_start: np.ndarray, nu: float, tol: float, max_iterations: int, source: Optional[np.ndarray],
    boundary: tuple[float, float],
) -> FDResult:
    """Damped Newton at one viscosity (see :func:`newton_steady`)."""
    from scipy.linalg import solve_banded

    u = _with_boundary(u_start, *boundary)
    count, interior = u.shape[0], u.shape[1] - 2
    h = 2.0 / (u.shape[1] - 1)
    residual = fd_residual(u, nu, source)
    for iteration in range(max_iterations):
        worst = np.abs(residual).max(axis=1)
        if bool(np.all(worst <= tol)):
            return FDResult(u, worst, worst <= tol, iteration)
        left, centre, right = u[:, :-2], u[:, 1:-1], u[:, 2:]
        lower = nu / h**2 + centre / (2 * h)  # dF_j / du_{j-1}
        diagonal = -2 * nu / h**2 - (right - left) / (2 * h)
        upper = nu / h**2 - centre / (2 * h)  # dF_j / du_{j+1}
        bands = np.zeros((3, count, interior))
        bands[0, :, 1:] = upper[:, :-1]  # no coupling between neighbouring states of the batch
        bands[1] = diagonal
        bands[2, :, :-1] = lower[:, 1:]
        step = solve_banded((1, 1), bands.reshape(3, -1), -residual.reshape(-1)).reshape(count, interior)
        done = worst <= tol
        step[done] = 0.0
        norm = np.linalg.norm(residual, axis=1)
        length = np.ones((count, 1))
        for _ in range(40):
            trial = u.copy()
            trial[:, 1:-1] += length * step
            trial_residual = fd_residual(trial, nu, source)
            better = (np.linalg.norm(trial_residual, axis=1) < norm) | done
            if bool(better.all()):
                break
            length[~better] /= 2
        u = trial
        residual = trial_residual
    worst = np.abs(residual).max(axis=1)
    return FDResult(u, worst, worst <= tol, max_iterations)
