"""Neural ODEs: a vector field ``du/dt = U_theta(u)`` given by an MLP with a flat weight vector.

Trajectories are integrated with :func:`torchdiffeq.odeint` (``dopri5``,
``rtol = 1e-7``, ``atol = 1e-9`` by default, as in seed 002); the adjoint
method (:func:`torchdiffeq.odeint_adjoint`) is optional. Gradients with respect
to ``theta`` go through the solver's operations (discretise, then optimise)
unless the adjoint is asked for.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor
from torchdiffeq import odeint, odeint_adjoint

from .mlp import MLP

__all__ = ["NeuralODE", "SecondOrderNeuralODE", "integrate"]

RightHandSide = Callable[[Tensor, Tensor], Tensor]


class _WithParameter(torch.nn.Module):
    """``rhs(t, u)`` as a module, so that ``odeint_adjoint`` accepts it."""

    def __init__(self, rhs: RightHandSide):
        super().__init__()
        self.rhs = rhs

    def forward(self, t: Tensor, u: Tensor) -> Tensor:
        return self.rhs(t, u)


SOLVER_FAILURES = ("underflow in dt", "non-finite values in state")
"""How torchdiffeq's adaptive solvers begin the message of the assertion that ends a failed solve."""


def integrate(
    rhs: RightHandSide,
    u0: Tensor,
    t: Tensor,
    *,
    method: str = "dopri5",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    adjoint_params: Optional[Sequence[Tensor]] = None,
) -> Tensor:
    """The solution of ``du/dt = rhs(t, u)``, ``u(t[0]) = u0``, at the times ``t``.

    Parameters
    ----------
    rhs
        ``rhs(t, u)`` for a scalar time and a state of shape ``(n,)``.
    u0
        Initial state, shape ``(n,)``.
    t
        Increasing times, shape ``(T,)``, starting at the time of ``u0``.
    method, rtol, atol
        Solver and tolerances of :func:`torchdiffeq.odeint`.
    adjoint_params
        ``None``: differentiate through the solver. A sequence of tensors:
        use the adjoint method, with gradients for these tensors (the
        weights ``theta`` that ``rhs`` closes over).

    Returns
    -------
    Tensor
        Shape ``(T, n)``. NaN everywhere when the solver fails (its step
        underflows or the state turns non-finite: the field blew up): a
        misfit built on it is then non-finite, which the correctors of
        :mod:`continuation` treat as a failed trial, not as an error.

    Examples
    --------
    >>> import torch
    >>> t = torch.linspace(0, 1, 3, dtype=torch.float64)
    >>> u = integrate(lambda t, u: -u, torch.ones(1, dtype=torch.float64), t)
    >>> torch.allclose(u[:, 0], torch.exp(-t), atol=1e-8)
    True
    """
    if not (math.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a positive finite number, got {rtol!r}")
    if not (math.isfinite(atol) and atol > 0):
        raise ValueError(f"atol must be a positive finite number, got {atol!r}")
    if t.ndim != 1 or t.numel() < 2 or not bool((t[1:] > t[:-1]).all()):
        raise ValueError(f"t must be a 1-D increasing tensor of at least two times, got shape {tuple(t.shape)}")
    try:
        if adjoint_params is None:
            return odeint(rhs, u0, t, method=method, rtol=rtol, atol=atol)
        return odeint_adjoint(
            _WithParameter(rhs), u0, t, method=method, rtol=rtol, atol=atol,
            adjoint_params=tuple(adjoint_params),
        )
    except AssertionError as failure:  # torchdiffeq reports a failed solve by an assertion
        if not str(failure).startswith(SOLVER_FAILURES):
            raise
        return torch.full((t.numel(), u0.numel()), math.nan, dtype=u0.dtype, device=u0.device)


class NeuralODE:
    """An autonomous vector field ``U_theta(u)``, an MLP ``n -> ... -> n``, and its solver settings.

    Parameters
    ----------
    widths
        Layer widths; the first and the last are the state dimension ``n``.
    activation
        Activation of the hidden layers (``"gelu"`` in seed 002).
    dtype, device
        Floating dtype and device of the weights.
    method, rtol, atol
        Solver settings used by :meth:`trajectory`.
    adjoint
        Integrate with the adjoint method (memory ``O(1)`` in the number of
        solver steps, one more solve backwards).

    Examples
    --------
    >>> import torch
    >>> model = NeuralODE([2, 32, 2])
    >>> model.num_weights
    162
    >>> theta = model.init(seed=0)
    >>> t = torch.linspace(0, 1, 5, dtype=torch.float64)
    >>> model.trajectory(theta, torch.ones(2, dtype=torch.float64), t).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "gelu",
        dtype: torch.dtype = torch.float64,
        *,
        device: Union[str, torch.device, None] = None,
        method: str = "dopri5",
        rtol: float = 1e-7,
        atol: float = 1e-9,
        adjoint: bool = False,
    ):
        widths = list(widths)
        self.dimension = self.state_dimension(widths)
        self.mlp = MLP(widths, activation=activation, dtype=dtype, device=device)
        self.device = self.mlp.device
        self.method, self.rtol, self.atol, self.adjoint = method, rtol, atol, adjoint

    @staticmethod
    def state_dimension(widths: list[int]) -> int:
        """The state dimension ``n`` of a network with these widths (they must start and end with it)."""
        if len(widths) < 2 or widths[0] != widths[-1]:
            raise ValueError(f"widths must start and end with the state dimension, got {widths!r}")
        return widths[0]

    @property
    def num_weights(self) -> int:
        """Length of the flat weight vector."""
        return self.mlp.num_weights

    def init(self, seed: Optional[int] = None) -> Tensor:
        """Xavier-normal weights, zero biases (see :meth:`models.MLP.init`)."""
        return self.mlp.init(seed)

    def field(self, theta: Tensor, u: Tensor) -> Tensor:
        """The vector field ``U_theta(u)`` at one state ``(n,)`` or a batch ``(N, n)``."""
        return self.bind(theta)(u)

    def bind(self, theta: Tensor) -> Callable[[Tensor], Tensor]:
        """``u -> U_theta(u)`` with the layers of ``theta`` unpacked once.

        The solver calls the field hundreds of times per trajectory; unpacking
        the flat vector once and using fused ``addmv`` / ``addmm`` makes each
        call about ten times cheaper than :meth:`models.MLP.apply`.
        """
        layers, activation = self.mlp.unflatten(theta), self.mlp.activation

        def field(u: Tensor) -> Tensor:
            h = u
            for index, (weight, bias) in enumerate(layers):
                h = torch.addmv(bias, weight, h) if h.ndim == 1 else torch.addmm(bias, h, weight.T)
                if index < len(layers) - 1:
                    h = activation(h)
            return h

        return field

    def solve(self, rhs: RightHandSide, theta: Tensor, u0: Tensor, t: Tensor) -> Tensor:
        """:func:`integrate` ``rhs`` (which closes over ``theta``) with this model's solver settings."""
        return integrate(
            rhs, u0, t, method=self.method, rtol=self.rtol, atol=self.atol,
            adjoint_params=(theta,) if self.adjoint else None,
        )

    def trajectory(self, theta: Tensor, u0: Tensor, t: Tensor) -> Tensor:
        """The solution of ``du/dt = U_theta(u)`` from ``u0`` at the times ``t``, shape ``(T, n)``."""
        field = self.bind(theta)
        return self.solve(lambda _, u: field(u), theta, u0, t)

    def config(self) -> dict:
        """The constructor arguments as plain values (what :func:`models.save` stores)."""
        return {
            **self.mlp.config(), "method": self.method, "rtol": self.rtol, "atol": self.atol,
            "adjoint": self.adjoint,
        }

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(widths={self.mlp.widths}, num_weights={self.num_weights}, "
                f"method={self.method!r})")


class SecondOrderNeuralODE(NeuralODE):
    """A second-order neural ODE: positions ``q``, velocities ``v``, ``dq/dt = v``, ``dv/dt = A_theta(q, v)``.

    The state is ``u = (q, v)`` with ``q, v`` in ``R^d``; the MLP
    ``2d -> ... -> d`` models only the accelerations, and the derivatives of
    the positions are the velocities exactly, by construction (seed 002's
    second-order model of the double pendulum: ``q`` the two angles, ``v``
    the two angular velocities). Everything else (weights, solver, training)
    is that of :class:`NeuralODE`.

    Parameters
    ----------
    widths
        Layer widths ``[2d, ..., d]``.
    activation, dtype, device, method, rtol, atol, adjoint
        As for :class:`NeuralODE`.

    Examples
    --------
    >>> import torch
    >>> model = SecondOrderNeuralODE([4, 50, 50, 2])
    >>> model.dimension, model.num_weights
    (4, 2902)
    >>> u = torch.tensor([0.1, 0.2, 3.0, -4.0], dtype=torch.float64)
    >>> model.field(model.init(seed=0), u)[:2]   # d(angles)/dt = the velocities
    tensor([ 3., -4.], dtype=torch.float64)
    """

    @staticmethod
    def state_dimension(widths: list[int]) -> int:
        """The state dimension ``2d`` of a network ``2d -> ... -> d``."""
        if len(widths) < 2 or widths[0] != 2 * widths[-1]:
            raise ValueError(
                f"widths must start with twice the number of positions and end with it, got {widths!r}"
            )
        return widths[0]

    def bind(self, theta: Tensor) -> Callable[[Tensor], Tensor]:
        """``u -> (v, A_theta(u))`` with the layers of ``theta`` unpacked once (see :meth:`NeuralODE.bind`)."""
        acceleration, positions = super().bind(theta), self.dimension // 2

        def field(u: Tensor) -> Tensor:
            return torch.cat([u[..., positions:], acceleration(u)], dim=-1)

        return field

