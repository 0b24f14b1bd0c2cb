"""Any ``torch.nn.Module`` as a pure function of one flat weight vector."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import functional_call

__all__ = ["ModuleModel", "from_module"]


class ModuleModel:
    """A ``torch.nn.Module`` seen as ``apply(theta, x)`` with its parameters in one flat vector.

    The continuation engine's state is a flat vector ``theta``; this wrapper
    cuts ``theta`` into the module's parameters (in the order of
    ``module.named_parameters()``) and calls the module with them through
    :func:`torch.func.functional_call`, so that :mod:`torch.func` can
    differentiate and vmap the network in ``theta`` and in ``x``. The module
    itself is never modified; its buffers are used as they are.

    Parameters
    ----------
    module
        The network. All its parameters must share one floating dtype and
        one device.

    Attributes
    ----------
    num_weights : int
        Length of ``theta``.
    dtype, device
        Those of the module's parameters.

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    >>> model = ModuleModel(net)
    >>> model.num_weights
    25
    >>> theta = model.init()
    >>> x = torch.zeros(4, 1, dtype=torch.float64)
    >>> torch.equal(model.apply(theta, x), net(x))
    True
    """

    def __init__(self, module: torch.nn.Module):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        parameters = dict(module.named_parameters())
        if not parameters:
            raise ValueError(f"module must have parameters, got {type(module).__name__} with none")
        dtypes = {p.dtype for p in parameters.values()}
        devices = {p.device for p in parameters.values()}
        if len(dtypes) != 1 or not next(iter(dtypes)).is_floating_point:
            raise ValueError(f"module parameters must share one floating dtype, got {sorted(map(str, dtypes))}")
        if len(devices) != 1:
            raise ValueError(f"module parameters must share one device, got {sorted(map(str, devices))}")
        self.module = module
        self.names = list(parameters)
        self.shapes = [p.shape for p in parameters.values()]
        self.sizes = [p.numel() for p in parameters.values()]
        self.num_weights = sum(self.sizes)
        self.dtype = next(iter(dtypes))
        self.device = next(iter(devices))

    def init(self) -> Tensor:
        """The module's current parameters as one flat vector (a copy).

        The initialisation is the module's own: seed it where the module is
        built (``torch.manual_seed``) to make it reproducible.
        """
        with torch.no_grad():
            return torch.cat([p.detach().reshape(-1) for p in self.module.parameters()]).clone()

    def unflatten(self, theta: Tensor) -> dict[str, Tensor]:
        """``{parameter name: view of theta}`` in the module's shapes."""
        if not isinstance(theta, Tensor) or theta.shape != (self.num_weights,):
            shape = tuple(theta.shape) if isinstance(theta, Tensor) else type(theta).__name__
            raise ValueError(f"theta must have shape ({self.num_weights},), got {shape}")
        pieces = torch.split(theta, self.sizes)
        return {name: piece.view(shape) for name, piece, shape in zip(self.names, pieces, self.shapes)}

    def apply(self, theta: Tensor, x: Tensor) -> Tensor:
        """The module at ``x`` (one point or a batch, as the module accepts) with the weights ``theta``."""
        return functional_call(self.module, self.unflatten(theta), (x,))

    def state_dict(self, theta: Tensor) -> dict[str, Tensor]:
        """The module's ``state_dict`` with the weights ``theta``, for ``torch.save`` and ``load_state_dict``.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Linear(2, 1).double()
        >>> model = ModuleModel(net)
        >>> net.load_state_dict(model.state_dict(torch.zeros(3, dtype=torch.float64)))
        <All keys matched successfully>
        >>> int(torch.count_nonzero(net.weight))
        0
        """
        weights = {name: value.detach().clone() for name, value in self.unflatten(theta).items()}
        return {**{k: v.detach().clone() for k, v in self.module.state_dict().items()}, **weights}

    @property
    def supports_laplacian(self) -> bool:
        """``False``: Laplacians come from :func:`pde.calculus.laplacian` (nested automatic differentiation)."""
        return False

    def __repr__(self) -> str:
        return f"ModuleModel({type(self.module).__name__}, num_weights={self.num_weights})"


def from_module(module: torch.nn.Module) -> ModuleModel:
    """Wrap a ``torch.nn.Module`` as a model with a flat weight vector (see :class:`ModuleModel`).

    Returns
    -------
    ModuleModel
        ``model.init()`` gives the module's weights as ``theta`` and
        ``model.apply(theta, x)`` evaluates the module with them.

    Examples
    --------
    >>> import torch
    >>> model = from_module(torch.nn.Linear(3, 2).double())
    >>> theta = model.init()
    >>> model.apply(theta, torch.ones(3, dtype=torch.float64)).shape
    torch.Size([2])
    """
    return ModuleModel(module)
