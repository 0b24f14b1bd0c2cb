"""The synchronization homotopy of seed 002 as a residual map ``H(theta, lam)``.

For a coupling ``lam`` the model trajectory solves

    du/dt = U_theta(u) - lam k (u - u_hat(t)),   u(t_0) = y_0,

where ``u_hat`` is the natural cubic spline of the data ``y``; the residual is
``(u(t_i) - y_i) / sqrt(N n)`` flattened, so that ``||H||^2`` is the
mean-squared error. ``lam = 1`` is the strongly synchronized (easy) problem,
``lam = 0`` the original fit.

Its Jacobian ``dH/dtheta`` and ``dH/dlam`` come together from one batched
reverse pass through the solver (``torch.autograd.grad`` with
``is_grads_batched=True``, one cotangent per residual); :mod:`torch.func`
transforms do not go through :mod:`torchdiffeq`'s solver.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch
from torch import Tensor

from continuation import ResidualMap
from models.neural_ode import NeuralODE

from .spline import CubicSpline

__all__ = ["SynchronizationResidual", "synchronization_schedule", "batched_jacobians"]


def synchronization_schedule(steps: int = 6, decay: float = 0.6) -> list[float]:
    """The seed's power-law schedule of the coupling, from 1 to 0.

    ``lam_i = (decay^i - decay^(steps-1)) / (1 - decay^(steps-1))``,
    ``i = 0, ..., steps - 1``.

    Examples
    --------
    >>> [round(lam, 3) for lam in synchronization_schedule()]
    [1.0, 0.566, 0.306, 0.15, 0.056, 0.0]
    """
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    if not (0 < decay < 1):
        raise ValueError(f"decay must lie in (0, 1), got {decay!r}")
    last = decay ** (steps - 1)
    return [(decay**i - last) / (1 - last) for i in range(steps)]


def batched_jacobians(outputs: Tensor, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Jacobians of a 1-D ``outputs`` with respect to each of ``inputs``, by one batched reverse pass.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> (jac,) = batched_jacobians(torch.stack([x[0] * x[1], x[1] ** 2]), (x,))
    >>> jac
    tensor([[2., 1.],
            [0., 4.]], dtype=torch.float64)
    """
    eye = torch.eye(outputs.shape[0], dtype=outputs.dtype)
    grads = torch.autograd.grad(outputs, inputs, eye, is_grads_batched=True, allow_unused=True)
    return tuple(
        torch.zeros(outputs.shape[0], *x.shape, dtype=x.dtype) if g is None else g
        for g, x in zip(grads, inputs)
    )


def _is_zero_constant(value: Tensor | float) -> bool:
    """``value == 0`` with no autograd graph hanging on it."""
    if isinstance(value, Tensor):
        return not value.requires_grad and value.numel() == 1 and float(value) == 0.0
    return value == 0


class SynchronizationResidual(ResidualMap):
    """``H(theta, lam)``: the coupled trajectory minus the data at the observation times.

    Parameters
    ----------
    model
        The neural ODE (its vector field and solver settings).
    t, y
        Observation times ``(N,)`` and data ``(N, n)``; the trajectory starts
        at ``y[0]``.
    coupling
        The coupling strength ``k`` (10 in seed 002).
    field
        Optional replacement of ``model.field``: any ``field(theta, u)``
        (the exact vector field, in tests).

    Examples
    --------
    >>> import torch
    >>> from models.neural_ode import NeuralODE
    >>> t = torch.linspace(0, 1, 6, dtype=torch.float64)
    >>> y = torch.stack([torch.exp(-t), torch.exp(-2 * t)], dim=1)
    >>> H = SynchronizationResidual(NeuralODE([2, 8, 2]), t, y)
    >>> theta = H.model.init(seed=0)
    >>> H(theta, torch.tensor(1.0, dtype=torch.float64)).shape
    torch.Size([12])
    """

    def __init__(
        self,
        model: NeuralODE,
        t: Tensor,
        y: Tensor,
        coupling: float = 10.0,
        field: Optional[Callable[[Tensor, Tensor], Tensor]] = None,
    ):
        if t.ndim != 1 or y.ndim != 2 or y.shape != (t.shape[0], model.dimension):
            raise ValueError(
                f"t and y must have shapes (N,) and (N, {model.dimension}), got {tuple(t.shape)} and "
                f"{tuple(y.shape)}"
            )
        if not (math.isfinite(coupling) and coupling >= 0):
            raise ValueError(f"coupling must be a finite number >= 0, got {coupling!r}")
        self.model, self.t, self.y, self.coupling = model, t, y, float(coupling)
        self.field = field
        self.spline = CubicSpline(t, y)
        self.scale = 1.0 / math.sqrt(y.numel())
        self._cache: Optional[tuple[Tensor, float, tuple[Tensor, Tensor, Tensor]]] = None

    def trajectory(self, theta: Tensor, lam: Tensor | float) -> Tensor:
        """The coupled trajectory at the observation times, shape ``(N, n)``."""
        strength = lam * self.coupling
        field = self.model.bind(theta) if self.field is None else (lambda u: self.field(theta, u))

        if _is_zero_constant(strength):  # lam = 0 and no derivative in lam wanted: the plain model
            return self.model.solve(lambda _, u: field(u), theta, self.y[0], self.t)

        def rhs(t: Tensor, u: Tensor) -> Tensor:
            return field(u) - strength * (u - self.spline(t))

        return self.model.solve(rhs, theta, self.y[0], self.t)

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.scale * (self.trajectory(theta, eps) - self.y).reshape(-1)

    def _linearization(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(H, dH/dtheta, dH/dlam)``, cached for the last ``(theta, lam)``."""
        if self._cache is not None and self._cache[1] == float(eps) and torch.equal(self._cache[0], theta):
            return self._cache[2]
        with torch.enable_grad():
            theta_ = theta.detach().clone().requires_grad_(True)
            lam_ = torch.as_tensor(eps, dtype=theta.dtype).detach().clone().requires_grad_(True)
            value = self(theta_, lam_)
            jac, d_lam = batched_jacobians(value, (theta_, lam_))
        result = (value.detach(), jac, d_lam)
        self._cache = (theta.detach().clone(), float(eps), result)
        return result

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self._linearization(theta, eps)[1]

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self._linearization(theta, eps)[2]

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        value, jac, _ = self._linearization(theta, eps)
        return value, jac

    def __repr__(self) -> str:
        return f"SynchronizationResidual(observations={tuple(self.y.shape)}, coupling={self.coupling:g})"
