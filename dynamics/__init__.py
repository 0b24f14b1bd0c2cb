"""Dynamical systems: neural ODE training by synchronization homotopy (P7, seed 002).

Not PDE residuals on collocation points but trajectory misfits of an ODE
solved by :mod:`torchdiffeq`: the synchronization homotopy as a residual map
for :func:`continuation.trace`, the multiple-shooting baseline, the systems and
their data (simulated, and the laboratory double pendulum of :mod:`dynamics.laboratory`), and the
training methods compared in ``python -m benchmarks neural-ode`` and ``neural-ode-lab``.
"""

from .laboratory import LaboratoryData, Recording, laboratory_data, load_double_pendulum
from .shooting import MultipleShootingResidual
from .spline import CubicSpline
from .synchronization import SynchronizationResidual, batched_jacobians, synchronization_schedule
from .systems import SYSTEMS, System, TrajectoryData, double_pendulum, lorenz, lotka_volterra, make_data
from .training import METHODS, Evaluation, Monitor, TrainingRun, TrainingSettings, train

__all__ = [
    "SynchronizationResidual", "synchronization_schedule", "batched_jacobians", "MultipleShootingResidual",
    "CubicSpline", "System", "TrajectoryData", "SYSTEMS", "make_data", "lotka_volterra", "lorenz",
    "double_pendulum", "METHODS", "Evaluation", "Monitor", "TrainingSettings", "TrainingRun", "train",
    "Recording", "LaboratoryData", "load_double_pendulum", "laboratory_data",
]
