"""Branch points of a square problem: their test function, and switching onto the bifurcating branch.

Where the state is square (``M = P``: finite differences), a simple branch
point is where the bordered Jacobian

    B = [ J     H_eps ]
        [ t_theta t_eps ]

(``t`` the unit tangent of the branch) is singular: its determinant changes
sign there, and not at a fold, where ``B`` stays regular.
:class:`BranchPointTest` is that test function; handed to
``trace(..., method="arclength", event_tests=[BranchPointTest()])`` it is
evaluated at every accepted point, and a sign change is an event of kind
``"branch_point"`` located to ``options.fold_tol`` (see
:mod:`continuation.arclength`).

At a branch point the kernel of ``[J  H_eps]`` is two-dimensional: the
tangent of the branch traced and that of the bifurcating one.
:func:`switch_branch` steps along the second one and corrects on the
bordered system, which puts the point on the new branch; an arclength trace
from there follows it.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Optional, Sequence, Union

import torch
from torch import Tensor

from .arclength import BorderedResidual
from .correctors import Corrector
from .defcon import BifurcationDiagram, find_solutions, resolve_corrector
from .options import Options
from .residual import ResidualMap, as_residual_map
from .result import Event, TraceResult
from .setup import check_eps_path
from .tracing import trace

__all__ = ["BranchPointTest", "switch_branch", "branch_switching_diagram"]


class BranchPointTest:
    """``sign(det B) sigma_min(B)``, ``B = [[J, H_eps], [t^T]]``: zero at a simple branch point, not at a fold.

    Called as ``test(problem, theta, eps, tangent)``. The smallest singular
    value of ``B``, signed by its determinant, is continuous along the
    branch (the sign flips only where ``sigma_min = 0``) and crosses zero
    linearly at a simple branch point, so the secant search locates it fast;
    the determinant itself varies by orders of magnitude with the stable
    modes and would overflow a float on a few hundred rows.

    Examples
    --------
    The trivial branch ``u = 0`` of ``eps^2 u'' + u - u^3 = 0`` on 40 points:
    three branch points between ``eps = 0.5`` and ``0.1``, at the discrete
    values:

    >>> import torch, continuation
    >>> from pde import ChafeeInfanteFD
    >>> H = ChafeeInfanteFD(40, "dirichlet")
    >>> result = continuation.trace(H, torch.zeros(40, dtype=torch.float64), [0.5, 0.1], method="arclength",
    ...                             event_tests=[BranchPointTest()], options=continuation.Options(ds_max=0.02))
    >>> found = [e.eps for e in result.events if e.kind == "branch_point"]
    >>> len(found), max(abs(a - b) for a, b in zip(found, H.branch_points(3))) < 1e-9
    (3, True)
    """

    kind = "branch_point"

    def check(self, value: Tensor, theta0: Tensor) -> None:
        """Raise :class:`ValueError` unless the problem is square (``len(H) == len(theta)``)."""
        if value.numel() != theta0.numel():
            raise ValueError(f"event_tests: BranchPointTest needs a square problem, len(H) == len(theta), got "
                             f"len(H) = {value.numel()} and len(theta) = {theta0.numel()}")

    def __call__(self, problem: ResidualMap, theta: Tensor, eps: Tensor, tangent: Tensor) -> float:
        top = torch.cat([problem.jacobian(theta, eps), problem.eps_derivative(theta, eps)[:, None]], 1)
        bordered = torch.cat([top, tangent[None]])
        return float(torch.linalg.slogdet(bordered).sign * torch.linalg.svdvals(bordered)[-1])

    def __repr__(self) -> str:
        return "BranchPointTest()"


def switch_branch(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    result: TraceResult,
    event: Event,
    *,
    direction: int = 1,
    step: float = 1e-2,
    corrector: Union[str, Corrector] = "lm",
    options: Optional[Options] = None,
) -> tuple[Tensor, float]:
    """A point on the branch that bifurcates at ``event``, ``step`` away from it.

    The kernel of ``[J  H_eps]`` at the branch point is spanned by two
    vectors; the one orthogonal to the traced branch (its secant through the
    points of ``result`` on either side of the event) is the bifurcating
    direction ``phi``. The point ``z* + direction * step * phi`` is corrected
    on ``H = 0, <phi, z - z_pred> = 0``, which keeps it off the traced branch.

    Parameters
    ----------
    residual
        The residual map of the trace.
    result
        The trace that found the event.
    event
        A refined event of kind ``"branch_point"`` of ``result``.
    direction
        ``+1`` or ``-1``: the two halves of the bifurcating branch.
    step
        Distance along ``phi`` (Euclidean in ``(theta, eps)``).
    corrector, options
        As in :func:`~continuation.trace`; the correction uses
        ``options.final_iterations`` and ``options.tol``.

    Returns
    -------
    tuple
        ``(theta, eps)`` on the new branch, a start for
        ``trace(residual, theta, [eps, ...], method="arclength")``.

    Raises
    ------
    ValueError
        On a bad argument, or when the correction does not converge to ``options.tol``.

    Examples
    --------
    >>> import torch, continuation
    >>> from pde import ChafeeInfanteFD
    >>> H = ChafeeInfanteFD(40, "dirichlet")
    >>> result = continuation.trace(H, torch.zeros(40, dtype=torch.float64), [0.5, 0.2], method="arclength",
    ...                             event_tests=[BranchPointTest()], options=continuation.Options(ds_max=0.02))
    >>> theta, eps = switch_branch(H, result, result.events[0], step=1.0)
    >>> eps < result.events[0].eps, float(theta.norm()) > 0.99   # below eps_1, away from u = 0
    (True, True)
    """
    options = options if options is not None else Options()
    if not isinstance(options, Options):
        raise TypeError(f"options must be a continuation.Options or None, got {type(options).__name__}")
    if not isinstance(event, Event) or event.kind != BranchPointTest.kind or event.theta is None:
        raise ValueError(f"event must be a branch_point Event with its theta, got {event!r}")
    if not event.refined:
        raise ValueError(f"event must be refined to switch branches there, got one that was not ({event.note})")
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, got {direction!r}")
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive finite number, got {step!r}")
    corrector = resolve_corrector(corrector, options)
    if not 0 <= event.index < len(result.eps) - 1:
        raise ValueError(f"event.index = {event.index} does not lie between two points of result")
    problem = as_residual_map(residual)
    theta = event.theta
    eps = torch.tensor(event.eps, dtype=theta.dtype, device=theta.device)
    z = torch.cat([theta, eps[None]])
    before, after = (torch.cat([result.thetas[i], eps.new_tensor([result.eps[i]])])
                     for i in (event.index, event.index + 1))
    secant = (after - before) / torch.linalg.vector_norm(after - before)
    matrix = torch.cat([problem.jacobian(theta, eps), problem.eps_derivative(theta, eps)[:, None]], 1)
    kernel = torch.linalg.svd(matrix).Vh[-2:]  # the two smallest right singular vectors
    weights = kernel @ secant  # the kernel direction orthogonal to the secant of the traced branch
    phi = weights[1] * kernel[0] - weights[0] * kernel[1]
    phi = phi / torch.linalg.vector_norm(phi)
    predicted = z + direction * step * phi
    report = corrector.correct(BorderedResidual(problem, phi, predicted), predicted, predicted[-1],
                               iterations=options.final_iterations, tol=options.tol)
    if not report.converged:
        raise ValueError(f"the branch switch did not converge: ||H|| = {report.residual_norm:.3e} > tol = "
                         f"{options.tol:g} ({report.message}); try a smaller step")
    return report.theta[:-1], float(report.theta[-1])


def branch_switching_diagram(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    guesses: Sequence[Tensor],
    eps_path: Sequence[float],
    *,
    corrector: Union[str, Corrector] = "lm",
    options: Optional[Options] = None,
    step: float = 0.1,
    max_depth: int = 2,
    min_distance: float = 1e-3,
) -> BifurcationDiagram:
    """A bifurcation diagram of a square problem by branch-point detection and branch switching.

    The solutions at ``eps_path[0]`` are found by deflation from
    ``guesses`` (:func:`~continuation.find_solutions`, which also finds
    branches not connected to the others); each is traced by arclength with
    :class:`BranchPointTest` over the range of ``eps_path``; at each branch
    point found, both halves of the bifurcating branch are entered with
    :func:`switch_branch` and traced the same way, to ``max_depth`` levels.

    Parameters
    ----------
    residual
        ``H(theta, eps)`` with ``len(H) == len(theta)``.
    guesses
        Initial states for the solutions at ``eps_path[0]``.
    eps_path
        Start and range, as in ``trace(..., method="arclength")``.
    corrector, options
        As in :func:`~continuation.trace`.
    step
        The distance of :func:`switch_branch`.
    max_depth
        Levels of switching (1: only the branches leaving the first ones).
    min_distance
        Two solutions at ``eps_path[0]`` closer than this are the same.

    Returns
    -------
    BifurcationDiagram
        One branch per trace (its events included), in the order traced.

    Examples
    --------
    >>> import torch
    >>> from pde import ChafeeInfanteFD
    >>> H = ChafeeInfanteFD(40, "dirichlet")
    >>> diagram = branch_switching_diagram(H, [torch.zeros(40, dtype=torch.float64)], [0.5, 0.1],
    ...                                    options=Options(ds_max=0.02))
    >>> len(diagram.branches), len(diagram.solutions_at(0.1))
    (7, 7)
    """
    began = time.perf_counter()
    options = options if options is not None else Options()
    if not isinstance(options, Options):
        raise TypeError(f"options must be a continuation.Options or None, got {type(options).__name__}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValueError(f"max_depth must be an integer >= 0, got {max_depth!r}")
    path = check_eps_path(eps_path)
    low, high = min(path), max(path)
    found, failed = find_solutions(residual, guesses, path[0], corrector=corrector, options=options,
                                   min_distance=min_distance)
    diagram = BifurcationDiagram([], path, failed_search_iterations=failed, searches=len(found) + len(guesses))
    pending = [(report.theta, path, 0) for report in found]
    while pending:
        theta, branch_path, depth = pending.pop(0)
        result = trace(residual, theta, branch_path, method="arclength", corrector=corrector, options=options,
                       event_tests=[BranchPointTest()])
        diagram.branches.append(result)
        if depth == max_depth:
            continue
        for event in result.events:
            if event.kind != BranchPointTest.kind or not event.refined:
                continue
            for direction in (1, -1):
                start, eps = switch_branch(residual, result, event, direction=direction, step=step,
                                           corrector=corrector, options=options)
                end = low if eps < event.eps else high
                if eps != end:
                    pending.append((start, [eps, end], depth + 1))
    diagram.wall_time = time.perf_counter() - began
    return diagram
