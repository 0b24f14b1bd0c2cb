"""A random feature model: fixed random inner weights, trainable outer coefficients."""

from __future__ import annotations

from typing import Callable, Union

import torch
from torch import Tensor

from .mlp import resolve_activation

__all__ = ["RandomFeatures"]


class RandomFeatures:
    """``u(x) = sum_m theta_m sigma(w_m . x + b_m)`` with ``w_m, b_m`` drawn once and frozen.

    The inner weights and biases are independent draws from the uniform
    distribution on ``[-scale, scale]``; only the ``features`` outer
    coefficients ``theta`` are the state. The model is linear in ``theta``,
    so the Jacobian of any linear residual built on it is the feature matrix
    itself (the random feature method).

    Parameters
    ----------
    d_in
        Input dimension.
    features
        Number of features ``M`` (the length of ``theta``).
    activation
        A name in :data:`models.ACTIVATIONS` or a callable.
    scale
        Half-width of the uniform distribution of ``w_m`` and ``b_m``.
    seed
        Seed of the draw.
    dtype
        Floating dtype.

    Examples
    --------
    >>> import torch
    >>> model = RandomFeatures(1, 4, scale=2.0, seed=0)
    >>> model.num_weights, model.widths
    (4, [1, 4, 1])
    >>> model.apply(model.init(), torch.zeros(3, 1, dtype=torch.float64)).shape
    torch.Size([3, 1])
    >>> bool(model.inner_weights.abs().max() <= 2.0)
    True
    """

    def __init__(
        self,
        d_in: int,
        features: int,
        activation: Union[str, Callable[[Tensor], Tensor]] = "sin",
        scale: float = 1.0,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ):
        for name, value in (("d_in", d_in), ("features", features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(scale, (int, float)) and 0 < float(scale) < float("inf")):
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        activation = resolve_activation(activation)
        generator = torch.Generator().manual_seed(seed)
        self.inner_weights = (2 * torch.rand(features, d_in, generator=generator, dtype=dtype) - 1) * float(scale)
        self.inner_biases = (2 * torch.rand(features, generator=generator, dtype=dtype) - 1) * float(scale)
        self.activation = activation
        self.scale = float(scale)
        self.dtype = dtype
        self.widths = [d_in, features, 1]
        self.num_weights = features

    def init(self, seed: int = 0) -> Tensor:
        """Zero coefficients (the features are drawn at construction; ``seed`` is unused)."""
        return torch.zeros(self.num_weights, dtype=self.dtype)

    def features(self, x: Tensor) -> Tensor:
        """``sigma(x W^T + b)``: shape ``(M,)`` for one point, ``(N, M)`` for a batch."""
        return self.activation(x @ self.inner_weights.T + self.inner_biases)

    def apply(self, theta: Tensor, x: Tensor) -> Tensor:
        """The model at ``x``: one point ``(d_in,)`` gives shape ``(1,)``, a batch ``(N, d_in)`` gives ``(N, 1)``."""
        if theta.shape != (self.num_weights,):
            raise ValueError(f"theta must have shape ({self.num_weights},), got {tuple(theta.shape)}")
        return (self.features(x) @ theta)[..., None]

    def __repr__(self) -> str:
        return f"RandomFeatures(widths={self.widths}, scale={self.scale:g})"
