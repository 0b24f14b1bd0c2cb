"""DeepONet: a branch net reads a function at fixed sensors, a trunk net reads a point."""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor
from torch.func import vmap

from .mlp import MLP

__all__ = ["DeepONet"]


class DeepONet:
    """``G(u0)(x) = sum_k b_k(u0(s_1), ..., u0(s_m)) t_k(x) + b_0`` with one flat weight vector.

    The branch net maps the values of an input function at ``m`` fixed
    sensors to ``p`` coefficients, the trunk net maps a point ``x`` to ``p``
    basis functions; the output is their dot product plus a scalar bias. The
    flat weight vector is ``[branch weights, trunk weights, b_0]``, so that the
    operator is a pure function :meth:`apply_one` of ``theta`` that
    :mod:`torch.func` can differentiate and vmap, and that the continuation
    engine can take as its state.

    Parameters
    ----------
    sensors
        Number ``m`` of sensor values the branch net reads.
    dim
        Dimension of the points ``x`` the trunk net reads.
    basis
        Number ``p`` of basis functions (width of both output layers).
    branch_hidden, trunk_hidden
        Hidden widths of the branch and trunk nets.
    activation
        Activation of both nets (a name in :data:`models.ACTIVATIONS` or a
        callable); the output layers are linear.
    dtype, device
        Floating dtype and device of the weights made by :meth:`init`.

    Examples
    --------
    >>> import torch
    >>> net = DeepONet(sensors=8, basis=5, branch_hidden=[10], trunk_hidden=[10])
    >>> net.num_weights  # branch 8-10-5 (145), trunk 1-10-5 (75), one bias
    221
    >>> theta = net.init(seed=0)
    >>> u0 = torch.zeros(3, 8, dtype=torch.float64)          # 3 functions at 8 sensors
    >>> x = torch.linspace(-1, 1, 4, dtype=torch.float64)[:, None]
    >>> net.apply(theta, u0, x).shape                        # functions x points
    torch.Size([3, 4])
    >>> net.apply_one(theta, u0[0], x[0]).shape              # one function, one point
    torch.Size([])
    """

    def __init__(
        self,
        sensors: int,
        basis: int,
        branch_hidden: Sequence[int] = (40, 40),
        trunk_hidden: Sequence[int] = (40, 40),
        dim: int = 1,
        activation: Union[str, Callable[[Tensor], Tensor]] = "tanh",
        dtype: torch.dtype = torch.float64,
        device: Union[str, torch.device, None] = None,
    ):
        for name, value in (("sensors", sensors), ("basis", basis), ("dim", dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.sensors, self.basis, self.dim, self.dtype = sensors, basis, dim, dtype
        self.branch = MLP([sensors, *branch_hidden, basis], activation=activation, dtype=dtype, device=device)
        self.trunk = MLP([dim, *trunk_hidden, basis], activation=activation, dtype=dtype, device=device)
        self.device = self.branch.device
        self.num_weights = self.branch.num_weights + self.trunk.num_weights + 1

    def init(self, seed: Optional[int] = None) -> Tensor:
        """Xavier-normal weights and zero biases for both nets, ``b_0 = 0``, as one flat vector."""
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
        return torch.cat(
            [
                self.branch.init(generator=generator),
                self.trunk.init(generator=generator),
                torch.zeros(1, dtype=self.dtype, device=self.device),
            ]
        )

    def split(self, theta: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(branch weights, trunk weights, b_0)`` as views of ``theta``."""
        if theta.shape != (self.num_weights,):
            raise ValueError(f"theta must have shape ({self.num_weights},), got {tuple(theta.shape)}")
        n_branch = self.branch.num_weights
        return theta[:n_branch], theta[n_branch:-1], theta[-1]

    def apply_one(self, theta: Tensor, u0: Tensor, x: Tensor) -> Tensor:
        """The operator for one function (sensor values, shape ``(m,)``) at one point ``(dim,)``: a scalar."""
        branch, trunk, bias = self.split(theta)
        return torch.dot(self.branch.apply(branch, u0), self.trunk.apply(trunk, x)) + bias

    def apply(self, theta: Tensor, u0: Tensor, x: Tensor) -> Tensor:
        """The operator for ``F`` functions ``(F, m)`` at ``N`` points ``(N, dim)``: shape ``(F, N)``.

        :meth:`apply_one` vmapped over the points and then over the
        functions.
        """
        if u0.ndim != 2 or u0.shape[1] != self.sensors:
            raise ValueError(f"u0 must have shape (F, {self.sensors}), got {tuple(u0.shape)}")
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}), got {tuple(x.shape)}")
        over_points = vmap(self.apply_one, in_dims=(None, None, 0))
        return vmap(over_points, in_dims=(None, 0, None))(theta, u0, x)

    def config(self) -> dict:
        """The constructor arguments as plain values (what :func:`models.save` stores)."""
        branch, trunk = self.branch.config(), self.trunk.config()
        return {
            "sensors": self.sensors, "basis": self.basis, "branch_hidden": branch["widths"][1:-1],
            "trunk_hidden": trunk["widths"][1:-1], "dim": self.dim, "activation": branch["activation"],
            "dtype": branch["dtype"],
        }

    def __repr__(self) -> str:
        return (
            f"DeepONet(sensors={self.sensors}, basis={self.basis}, branch={self.branch.widths}, "
            f"trunk={self.trunk.widths}, num_weights={self.num_weights})"
        )
