"""Networks whose weights are one flat vector, for use as continuation states."""

from .deeponet import DeepONet
from .mlp import ACTIVATIONS, MLP
from .neural_ode import NeuralODE, SecondOrderNeuralODE, integrate
from .random_features import RandomFeatures

__all__ = ["MLP", "ACTIVATIONS", "RandomFeatures", "DeepONet", "NeuralODE", "SecondOrderNeuralODE", "integrate"]
