"""Networks whose weights are one flat vector, for use as continuation states."""

from .mlp import ACTIVATIONS, MLP

__all__ = ["MLP", "ACTIVATIONS"]
