"""Residual maps of the problem catalogue, with exact solutions, and the pieces to build your own.

The pieces: derivatives in ``x`` (:mod:`pde.calculus`), collocation points
(:mod:`pde.sampling`), boundary blocks and hard constraints
(:mod:`pde.boundary`).
"""

from .adaptive import AdaptivePoints, MovingPoints, ScheduledPoints, rad_density
from .allen_cahn import AllenCahn1D, default_points_1d
from .allen_cahn_2d import AllenCahn2D, default_points_2d
from .base import NetworkOutputs, NetworkProblem, farthest_root, relative_l2
from .burgers import (
    BurgersOperator, InitialData, RandomField, boundary_value, sample_initial_data, sample_random_field, steady_state,
)
from .burgers_fd import FDResult, fd_grid, fd_residual, march_explicit, newton_steady
from .chafee_infante import ChafeeInfanteFD, ChafeeInfanteNetwork, branch_point, solution_count
from .burgers_source import SourceBurgersOperator
from .bratu import LAMBDA_CRITICAL, BratuFD, BratuNetwork, bratu_exact, bratu_parameter
from . import boundary, calculus, sampling
from .calculus import gradient, laplacian, partial
from .fitting import HighFrequencyFit
from .helmholtz import Helmholtz, default_points_helmholtz, resonance_gap
from .poisson_1d import Poisson1D

__all__ = [
    "AdaptivePoints", "MovingPoints", "ScheduledPoints", "rad_density",
    "LAMBDA_CRITICAL", "BratuFD", "BratuNetwork", "bratu_exact", "bratu_parameter",
   "AllenCahn1D", "default_points_1d", "NetworkProblem", "NetworkOutputs", "relative_l2", "farthest_root", "gradient", "laplacian", "partial",
    "boundary", "calculus", "sampling",
    "AllenCahn2D", "default_points_2d", "Helmholtz", "default_points_helmholtz", "resonance_gap",
    "HighFrequencyFit", "Poisson1D",
    "BurgersOperator", "InitialData", "boundary_value", "sample_initial_data", "steady_state",
    "RandomField", "sample_random_field", "SourceBurgersOperator",
    "FDResult", "fd_grid", "fd_residual", "march_explicit", "newton_steady",
    "ChafeeInfanteFD", "ChafeeInfanteNetwork", "branch_point", "solution_count",
]
