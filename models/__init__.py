"""Networks whose weights are one flat vector, for use as continuation states.

:class:`MLP`, :class:`DeepONet` and :class:`NeuralODE` are built here; any
``torch.nn.Module`` of your own becomes such a model through
:func:`from_module`. :func:`save` and :func:`load` keep a network's
architecture with its weights.
"""

from .deeponet import DeepONet
from .io import load, save
from .mlp import ACTIVATIONS, MLP
from .module import ModuleModel, from_module
from .neural_ode import NeuralODE, SecondOrderNeuralODE, integrate
from .random_features import RandomFeatures

__all__ = [
    "MLP", "ACTIVATIONS", "RandomFeatures", "DeepONet", "NeuralODE", "SecondOrderNeuralODE", "integrate",
    "ModuleModel", "from_module", "save", "load",
]
