"""Collocation points in a box and on its boundary.

Quasi-random points come from :mod:`scipy.stats.qmc` (scrambled Sobol or
Halton sequences, which cover a box more evenly than independent uniform
draws); ``"grid"`` gives a uniform tensor-product grid; :func:`layer_grid` is a
one-dimensional grid graded towards a layer (Shishkin's piecewise-uniform
mesh). Points are returned as a ``(N, d)`` tensor, float64 unless asked
otherwise.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import numpy as np
import torch
from scipy.stats import qmc
from torch import Tensor

__all__ = ["METHODS", "box", "box_boundary", "grid", "layer_grid", "shishkin_width"]

METHODS = ("sobol", "halton", "grid")
"""The ways :func:`box` and :func:`box_boundary` place points."""

Device = Union[str, torch.device, None]


def _bounds(lower: Sequence[float], upper: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    lower_array = np.atleast_1d(np.asarray(lower, dtype=np.float64))
    upper_array = np.atleast_1d(np.asarray(upper, dtype=np.float64))
    if lower_array.ndim != 1 or lower_array.shape != upper_array.shape:
        raise ValueError(f"lower and upper must be sequences of the same length, got {lower!r} and {upper!r}")
    if not np.all(np.isfinite(lower_array) & np.isfinite(upper_array) & (lower_array < upper_array)):
        raise ValueError(f"lower must be below upper in every coordinate, got {lower!r} and {upper!r}")
    return lower_array, upper_array


def _count(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return n


def _unit_points(d: int, n: int, method: str, seed: Optional[int]) -> np.ndarray:
    """``n`` points in ``[0, 1]^d``."""
    if method == "grid":
        per_axis = math.ceil(round(n ** (1.0 / d), 9))
        axes = [np.linspace(0.0, 1.0, per_axis)] * d
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    engine = qmc.Sobol(d, seed=seed) if method == "sobol" else qmc.Halton(d, seed=seed)
    if method == "sobol":
        # Sobol sequences are balanced in blocks of 2^m; draw the next power of two and keep n.
        return engine.random_base2(math.ceil(math.log2(n)))[:n]
    return engine.random(n)


def _tensor(points: np.ndarray, dtype: torch.dtype, device: Device) -> Tensor:
    return torch.as_tensor(points, dtype=dtype, device=device)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def box(
    lower: Sequence[float],
    upper: Sequence[float],
    n: int,
    *,
    method: str = "sobol",
    seed: Optional[int] = 0,
    dtype: torch.dtype = torch.float64,
    device: Device = None,
) -> Tensor:
    """Points in the box ``[lower_1, upper_1] x ... x [lower_d, upper_d]``.

    Parameters
    ----------
    lower, upper
        Corners of the box, one value per coordinate.
    n
        Number of points. With ``method="grid"`` the grid has
        ``ceil(n^(1/d))`` points per axis, corners included, so it may hold
        more than ``n`` points.
    method
        ``"sobol"`` (scrambled Sobol, the default), ``"halton"`` (scrambled
        Halton) or ``"grid"``.
    seed
        Seed of the scrambling (``None``: a fresh one each call).
    dtype, device
        Of the returned tensor.

    Returns
    -------
    Tensor
        Shape ``(n, d)`` (``(ceil(n^(1/d))^d, d)`` for a grid).

    Examples
    --------
    >>> x = box([0, -1], [1, 1], 100)
    >>> x.shape, bool((x[:, 1] >= -1).all() and (x[:, 1] <= 1).all())
    (torch.Size([100, 2]), True)
    >>> box([0], [1], 5, method="grid")[:, 0]
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000], dtype=torch.float64)
    """
    lower_array, upper_array = _bounds(lower, upper)
    _check_method(method)
    unit = _unit_points(lower_array.shape[0], _count(n), method, seed)
    return _tensor(lower_array + unit * (upper_array - lower_array), dtype, device)


def grid(
    lower: Sequence[float],
    upper: Sequence[float],
    counts: Union[int, Sequence[int]],
    *,
    interior: bool = False,
    dtype: torch.dtype = torch.float64,
    device: Device = None,
) -> Tensor:
    """A uniform tensor-product grid with ``counts[i]`` points along axis ``i``.

    Parameters
    ----------
    lower, upper
        Corners of the box.
    counts
        Points per axis (one integer for every axis alike).
    interior
        Leave out the points on the boundary: ``counts[i]`` interior points,
        spaced ``(upper_i - lower_i) / (counts[i] + 1)`` apart.
    dtype, device
        Of the returned tensor.

    Examples
    --------
    >>> grid([-1], [1], 3, interior=True)[:, 0]
    tensor([-0.5000,  0.0000,  0.5000], dtype=torch.float64)
    >>> grid([0, 0], [1, 2], [2, 3]).shape
    torch.Size([6, 2])
    """
    lower_array, upper_array = _bounds(lower, upper)
    d = lower_array.shape[0]
    counts = [counts] * d if isinstance(counts, int) else list(counts)
    if len(counts) != d:
        raise ValueError(f"counts must be one integer or {d} integers, got {counts!r}")
    axes = []
    for lo, hi, count in zip(lower_array, upper_array, counts):
        _count(count, "counts")
        axes.append(np.linspace(lo, hi, count + 2)[1:-1] if interior else np.linspace(lo, hi, count))
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    return _tensor(points, dtype, device)


def box_boundary(
    lower: Sequence[float],
    upper: Sequence[float],
    n: int,
    *,
    method: str = "sobol",
    seed: Optional[int] = 0,
    dtype: torch.dtype = torch.float64,
    device: Device = None,
    normals: bool = False,
) -> Union[Tensor, tuple[Tensor, Tensor]]:
    """Points on the boundary of a box, spread over its faces in proportion to their areas.

    In one dimension the boundary is the two end points, whatever ``n``.

    Parameters
    ----------
    lower, upper
        Corners of the box.
    n
        Number of points in all (each face gets at least one). With
        ``method="grid"`` each face holds a whole grid, so there may be more
        points, and the corners of the faces appear on each face they bound.
    method
        How points are placed on each face: ``"sobol"``, ``"halton"`` or
        ``"grid"`` (see :func:`box`).
    seed
        Seed of the scrambling; face ``k`` uses ``seed + k``.
    dtype, device
        Of the returned tensors.
    normals
        Also return the outward unit normal at every point (for Neumann
        conditions, :func:`pde.boundary.neumann`).

    Returns
    -------
    Tensor or tuple of Tensor
        The points ``(N, d)``, and with ``normals=True`` the normals ``(N, d)``.

    Examples
    --------
    >>> box_boundary([-1], [1], 10)[:, 0]
    tensor([-1.,  1.], dtype=torch.float64)
    >>> x, nu = box_boundary([0, 0], [2, 1], 60, normals=True)
    >>> x.shape, int((nu[:, 0] != 0).sum())  # the two short faces get 10 points each
    (torch.Size([60, 2]), 20)
    """
    lower_array, upper_array = _bounds(lower, upper)
    _check_method(method)
    _count(n)
    d = lower_array.shape[0]
    faces = [(axis, side) for axis in range(d) for side in (0, 1)]
    if d == 1:
        shares = [1, 1]
    else:
        lengths = upper_array - lower_array
        areas = np.array([np.prod(np.delete(lengths, axis)) for axis, _ in faces])
        shares = np.maximum(1, np.round(n * areas / areas.sum()).astype(int))
        shares[np.argmax(shares)] += n - shares.sum()  # exactly n points in all
    points, outward = [], []
    for k, ((axis, side), count) in enumerate(zip(faces, shares)):
        others = [i for i in range(d) if i != axis]
        face = np.empty((int(count), d))
        if others:
            unit = _unit_points(d - 1, int(count), method, None if seed is None else seed + k)
            face = np.empty((unit.shape[0], d))
            face[:, others] = lower_array[others] + unit * (upper_array[others] - lower_array[others])
        face[:, axis] = upper_array[axis] if side else lower_array[axis]
        normal = np.zeros_like(face)
        normal[:, axis] = 1.0 if side else -1.0
        points.append(face)
        outward.append(normal)
    x = _tensor(np.concatenate(points), dtype, device)
    return (x, _tensor(np.concatenate(outward), dtype, device)) if normals else x


def layer_grid(
    lower: float,
    upper: float,
    n: int,
    *,
    center: float,
    width: float,
    fraction: float = 0.5,
    dtype: torch.dtype = torch.float64,
    device: Device = None,
) -> Tensor:
    """A piecewise-uniform grid in ``(lower, upper)`` graded towards a layer at ``center`` (Shishkin's mesh).

    The layer ``[center - width, center + width]`` (clipped to the interval)
    gets ``round(fraction * n)`` points, the parts outside it the others,
    in proportion to their lengths; each part is cut into equal cells and
    gets their midpoints, so no point lies on the boundary or twice. The
    density is ``round(fraction n) / (2 width)`` in the layer and
    ``(n - round(fraction n)) / (upper - lower - 2 width)`` outside. When the
    interval is symmetric about ``center`` and ``n - round(fraction n)`` is
    even, the grid is too (``x -> 2 center - x``). A layer that covers the
    interval gives the uniform grid of cell midpoints.

    Parameters
    ----------
    lower, upper
        The interval.
    n
        Number of points.
    center, width
        Where the layer is and its half-width, ``width > 0``; for a layer
        decaying like ``exp(-|x - center| / scale)``, Shishkin's choice is
        :func:`shishkin_width`.
    fraction
        The share of the points in the layer, in ``(0, 1)``.
    dtype, device
        Of the returned tensor.

    Returns
    -------
    Tensor
        Shape ``(n, 1)``, increasing.

    Examples
    --------
    >>> layer_grid(-1.0, 1.0, 8, center=0.0, width=0.1)[:, 0]
    tensor([-0.7750, -0.3250, -0.0750, -0.0250,  0.0250,  0.0750,  0.3250,  0.7750],
           dtype=torch.float64)
    """
    lower_array, upper_array = _bounds([lower], [upper])
    low, high = float(lower_array[0]), float(upper_array[0])
    _count(n)
    if not (math.isfinite(center) and low <= center <= high):
        raise ValueError(f"center must lie in [{low:g}, {high:g}], got {center!r}")
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise ValueError(f"width must be a finite number > 0, got {width!r}")
    if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    start, stop = max(low, center - width), min(high, center + width)
    left, right = start - low, high - stop
    in_layer = n if left + right == 0 else min(n, max(1, round(fraction * n)))
    outside = n - in_layer
    in_left = 0 if left + right == 0 else round(outside * left / (left + right))
    parts = [(low, start, in_left), (start, stop, in_layer), (stop, high, outside - in_left)]
    cells = [a + (b - a) * (np.arange(count) + 0.5) / count for a, b, count in parts if count]
    return _tensor(np.concatenate(cells)[:, None], dtype, device)


def shishkin_width(scale: float, n: int, *, sigma: float = 2.0, cap: float = math.inf) -> float:
    """Shishkin's layer half-width ``min(cap, sigma * scale * ln n)`` for a layer decaying like ``exp(-x / scale)``.

    With ``n`` points, the layer's tail beyond this width is
    ``n^(-sigma)`` of its height: below what ``n`` points resolve.

    Examples
    --------
    >>> round(shishkin_width(0.001, 1000), 6)
    0.013816
    >>> shishkin_width(1.0, 1000, cap=0.5)
    0.5
    """
    for name, value in (("scale", scale), ("sigma", sigma)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if not cap > 0:
        raise ValueError(f"cap must be > 0, got {cap!r}")
    return min(cap, sigma * scale * math.log(_count(n)))
