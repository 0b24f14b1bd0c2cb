"""Networks whose weights are one flat vector, for use as continuation states."""

from .mlp import ACTIVATIONS, MLP
from .neural_ode import NeuralODE, integrate

__all__ = ["MLP", "ACTIVATIONS", "NeuralODE", "integrate"]
