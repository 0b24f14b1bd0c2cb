"""How firmly the equations pin the solution a trace ends on.

A small residual proves a solution only if the residual would be large at
every function far from it. Singularly perturbed problems break this: an
Allen-Cahn interface or a Burgers shock shifted by ``delta`` leaves a residual
of order ``exp(-c / eps)``, so for small ``eps`` a whole family of functions
meets ``||H|| <= tol``, and which member a trace ends on is set by its path
(or by a symmetry of the points), not by the equations. Such a trace is not a
success, whatever its residual.

The first-order measure is the *function-space condition number* of the
last point,

.. math::

    \\kappa_u = \\max_v \\frac{\\|U v\\|}{\\|J v\\|}, \\qquad
    \\frac{\\|\\delta u\\|}{\\|u\\|} \\lesssim \\kappa_u \\frac{\\|H\\|}{\\|u\\|},

with ``J = dH/dtheta`` and ``U = du/dtheta`` the Jacobian of the outputs
``u(theta)`` (a network's values on a set of points), ``v`` over the
right singular vectors of ``J`` whose singular values exceed
``RCOND * s_max`` (below it the float64 Jacobian of a network is rounding
noise and those directions move neither ``H`` nor ``u`` measurably). It is the
norm of ``U J^+``: how far the function moves per unit of residual under the
minimum-norm corrections that every Gauss-Newton corrector makes, and
``kappa_u ||H||`` bounds how far the function may be from the exact zero of
the residual that those corrections would reach. It is measured on the
function, never on the weights: many weight vectors give one function.

Measured on the generalization suite's final points (1-30-30-30-1 networks,
500 points, outputs at the interior points; ``python -m benchmarks
generalization``): boundary and turning-point layers and a fitting problem
have ``kappa_u`` = 22 to 37 and a bound of 8e-6 to 2.3e-5 (their L2RE is
1e-6 to 1e-5); an Allen-Cahn interface at 0.3 and a Burgers shock at -0.25,
both weakly pinned by their boundary data, have ``kappa_u`` = 2.7e7 and
1.9e7, a bound of 12 and 6.8, and the traces had moved them (L2RE 0.38 and
0.06).

:func:`continuation.defcon.near_kernel` asks the converse question at a
known solution (which directions of the function change the residual
least, to seed branch switching); here the question is how much the
function can move under the corrections a trace makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from .residual import ResidualMap

__all__ = ["Conditioning", "solution_conditioning", "RCOND"]

RCOND = 1e-10
"""Singular values of ``J`` below ``RCOND * s_max`` count as rounding noise (see the module's notes)."""


@dataclass(frozen=True)
class Conditioning:
    """The function-space conditioning of a point (see :mod:`continuation.conditioning`).

    Attributes
    ----------
    condition
        ``kappa_u = ||U J^+||``: the largest change of the outputs per unit
        change of the residual under a minimum-norm correction.
    bound
        ``kappa_u ||H|| / ||u||``: the first-order bound on the relative
        distance of the outputs from those of the zero of ``H`` nearby.
    residual_norm
        ``||H||`` at the point.
    modes
        Singular values of ``J`` kept (above ``RCOND * s_max``).
    """

    condition: float
    bound: float
    residual_norm: float
    modes: int

    def to_dict(self) -> dict[str, float]:
        return {"condition": self.condition, "bound": self.bound, "residual_norm": self.residual_norm,
                "modes": self.modes}


def solution_conditioning(
    problem: ResidualMap, outputs: Callable[[Tensor], Tensor], theta: Tensor, eps: Tensor,
) -> Conditioning:
    """The function-space condition number of the point ``(theta, eps)`` and its error bound.

    Forms the Jacobian and its thin SVD (``O(M P min(M, P))``), then one
    Jacobian-vector product of ``outputs`` per kept singular direction.

    Parameters
    ----------
    problem
        The residual map.
    outputs
        ``theta -> Tensor``: the function the state represents.
    theta, eps
        The point.

    Examples
    --------
    Two equations, the second of which pins ``theta_0 - theta_1`` only
    weakly: the sum is well determined, the difference is not:

    >>> import torch
    >>> from continuation.residual import FunctionResidual
    >>> weak = FunctionResidual(lambda t, e: torch.stack([t[0] + t[1] - e, 1e-6 * (t[0] - t[1])]))
    >>> theta, eps = torch.tensor([0.25, 0.25], dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    >>> round(solution_conditioning(weak, lambda t: t[0] + t[1], theta, eps).condition, 6)
    1.0
    >>> round(solution_conditioning(weak, lambda t: t[0] - t[1], theta, eps).condition)
    1000000

    Directions that ``J`` does not see at all (its null space; a network
    has many: weights that move ``u`` only between the collocation points)
    are not counted: no minimum-norm correction moves along them, and what
    the function does between the points is a matter of resolution, for a
    residual on fresh points to judge.
    """
    residual, jacobian = problem.linearize(theta, eps)
    _, singular, right = torch.linalg.svd(jacobian, full_matrices=False)
    keep = singular > RCOND * singular[0] if singular.numel() and singular[0] > 0 else singular > 0
    directions, kept = right[keep], singular[keep]
    u = outputs(theta).reshape(-1)
    if kept.numel() == 0:
        return Conditioning(0.0, 0.0, float(torch.linalg.vector_norm(residual)), 0)

    def along(v: Tensor) -> Tensor:
        return torch.func.jvp(lambda t: outputs(t).reshape(-1), (theta,), (v,))[1]

    moved = torch.func.vmap(along)(directions)  # (k, N): U v_i for each kept right singular vector
    condition = float(torch.linalg.matrix_norm(moved / kept[:, None], ord=2))
    norm = float(torch.linalg.vector_norm(residual))
    scale = max(float(torch.linalg.vector_norm(u)), torch.finfo(u.dtype).tiny)
    return Conditioning(condition, condition * norm / scale, norm, int(kept.numel()))
