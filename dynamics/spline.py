"""A natural cubic spline in torch: coefficients computed once, evaluation batched.

The synchronization homotopy evaluates the interpolant of the data at every
right-hand-side call of the ODE solver; doing that in torch (one bucketize,
one Horner polynomial) keeps it cheap, where a call into scipy at every
evaluation made an epoch several times slower.
"""

from __future__ import annotations

import bisect

import torch
from torch import Tensor

__all__ = ["CubicSpline"]


class CubicSpline:
    """The natural cubic spline through ``(knots[i], values[i])``.

    Parameters
    ----------
    knots
        Increasing times, shape ``(N,)``, ``N >= 3``.
    values
        Data at the knots, shape ``(N, n)`` (or ``(N,)`` for one component).

    Notes
    -----
    The second derivatives ``m`` solve the tridiagonal system
    ``h[i-1] m[i-1] + 2 (h[i-1] + h[i]) m[i] + h[i] m[i+1] = 6 (d[i] - d[i-1])``
    (``d`` the divided differences) with ``m[0] = m[N-1] = 0``. On interval
    ``i`` the spline is ``a + s (b + s (c + s e))``, ``s = t - knots[i]``;
    beyond the ends, the first and last polynomials are continued.

    Examples
    --------
    >>> import torch
    >>> t = torch.linspace(0, 1, 5, dtype=torch.float64)
    >>> spline = CubicSpline(t, 2 * t + 1)            # a line is reproduced exactly
    >>> spline(torch.tensor([0.3, 0.6], dtype=torch.float64))
    tensor([1.6000, 2.2000], dtype=torch.float64)
    """

    def __init__(self, knots: Tensor, values: Tensor):
        if knots.ndim != 1 or knots.numel() < 3:
            raise ValueError(f"knots must be a 1-D tensor of at least 3 times, got shape {tuple(knots.shape)}")
        if not bool((knots[1:] > knots[:-1]).all()):
            raise ValueError("knots must be strictly increasing")
        if values.shape[0] != knots.shape[0] or values.ndim not in (1, 2):
            raise ValueError(
                f"values must have shape (N,) or (N, n) with N = {knots.shape[0]}, got {tuple(values.shape)}"
            )
        self.scalar = values.ndim == 1
        y = values.reshape(knots.shape[0], -1).to(knots.dtype)
        h = (knots[1:] - knots[:-1])[:, None]
        slopes = (y[1:] - y[:-1]) / h
        second = self._second_derivatives(h[:, 0], slopes)
        self.knots = knots.contiguous()
        self.coefficients = torch.stack(
            [
                y[:-1],
                slopes - h * (2 * second[:-1] + second[1:]) / 6,
                second[:-1] / 2,
                (second[1:] - second[:-1]) / (6 * h),
            ]
        )  # (4, N - 1, n)
        # per interval the four coefficient vectors (a, b, c, e), for the solver's one-time calls
        self._pieces = [tuple(piece.unbind(0)) for piece in self.coefficients.permute(1, 0, 2)]
        self._knot_list = knots.tolist()

    def _at_one_time(self, time: Tensor) -> Tensor:
        """One time, the ODE solver's call: the interval by bisection in Python, then Horner in torch.

        ``time`` keeps its autograd graph: the solver's first step size depends on
        the weights, and dropping that dependence here (and only here) would make
        the gradient of a trajectory inconsistent with its finite differences.
        """
        position = float(time.detach())
        interval = min(max(bisect.bisect_right(self._knot_list, position) - 1, 0), len(self._knot_list) - 2)
        a, b, c, e = self._pieces[interval]
        s = time - self._knot_list[interval]
        return torch.addcmul(a, s, torch.addcmul(b, s, torch.addcmul(c, s, e)))  # Horner, fused

    @staticmethod
    def _second_derivatives(h: Tensor, slopes: Tensor) -> Tensor:
        n_inner = h.shape[0] - 1
        matrix = torch.zeros(n_inner, n_inner, dtype=h.dtype)
        index = torch.arange(n_inner)
        matrix[index, index] = 2 * (h[:-1] + h[1:])
        matrix[index[1:], index[:-1]] = h[1:-1]
        matrix[index[:-1], index[1:]] = h[1:-1]
        inner = torch.linalg.solve(matrix, 6 * (slopes[1:] - slopes[:-1]))
        zero = torch.zeros(1, slopes.shape[1], dtype=h.dtype)
        return torch.cat([zero, inner, zero])

    def __call__(self, t: Tensor) -> Tensor:
        """The spline at ``t``: a scalar gives shape ``(n,)``, times ``(T,)`` give ``(T, n)``."""
        if t.ndim == 0 and not self.scalar:
            return self._at_one_time(t)
        flat = t.reshape(-1).to(self.knots.dtype)
        interval = (torch.bucketize(flat, self.knots, right=True) - 1).clamp(0, self.knots.shape[0] - 2)
        s = (flat - self.knots[interval])[:, None]
        a, b, c, e = self.coefficients[:, interval]
        value = a + s * (b + s * (c + s * e))
        if self.scalar:
            value = value[:, 0]
        return value.reshape(t.shape + value.shape[1:])
