"""A multilayer perceptron whose weights are one flat vector."""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor

__all__ = ["MLP", "ACTIVATIONS", "ACTIVATION_DERIVATIVES"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "gelu": torch.nn.functional.gelu,
    "sin": torch.sin,
    "softplus": torch.nn.functional.softplus,
}
"""Activations by name."""

ACTIVATION_DERIVATIVES: dict[str, Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]] = {
    "tanh": lambda z, a: (1 - a * a, -2 * a * (1 - a * a)),
    "sin": lambda z, a: (torch.cos(z), -a),
}
"""``(sigma'(z), sigma''(z))`` from ``z`` and ``a = sigma(z)``, for the activations
:meth:`MLP.apply_with_laplacian` supports."""


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float64 -> "float64"``, the form a saved configuration keeps.

    Examples
    --------
    >>> dtype_name(torch.float32)
    'float32'
    """
    return str(dtype).removeprefix("torch.")


def resolve_activation(activation: Union[str, Callable[[Tensor], Tensor]]) -> Callable[[Tensor], Tensor]:
    """The activation function named by ``activation`` (a key of :data:`ACTIVATIONS`), or ``activation`` itself.

    Examples
    --------
    >>> resolve_activation("tanh") is ACTIVATIONS["tanh"]
    True
    """
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        return ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation must be a name or a callable, got {type(activation).__name__}")
    return activation


class MLP:
    """A fully connected network ``R^{widths[0]} -> R^{widths[-1]}`` with a flat weight vector.

    The network is a pure function of its weights: :meth:`apply` takes the
    flat vector ``theta`` explicitly, so that :mod:`torch.func` can
    differentiate and vmap it, and so that the continuation engine can treat
    ``theta`` as its state. Layer ``k`` stores its weight matrix (row-major,
    ``out x in``) and then its bias.

    Parameters
    ----------
    widths
        Layer widths, input first, e.g. ``[1, 30, 30, 30, 1]``.
    activation
        A name in :data:`ACTIVATIONS` or a callable.
    dtype
        Floating dtype of the weights made by :meth:`init` (float64 by
        default; float32 halves the memory, but its Jacobians hold the
        residual near 1e-5 to 1e-4: trace it with ``Options(tol=1e-4)``).
    device
        Device of the weights made by :meth:`init` (``"cpu"``, ``"cuda"``,
        a :class:`torch.device`); the random draws are made on the CPU
        first, so a seed gives the same weights on every device.

    Examples
    --------
    >>> import torch
    >>> net = MLP([1, 30, 30, 30, 1])
    >>> net.num_weights
    1951
    >>> theta = net.init(seed=0)
    >>> net.apply(theta, torch.zeros(1, dtype=torch.float64)).shape  # one point
    torch.Size([1])
    >>> net.apply(theta, torch.zeros(5, 1, dtype=torch.float64)).shape  # a batch
    torch.Size([5, 1])
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: Union[str, Callable[[Tensor], Tensor]] = "tanh",
        dtype: torch.dtype = torch.float64,
        device: Union[str, torch.device, None] = None,
    ):
        widths = list(widths)
        if len(widths) < 2 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be at least two positive integers, got {widths!r}")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        self.activation_name = activation if isinstance(activation, str) else None
        self.derivatives = ACTIVATION_DERIVATIVES.get(activation) if isinstance(activation, str) else None
        activation = resolve_activation(activation)
        self.widths = widths
        self.activation = activation
        self.dtype = dtype
        self.device = torch.device("cpu" if device is None else device)
        self.shapes = [(n_out, n_in) for n_in, n_out in zip(widths, widths[1:])]
        self.num_weights = sum(n_out * n_in + n_out for n_out, n_in in self.shapes)

    def init(self, seed: Optional[int] = None, generator: Optional[torch.Generator] = None) -> Tensor:
        """Xavier-normal weights and zero biases, as one flat vector.

        Parameters
        ----------
        seed
            Seed of a fresh generator (ignored if ``generator`` is given).
        generator
            A torch generator to draw from.
        """
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        pieces = []
        for n_out, n_in in self.shapes:
            std = math.sqrt(2.0 / (n_in + n_out))
            pieces.append(torch.randn(n_out * n_in, generator=generator, dtype=self.dtype) * std)
            pieces.append(torch.zeros(n_out, dtype=self.dtype))
        return torch.cat(pieces).to(self.device)

    def unflatten(self, theta: Tensor) -> list[tuple[Tensor, Tensor]]:
        """The ``(weight, bias)`` pairs of the layers, as views of ``theta``."""
        if theta.shape != (self.num_weights,):
            raise ValueError(f"theta must have shape ({self.num_weights},), got {tuple(theta.shape)}")
        layers, offset = [], 0
        for n_out, n_in in self.shapes:
            weight = theta[offset : offset + n_out * n_in].reshape(n_out, n_in)
            offset += n_out * n_in
            layers.append((weight, theta[offset : offset + n_out]))
            offset += n_out
        return layers

    def apply(self, theta: Tensor, x: Tensor) -> Tensor:
        """The network at ``x``: one point of shape ``(d_in,)`` or a batch ``(N, d_in)``."""
        layers = self.unflatten(theta)
        h = x
        for weight, bias in layers[:-1]:
            h = self.activation(h @ weight.T + bias)
        weight, bias = layers[-1]
        return h @ weight.T + bias

    def negated(self, theta: Tensor) -> Tensor:
        """The weights of ``-N``: ``theta`` with the last layer's weight and bias negated.

        Examples
        --------
        >>> import torch
        >>> net, x = MLP([1, 5, 1]), torch.rand(3, 1, dtype=torch.float64)
        >>> theta = net.init(seed=0)
        >>> bool(torch.equal(net.apply(net.negated(theta), x), -net.apply(theta, x)))
        True
        """
        last = self.shapes[-1][0] * (self.shapes[-1][1] + 1)
        return torch.cat([theta[:-last], -theta[-last:]])

    @property
    def supports_laplacian(self) -> bool:
        """Whether :meth:`apply_with_laplacian` knows the activation's derivatives (tanh, sin)."""
        return self.derivatives is not None

    def apply_with_laplacian(self, theta: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """The network and its Laplacian in ``x``, at one point ``(d_in,)`` or a batch ``(N, d_in)``.

        Second-order forward (Taylor-mode) propagation: along every axis
        ``e_i`` each layer carries its value ``h``, the directional
        derivative ``dh_i`` and the second directional derivative ``d2h_i``,
        with ``z = W h + b``, ``dz_i = W dh_i``, ``d2z_i = W d2h_i`` and, through the activation,
        ``dh_i = sigma'(z) dz_i``, ``d2h_i = sigma'(z) d2z_i + sigma''(z) dz_i^2``.
        The Laplacian is ``sum_i d2u_i``. Plain tensor operations only, no
        nested automatic differentiation: a Jacobian of it with respect to
        ``theta`` (``vmap(jacrev(...))``) costs 3x less than the
        forward-over-reverse :func:`pde.calculus.laplacian` in d = 2 and 10x
        less in d = 10 (measured on the 3 x 30 network).

        Returns
        -------
        tuple of Tensor
            ``(u, laplacian)``, each of shape ``(d_out,)`` or ``(N, d_out)``.

        Raises
        ------
        ValueError
            If the activation is not one of :data:`ACTIVATION_DERIVATIVES`.

        Examples
        --------
        >>> import torch
        >>> net = MLP([2, 8, 1])
        >>> u, lap = net.apply_with_laplacian(net.init(seed=0), torch.zeros(3, 2, dtype=torch.float64))
        >>> u.shape, lap.shape
        (torch.Size([3, 1]), torch.Size([3, 1]))
        """
        if self.derivatives is None:
            raise ValueError(
                f"apply_with_laplacian needs an activation among {sorted(ACTIVATION_DERIVATIVES)}, "
                f"got {self.activation!r}"
            )
        layers = self.unflatten(theta)
        d = x.shape[-1]
        h = x
        dh = torch.eye(d, dtype=x.dtype, device=x.device).expand(*x.shape[:-1], d, d)  # (..., axis, width)
        d2h = torch.zeros_like(dh)
        for weight, bias in layers[:-1]:
            z = h @ weight.T + bias
            dz, d2z = dh @ weight.T, d2h @ weight.T
            h = self.activation(z)
            first, second = self.derivatives(z, h)
            first, second = first.unsqueeze(-2), second.unsqueeze(-2)
            dh, d2h = first * dz, first * d2z + second * dz * dz
        weight, bias = layers[-1]
        return h @ weight.T + bias, (d2h @ weight.T).sum(-2)

    def config(self) -> dict:
        """The constructor arguments as plain values (what :func:`models.save` stores).

        Raises
        ------
        ValueError
            If the activation is a callable rather than a name.

        Examples
        --------
        >>> MLP([1, 8, 1], activation="sin").config()
        {'widths': [1, 8, 1], 'activation': 'sin', 'dtype': 'float64'}
        """
        if self.activation_name is None:
            raise ValueError(
                f"only an activation given by name can be saved, got {self.activation!r}; "
                f"use one of {sorted(ACTIVATIONS)}"
            )
        return {"widths": list(self.widths), "activation": self.activation_name, "dtype": dtype_name(self.dtype)}

    def __repr__(self) -> str:
        return f"MLP(widths={self.widths}, num_weights={self.num_weights})"
