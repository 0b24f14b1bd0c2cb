"""Saving and loading a network's weights together with its architecture.

One file holds the model's class name, its constructor arguments (plain
values from ``model.config()``) and the flat weight vector ``theta``. It is
written with :func:`torch.save` and read with ``torch.load(...,
weights_only=True)``, which unpickles only tensors and plain containers:
loading a file cannot run code.

A network built from your own ``torch.nn.Module`` (:func:`models.from_module`)
has no architecture this module could rebuild; save its
``model.state_dict(theta)`` with :func:`torch.save` and load it into the
module you build yourself.
"""

from __future__ import annotations

import os
from typing import Union

import torch
from torch import Tensor

from .deeponet import DeepONet
from .mlp import MLP
from .neural_ode import NeuralODE

__all__ = ["save", "load", "SAVABLE"]

FORMAT = 1
"""Version of the file layout; :func:`load` refuses other versions."""

SAVABLE = {"MLP": MLP, "DeepONet": DeepONet, "NeuralODE": NeuralODE}
"""The model classes :func:`save` and :func:`load` know, by name."""

Model = Union[MLP, DeepONet, NeuralODE]
PathLike = Union[str, "os.PathLike[str]"]


def save(path: PathLike, model: Model, theta: Tensor) -> None:
    """Write ``model``'s architecture and the weights ``theta`` to ``path``.

    Parameters
    ----------
    path
        File to write (conventionally ``*.pt``).
    model
        One of :data:`SAVABLE` (an activation given by name).
    theta
        The flat weight vector, of length ``model.num_weights``.

    Raises
    ------
    TypeError
        If ``model`` is not one of :data:`SAVABLE`.
    ValueError
        If ``theta`` has the wrong shape, or the activation is a callable.

    Examples
    --------
    >>> import tempfile, os, torch
    >>> from models import MLP, save, load
    >>> net = MLP([2, 16, 1], activation="sin")
    >>> theta = net.init(seed=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.pt")
    >>> save(path, net, theta)
    >>> again, weights = load(path)
    >>> again, torch.equal(weights, theta)
    (MLP(widths=[2, 16, 1], num_weights=65), True)
    """
    name = type(model).__name__
    if SAVABLE.get(name) is not type(model):
        raise TypeError(
            f"model must be one of {sorted(SAVABLE)}, got {name}; for a model made by "
            "models.from_module, torch.save(model.state_dict(theta), path) instead"
        )
    if not isinstance(theta, Tensor) or theta.shape != (model.num_weights,):
        shape = tuple(theta.shape) if isinstance(theta, Tensor) else type(theta).__name__
        raise ValueError(f"theta must have shape ({model.num_weights},), got {shape}")
    payload = {"format": FORMAT, "model": name, "config": model.config(), "theta": theta.detach().cpu()}
    torch.save(payload, path)


def load(path: PathLike, *, device: Union[str, torch.device, None] = None) -> tuple[Model, Tensor]:
    """Read a file written by :func:`save`: the rebuilt model and its weights.

    Parameters
    ----------
    path
        File written by :func:`save`.
    device
        Device of the model and of ``theta`` (default the CPU).

    Returns
    -------
    tuple
        ``(model, theta)``.

    Raises
    ------
    ValueError
        If the file is not one :func:`save` wrote.
    """
    payload = torch.load(path, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("model") not in SAVABLE:
        raise ValueError(f"path must be a model file written by models.save (format {FORMAT}), got {path!r}")
    config = dict(payload["config"])
    config["dtype"] = getattr(torch, config["dtype"])
    model = SAVABLE[payload["model"]](**config, device=device)
    return model, payload["theta"].to(model.device)
