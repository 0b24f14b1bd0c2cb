"""Numerical continuation for residual maps ``H(theta, eps) = 0``.

The engine is generic: it knows nothing about PDEs or networks. A problem is
a :class:`ResidualMap` (or any callable ``residual(theta, eps)``); the front
door is :func:`trace`.

Examples
--------
>>> import torch, continuation
>>> result = continuation.trace(lambda theta, eps: theta**2 - eps,
...                             torch.tensor([0.9], dtype=torch.float64), [1.0, 0.25])
>>> result.success
True
"""

from .conditioning import Conditioning, solution_conditioning
from .correctors import (
    LBFGS,
    Adam,
    CorrectorResult,
    GaussNewton,
    IterativeCorrector,
    LevenbergMarquardt,
    Newton,
    NoCorrector,
    Stop,
)
from .diagnostics import (
    HessianExtremes,
    SpectrumSummary,
    effective_cutoff_number,
    hessian_extremes,
    kernel_spectrum,
    kernel_summary,
    negative_eigenvalue_count,
    summarize_spectrum,
    truncated_entropy,
    truncated_svd_residuals,
)
from .linalg import DampedLeastSquares, pinv_solve
from .options import Options
from .predictors import EulerPredictor, NoPredictor, SecantPredictor
from .residual import (
    FunctionResidual,
    PointwiseResidual,
    ResidualMap,
    StackedResidual,
    as_residual_map,
    output_jacobian,
)
from .result import Event, Status, StepRecord, TraceResult
from .state import TraceState
from .tracing import trace
from .deflation import DeflatedResidual, deflate, rms_distance
from .defcon import (BifurcationDiagram, deflated_continuation, find_solutions, kernel_seeds, near_kernel,
                     polish_solutions)
from .bifurcation import BranchPointTest, branch_switching_diagram, switch_branch

__version__ = "0.1.0"

__all__ = [
    "trace",
    "Options",
    "Status",
    "StepRecord",
    "Event",
    "TraceResult",
    "TraceState",
    "ResidualMap",
    "FunctionResidual",
    "PointwiseResidual",
    "StackedResidual",
    "as_residual_map",
    "output_jacobian",
    "EulerPredictor",
    "NoPredictor",
    "SecantPredictor",
    "CorrectorResult",
    "Stop",
    "IterativeCorrector",
    "LevenbergMarquardt",
    "GaussNewton",
    "Adam",
    "LBFGS",
    "Newton",
    "NoCorrector",
    "Conditioning",
    "solution_conditioning",
    "pinv_solve",
    "DampedLeastSquares",
    "kernel_spectrum",
    "SpectrumSummary",
    "summarize_spectrum",
    "kernel_summary",
    "effective_cutoff_number",
    "truncated_entropy",
    "truncated_svd_residuals",
    "HessianExtremes",
    "hessian_extremes",
    "negative_eigenvalue_count",
    "deflate",
    "DeflatedResidual",
    "rms_distance",
    "BranchPointTest",
    "switch_branch",
    "BifurcationDiagram",
    "deflated_continuation",
    "find_solutions",
    "kernel_seeds",
    "polish_solutions",
    "near_kernel",
    "branch_switching_diagram",
]
