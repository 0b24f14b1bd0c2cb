"""Step control: the Theorem 2 Lipschitz rule, corrector effort, and the corrector's contraction.

Two controls (``Options.step_control``): ``"effort"`` grows the step when the
corrector converged in few iterations (:func:`next_step`); ``"corrector"``
judges the step by the corrector's behaviour on it (:func:`corrector_metrics`,
:func:`corrector_factor`), as in Allgower and Georg, *Introduction to
Numerical Continuation Methods*, ch. 6, and Deuflhard's contraction monitor.
Both keep the Theorem 2 Lipschitz bound as a cap.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch
from torch import Tensor

from .correctors import CorrectorResult
from .options import Options

__all__ = ["effort_factor", "lipschitz_estimate", "function_lipschitz_estimate", "next_step", "corrector_metrics",
           "corrector_factor", "MIN_FACTOR"]

MIN_FACTOR = 0.25
"""The ``"corrector"`` control shrinks a step by at most this factor at a time."""


def lipschitz_estimate(
    velocity: Tensor,
    previous_velocity: Tensor,
    theta: Tensor,
    previous_theta: Tensor,
    deps: float,
) -> Optional[float]:
    """``L ~ ||F_k - F_{k-1}|| / ||(theta_k, eps_k) - (theta_{k-1}, eps_{k-1})||``.

    ``F`` is the predictor's vector field ``dtheta/deps``. Returns ``None``
    when the two points coincide.

    Examples
    --------
    >>> import torch
    >>> v0, v1 = torch.tensor([0.0]), torch.tensor([1.0])
    >>> lipschitz_estimate(v1, v0, torch.tensor([0.0]), torch.tensor([0.0]), 0.5)
    2.0
    """
    distance = math.sqrt(float(torch.sum((theta - previous_theta) ** 2)) + deps**2)
    if distance == 0:
        return None
    return float(torch.linalg.vector_norm(velocity - previous_velocity)) / distance


def function_lipschitz_estimate(
    outputs: Callable[[Tensor], Tensor],
    velocity: Tensor,
    previous_velocity: Tensor,
    theta: Tensor,
    previous_theta: Tensor,
    deps: float,
) -> Optional[float]:
    """:func:`lipschitz_estimate` measured on the function the state represents.

    The vector field is ``du/deps = U v`` (``U = d outputs / d theta``, ``v``
    the predictor's velocity) and the points are the outputs ``u(theta)``,
    both in the root-mean-square norm over the outputs. Many weight vectors
    give one function: a velocity that turns in a direction the function does
    not see (a network's near-kernel) is not a curvature of the path, and
    does not cap the step.

    Examples
    --------
    >>> import torch
    >>> outputs = lambda theta: torch.stack([theta[0] + theta[1], theta[0] + theta[1]])
    >>> theta = torch.zeros(2)
    >>> # the velocity turned by 10 along the direction the outputs do not see: no curvature
    >>> function_lipschitz_estimate(outputs, torch.tensor([5.0, -5.0]), torch.tensor([0.0, 0.0]), theta, theta, 0.5)
    0.0
    >>> lipschitz_estimate(torch.tensor([5.0, -5.0]), torch.tensor([0.0, 0.0]), theta, theta, 0.5) > 10
    True
    """
    point, field = torch.func.jvp(outputs, (theta,), (velocity,))
    previous_point, previous_field = torch.func.jvp(outputs, (previous_theta,), (previous_velocity,))
    root = math.sqrt(point.numel())
    return lipschitz_estimate(field.reshape(-1) / root, previous_field.reshape(-1) / root,
                              point.reshape(-1) / root, previous_point.reshape(-1) / root, deps)


def effort_factor(
    report: CorrectorResult, budget: int, previous_norm: Optional[float] = None, options: Optional[Options] = None
) -> float:
    """Growth factor of the step from the corrector's effort.

    A corrector that converged within a quarter of its budget doubles the
    step, within half of it grows it by 1.5, and otherwise keeps it.

    A point accepted without converging (a least-squares floor above
    ``tol``, a corrector still on its way, or a fixed-budget corrector such
    as ``adam``) is judged by how much its residual rose:
    ``r = ||H_new|| / max(||H_prev||, tol)``. ``r <= options.step_growth_ratio``
    (default 1: no rise) grows the step by 1.5, ``r > sqrt(residual_growth)``
    halves it, and anything between keeps it. With ``step_growth_ratio =
    residual_growth**0.25`` a residual that rises in proportion to the
    distance travelled (``||H|| ~ c |eps - eps_0|``, the start of a time
    homotopy) costs a number of steps logarithmic in the distance, not
    linear. A point that took more than ``budget`` iterations (the trace's
    ``catch_up_iterations``) does not grow the step. Without
    ``previous_norm`` such a point keeps the step.

    Examples
    --------
    >>> import torch
    >>> from continuation import Options
    >>> from continuation.correctors import CorrectorResult
    >>> floor = CorrectorResult(torch.zeros(1), 8, 2e-4, False, "budget used")
    >>> effort_factor(floor, 8, previous_norm=3e-4, options=Options())
    1.5
    >>> effort_factor(floor, 8, previous_norm=1e-4, options=Options(residual_growth=10.0))  # r = 2
    1.0
    >>> effort_factor(floor, 8, previous_norm=2e-5, options=Options(residual_growth=10.0))
    0.5
    """
    if report.converged:
        if budget == 0 or report.iterations <= budget / 4:
            return 2.0
        if report.iterations <= budget / 2:
            return 1.5
        return 1.0
    if previous_norm is None or options is None:
        return 1.0
    ratio = report.residual_norm / max(previous_norm, options.tol)
    if ratio <= options.step_growth_ratio and report.iterations <= budget:
        return 1.5
    if ratio > math.sqrt(options.residual_growth):
        return 0.5
    return 1.0


def next_step(
    taken: float,
    report: CorrectorResult,
    budget: int,
    lipschitz: Optional[float],
    options: Options,
    previous_norm: Optional[float] = None,
) -> float:
    """The next ``|deps|`` after an accepted step of size ``taken``.

    ``min(effort_factor * taken, growth_max * taken, c / L)``, clipped to
    ``[ds_min, ds_max]`` (no upper bound when ``ds_max`` is ``None``, as
    before :func:`~continuation.trace` resolves it for its path);
    ``previous_norm`` is ``||H||`` at the previous accepted point (see
    :func:`effort_factor`).

    Examples
    --------
    >>> import torch
    >>> from continuation import Options
    >>> from continuation.correctors import CorrectorResult
    >>> report = CorrectorResult(torch.zeros(1), 1, 0.0, True, "converged")
    >>> next_step(0.01, report, budget=10, lipschitz=None, options=Options())
    0.02
    >>> next_step(0.01, report, budget=10, lipschitz=100.0, options=Options(lipschitz_c=0.5))
    0.005
    """
    step = taken * min(effort_factor(report, budget, previous_norm, options), options.growth_max)
    if lipschitz is not None and lipschitz > 0:
        step = min(step, options.lipschitz_c / lipschitz)
    return min(max(step, options.ds_min), math.inf if options.ds_max is None else options.ds_max)


def corrector_metrics(
    distance: Callable[[Tensor, Tensor], float], predicted: Tensor, report: CorrectorResult
) -> tuple[float, float]:
    """``(delta, kappa)`` of a corrected step.

    ``delta = d(x, x_0)``, the relative distance from the prediction ``x_0``
    to the corrected point ``x``: the predictor's error. (Classical step
    control takes the first Newton step for it, which is the whole
    correction when Newton contracts fast; a damped Gauss-Newton's first
    step is shortened by its damping, the whole correction is not.)
    ``kappa = d(x_2, x_1) / d(x_1, x_0)``, the contraction of the first two
    corrector steps (0 when it needed at most one step).

    Examples
    --------
    >>> import torch
    >>> from continuation.correctors import CorrectorResult
    >>> x0 = torch.tensor([1.0])
    >>> report = CorrectorResult(torch.tensor([1.11]), 2, 0.0, True, "converged",
    ...                          iterates=(torch.tensor([1.1]), torch.tensor([1.11])))
    >>> delta, kappa = corrector_metrics(lambda a, b: float(abs(a - b).sum()), x0, report)
    >>> round(delta, 6), round(kappa, 6)
    (0.11, 0.1)
    """
    iterates = report.iterates
    if not iterates:
        return 0.0, 0.0
    delta = distance(report.theta, predicted)
    first = distance(iterates[0], predicted)
    if len(iterates) < 2 or first == 0:
        return delta, 0.0
    return delta, distance(iterates[1], iterates[0]) / first


def corrector_factor(options: Options, delta: float, kappa: float, alpha: Optional[float] = None) -> float:
    """The factor of the next step: ``min(sqrt(delta_nom / delta), sqrt(kappa_nom / kappa), alpha_nom / alpha)``
    within ``[MIN_FACTOR, growth_max]`` (a zero measure puts no bound).

    Examples
    --------
    >>> from continuation import Options
    >>> options = Options(delta_nominal=0.01, kappa_nominal=0.25, growth_max=2.0)
    >>> corrector_factor(options, delta=0.04, kappa=0.0)   # predictor error 4x nominal: half the step
    0.5
    >>> corrector_factor(options, delta=0.0, kappa=0.0)    # exact prediction
    2.0
    """
    factors = [options.growth_max]
    if delta > 0:
        factors.append(math.sqrt(options.delta_nominal / delta))
    if kappa > 0:
        factors.append(math.sqrt(options.kappa_nominal / kappa))
    if alpha is not None and alpha > 0:
        factors.append(options.alpha_nominal / alpha)
    return min(max(min(factors), MIN_FACTOR), options.growth_max)
