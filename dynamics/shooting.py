"""Multiple shooting for neural ODEs, the seed's second baseline, as a residual map.

The observation indices are cut into ``S`` segments that share their end
points. Segment ``s`` starts from its own state ``x_s`` (``x_0 = y_0``, fixed;
``x_1 .. x_{S-1}`` are trainable, initialised at the data) and is integrated
over its own times. The state is ``[theta, x_1, ..., x_{S-1}]`` and

    ||H||^2 = mean over segments' points of (u - y)^2
              + w * sum over inner boundaries of ||u_s(end) - x_{s+1}||^2,

``w`` being the continuity weight (2e-3 in P7).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from continuation import ResidualMap
from models.neural_ode import NeuralODE

__all__ = ["MultipleShootingResidual"]


class MultipleShootingResidual(ResidualMap):
    """Segment misfits and continuity defects of a neural ODE; ``eps`` is ignored.

    Parameters
    ----------
    model
        The neural ODE.
    t, y
        Observation times ``(N,)`` and data ``(N, n)``.
    segments
        Number of segments ``S`` (5 in P7); each holds at least two observations.
    continuity
        Weight ``w`` of the continuity defects.

    Examples
    --------
    >>> import torch
    >>> from models.neural_ode import NeuralODE
    >>> t = torch.linspace(0, 1, 11, dtype=torch.float64)
    >>> y = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    >>> H = MultipleShootingResidual(NeuralODE([2, 8, 2]), t, y, segments=5)
    >>> H.boundaries
    [0, 2, 4, 6, 8, 10]
    >>> theta = H.initial_state(H.model.init(seed=0))
    >>> theta.shape[0] - H.model.num_weights   # four trainable segment starts
    8
    """

    def __init__(self, model: NeuralODE, t: Tensor, y: Tensor, segments: int = 5, continuity: float = 2e-3):
        if t.ndim != 1 or y.shape != (t.shape[0], model.dimension):
            raise ValueError(
                f"t and y must have shapes (N,) and (N, {model.dimension}), got {tuple(t.shape)} and "
                f"{tuple(y.shape)}"
            )
        if not isinstance(segments, int) or not 1 <= segments <= (t.shape[0] - 1):
            raise ValueError(f"segments must be an integer in [1, {t.shape[0] - 1}], got {segments!r}")
        if not (math.isfinite(continuity) and continuity >= 0):
            raise ValueError(f"continuity must be a finite number >= 0, got {continuity!r}")
        self.model, self.t, self.y = model, t, y
        self.segments, self.continuity = segments, float(continuity)
        self.boundaries = [round(i * (t.shape[0] - 1) / segments) for i in range(segments + 1)]
        self.fit_points = sum(b - a + 1 for a, b in zip(self.boundaries, self.boundaries[1:]))

    def initial_state(self, theta: Tensor) -> Tensor:
        """``[theta, y at the inner segment starts]``, the starting state of a run."""
        return torch.cat([theta, self.y[self.boundaries[1:-1]].reshape(-1)])

    def weights(self, state: Tensor) -> Tensor:
        """The network weights ``theta`` in a state."""
        return state[: self.model.num_weights]

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        weights = self.weights(theta)
        starts = [self.y[0]] + list(theta[self.model.num_weights :].reshape(-1, self.model.dimension))
        misfits, defects = [], []
        for s, (a, b) in enumerate(zip(self.boundaries, self.boundaries[1:])):
            u = self.model.trajectory(weights, starts[s], self.t[a : b + 1])
            misfits.append((u - self.y[a : b + 1]).reshape(-1))
            if s + 1 < self.segments:
                defects.append(u[-1] - starts[s + 1])
        fit = torch.cat(misfits) / math.sqrt(self.fit_points * self.model.dimension)
        if not defects:
            return fit
        return torch.cat([fit, math.sqrt(self.continuity) * torch.cat(defects)])

    def __repr__(self) -> str:
        return f"MultipleShootingResidual(segments={self.segments}, continuity={self.continuity:g})"
