"""Residual maps of the problem catalogue, with exact solutions."""

from .allen_cahn import AllenCahn1D, default_points_1d
from .base import NetworkProblem, relative_l2
from .calculus import gradient, laplacian

__all__ = ["AllenCahn1D", "default_points_1d", "NetworkProblem", "relative_l2", "gradient", "laplacian"]
