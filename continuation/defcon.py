"""Deflated continuation: every branch of a bifurcation diagram, connected or not.

The algorithm of Farrell, Beentjes and Birkisson ("The computation of
disconnected bifurcation diagrams", 2016), over a list of parameter values:

1. at the first value, solve from each initial guess, deflating the
   solutions found so far, again and again until the corrector fails
   (:func:`find_solutions`);
2. at each next value, *continue* every live branch from its last point
   (:func:`~continuation.trace`, natural parameter, on the residual deflated
   by the solutions already found at this value, so that two branches never
   merge); a branch whose trace fails ends there;
3. then *search*: from each solution at the previous value, perturbed, and
   from each solution at this value stepped both ways along its near-kernel
   directions (:func:`near_kernel`, the seeds of branch switching: where a
   pair ``±v`` bifurcates from a known solution, its two halves lie on
   either side of the near-kernel), solve the problem deflated by every
   solution known at this value (the images of the known solutions under
   the problem's symmetries, ``symmetries``, are the first starts); each
   new solution starts a new branch, and its images are tried next.

Distances are measured on the solution (``outputs``), see
:func:`~continuation.deflate`. The result, a :class:`BifurcationDiagram`,
holds the branches, each an ordinary :class:`~continuation.TraceResult`
(its path, its per-step table, its status), and the cost.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import torch
from torch import Tensor
from torch.func import jacrev

from .correctors import CORRECTORS, Corrector, CorrectorResult, LevenbergMarquardt, Stop, corrector_from_options
from .deflation import Distance, Outputs, deflate, rms_distance
from .options import Options
from .residual import ResidualMap, as_residual_map
from .result import Status, StepRecord, TraceResult, strict_json
from .setup import check_eps_path
from .tracing import trace

NO_JUMP_GUARD = 1e6
"""``Options.delta_max`` of the branches' traces: a relative correction no step reaches (the guard off)."""

__all__ = ["BifurcationDiagram", "deflated_continuation", "find_solutions", "kernel_seeds", "near_kernel",
           "polish_solutions"]


@dataclass
class BifurcationDiagram:
    """The branches found by :func:`deflated_continuation`, and what they cost.

    Attributes
    ----------
    branches
        One :class:`~continuation.TraceResult` a branch: ``eps`` and
        ``thetas`` its points, ``steps`` every attempt (the first row is the
        deflated solve that found it, its ``reason`` says from what start),
        ``status`` ``SUCCESS`` when it reached the last parameter value, else
        the status of the trace that failed.
    eps_values
        The parameter values of the diagram.
    wall_time
        Seconds for the whole diagram.
    failed_search_iterations, searches
        Corrector iterations spent on searches that found nothing, and the
        number of deflated solves tried.
    """

    branches: list[TraceResult]
    eps_values: list[float]
    wall_time: float = 0.0
    failed_search_iterations: int = 0
    searches: int = 0
    outputs: Optional[Outputs] = field(default=None, repr=False)

    def solutions_at(self, eps: float) -> list[Tensor]:
        """The states of every branch at the parameter value ``eps`` (one of :attr:`eps_values`)."""
        return [b.thetas[b.eps.index(eps)] for b in self.branches if eps in b.eps]

    @property
    def corrector_iterations(self) -> int:
        """Every corrector iteration of the diagram: continuation, successful and failed searches."""
        return sum(b.corrector_iterations for b in self.branches) + self.failed_search_iterations

    @property
    def jacobian_evaluations(self) -> int:
        """Jacobians computed by the branches' continuation traces."""
        return sum(b.jacobian_evaluations for b in self.branches)

    def summary(self) -> dict[str, Any]:
        """Counters and branches as strict JSON (no states)."""
        return strict_json({
            "branches": [{"eps_first": b.eps[0], "eps_last": b.eps[-1], "points": len(b.eps),
                          "status": b.status.value, "message": b.message,
                          "corrector_iterations": b.corrector_iterations} for b in self.branches],
            "solutions_at_last_eps": len(self.solutions_at(self.eps_values[-1])),
            "corrector_iterations": self.corrector_iterations,
            "failed_search_iterations": self.failed_search_iterations,
            "searches": self.searches,
            "jacobian_evaluations": self.jacobian_evaluations,
            "wall_time": self.wall_time,
        })

    def plot(self, measure: Optional[Callable[[Tensor], float]] = None, ax: Any = None, **style: Any) -> Any:
        """Draw the diagram: ``eps`` on the x axis, ``measure(theta)`` on the y axis, one line a branch.

        Parameters
        ----------
        measure
            ``theta -> float``; default the root-mean-square of the outputs
            (the state itself when the diagram has no ``outputs``).
        ax
            A matplotlib axes; default a new figure's.
        style
            Passed to ``ax.plot``.

        Returns
        -------
        The axes.
        """
        import matplotlib.pyplot as plt

        outputs = self.outputs or (lambda theta: theta)
        measure = measure or (lambda theta: float(torch.sqrt(torch.mean(outputs(theta) ** 2))))
        if ax is None:
            _, ax = plt.subplots()
        for i, branch in enumerate(self.branches):
            ax.plot(branch.eps, [measure(t) for t in branch.thetas], marker=".", ms=3, **style,
                    label=f"branch {i}" if len(self.branches) <= 12 else None)
        ax.set_xlabel("eps")
        return ax


def _check_count(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def resolve_corrector(corrector: Union[str, Corrector], options: Options) -> Corrector:
    """The corrector named ``corrector`` built from ``options``, or ``corrector`` itself (checked)."""
    if isinstance(corrector, str):
        if corrector not in CORRECTORS:
            raise ValueError(f"corrector must be one of {sorted(CORRECTORS)} or an object, got {corrector!r}")
        return corrector_from_options(corrector, options)
    if not callable(getattr(corrector, "correct", None)):
        raise TypeError(f"corrector must be a name or an object with a correct() method, got "
                        f"{type(corrector).__name__}")
    return corrector


def _check_states(name: str, states: Sequence[Tensor]) -> list[Tensor]:
    if isinstance(states, Tensor) or not isinstance(states, Sequence):
        raise TypeError(f"{name} must be a sequence (list) of states, got {type(states).__name__}")
    for i, state in enumerate(states):
        if not isinstance(state, Tensor) or state.ndim != 1 or not state.dtype.is_floating_point:
            raise TypeError(f"{name}[{i}] must be a 1-D floating tensor (a state), got {state!r:.80}")
    return list(states)


def near_kernel(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    theta: Tensor,
    eps: float,
    *,
    count: int = 1,
    outputs: Optional[Outputs] = None,
    rcond: float = 1e-8,
) -> tuple[Tensor, Tensor]:
    """The ``count`` directions of ``theta`` that change the residual least per unit change of the solution.

    With ``J = dH/dtheta`` and ``B = d outputs/dtheta``, the directions ``v``
    minimise ``||J v|| / ||B v||``: the smallest right singular vectors of
    ``J`` once the state is measured by its outputs. For a finite-difference
    state (``outputs=None``, ``B = I``) they are the smallest right singular
    vectors of ``J``; for a network, whose weights are not unique, the
    weight directions that leave the outputs unchanged are left out (``B =
    U S V^T``, ``v = V S^-1 w`` over the singular values above ``rcond *
    s_max``, ``w`` the smallest right singular vectors of ``J V S^-1``).
    Near a branch point of a known solution the first direction is the
    function the bifurcating branches leave along.

    Parameters
    ----------
    residual
        ``H(theta, eps)``.
    theta
        The state (a solution, typically).
    eps
        The parameter value.
    count
        How many directions.
    outputs
        ``theta -> u``, the solution the distance is measured on (default the state itself).
    rcond
        Relative cutoff of the singular values of ``B``.

    Returns
    -------
    tuple
        ``directions`` of shape ``(count, theta.numel())``, each with
        ``||B v|| = 1``, smallest first, and ``values``, the ratios
        ``||J v|| / ||B v||`` (the generalised singular values), ascending.

    Examples
    --------
    ``H = (t0 - t1^2, 2 t1)``: the residual changes least along ``t0``:

    >>> import torch
    >>> directions, values = near_kernel(lambda t, e: torch.stack([t[0] - t[1] ** 2, 2 * t[1]]),
    ...                                  torch.zeros(2, dtype=torch.float64), 0.0)
    >>> directions.abs().tolist(), values.tolist()
    ([[1.0, 0.0]], [1.0])
    """
    _check_count("count", count, 1)
    if isinstance(rcond, bool) or not isinstance(rcond, (int, float)) or not 0 < rcond < 1:
        raise ValueError(f"rcond must be a number in (0, 1), got {rcond!r}")
    problem = as_residual_map(residual)
    theta = theta.detach()
    jacobian = problem.jacobian(theta, torch.tensor(float(eps), dtype=theta.dtype, device=theta.device))
    if outputs is None:
        to_state = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)
    else:
        _, scales, vh = torch.linalg.svd(jacrev(outputs)(theta), full_matrices=False)
        kept = scales > rcond * scales[0]
        to_state = vh[kept].T / scales[kept]  # w -> v with ||B v|| = ||w||
    if count > to_state.shape[1]:
        raise ValueError(f"count must be at most {to_state.shape[1]} (the directions that change the solution), "
                         f"got {count!r}")
    reduced = jacobian @ to_state
    _, values, wh = torch.linalg.svd(reduced, full_matrices=True)
    # right singular vectors beyond the rows of a wide reduced Jacobian are its exact kernel
    values = torch.cat([values, values.new_zeros(wh.shape[0] - values.numel())])
    order = torch.argsort(values)[:count]
    return (to_state @ wh[order].T).T, values[order]


def kernel_seeds(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    theta: Tensor,
    eps: float,
    *,
    count: int = 1,
    step: Union[float, Sequence[float]] = 0.1,
    outputs: Optional[Outputs] = None,
    distance: Optional[Distance] = None,
    rcond: float = 1e-8,
    fit_tol: float = 0.01,
    fit_iterations: int = 500,
) -> list[Tensor]:
    """States whose solutions are ``u +- a_j phi_j``, ``phi_j = B v_j`` the near-kernel functions (:func:`near_kernel`).

    ``u = outputs(theta)``, ``B = d outputs/dtheta``, and ``a_j`` makes
    ``a_j phi_j`` of size ``step`` in ``distance`` (taken to be homogeneous,
    as a norm is). These are the starts of branch switching at a pitchfork:
    both halves ``±phi`` of a pair bifurcating from ``u``. Without
    ``outputs`` the states are ``theta +- a_j v_j``. With ``outputs`` (a
    network) the step is taken on the solution, not the weights: ``v_j``
    can be huge (a function the network represents only through weights
    that barely act, the hidden layers behind a small last layer), and
    ``theta + a_j v_j`` would be far outside the linear regime; the seed is
    ``theta`` fitted to the target ``u +- a_j phi_j`` by Levenberg-Marquardt
    on ``outputs(theta') - target``, until it lies within ``fit_tol * step``
    of the target in ``distance`` or ``fit_iterations`` are spent. Fits
    converge at very different rates (30 to 240 iterations to 1 % for the
    four seeds of ``u = 0`` of a 1-10-10-1 Chafee-Infante network, measured);
    seeds left 10 % of the step from their targets, by a fixed 10
    iterations, sent most deflated solves from ``u = 0`` of the 1-20-20-1
    network away from the ``k = 3`` pair at ``eps = 0.1``.

    Parameters
    ----------
    residual, theta, eps, count, outputs, rcond
        As in :func:`near_kernel`.
    step
        The size of the change of the solution, in ``distance``, or a
        sequence of sizes (a ladder: the directions are computed once).
    distance
        ``(u, v) -> Tensor`` (default :func:`~continuation.rms_distance`).
    fit_tol
        Each fit ends once its solution is within ``fit_tol * step`` of the
        target (with ``outputs`` only).
    fit_iterations
        At most this many Levenberg-Marquardt iterations a fit (with
        ``outputs`` only); the seed is then the last iterate, however far.

    Returns
    -------
    list
        ``2 count`` states per size: ``+`` then ``-`` for each direction,
        smallest first, the sizes in the order given.

    Examples
    --------
    >>> import torch
    >>> H = lambda t, e: torch.stack([t[0] - t[1] ** 2, 2 * t[1]])
    >>> seeds = kernel_seeds(H, torch.zeros(2, dtype=torch.float64), 0.0, step=0.5)  # RMS of (a, 0): a / sqrt(2)
    >>> [[round(float(v), 6) for v in s.abs()] for s in seeds], float(seeds[0][0] + seeds[1][0])
    ([[0.707107, 0.0], [0.707107, 0.0]], 0.0)
    >>> [round(float(s[0]), 6) for s in kernel_seeds(H, torch.zeros(2, dtype=torch.float64), 0.0, step=(0.5, 1.0))]
    [0.707107, -0.707107, 1.414214, -1.414214]
    """
    sizes = _step_sizes("step", step)
    if isinstance(fit_tol, bool) or not isinstance(fit_tol, (int, float)) or not 0 < fit_tol < 1:
        raise ValueError(f"fit_tol must be a number in (0, 1), got {fit_tol!r}")
    _check_count("fit_iterations", fit_iterations, 1)
    distance = distance or rms_distance
    directions, _ = near_kernel(residual, theta, eps, count=count, outputs=outputs, rcond=rcond)
    theta = theta.detach()
    if outputs is None:
        return [theta + sign * (size / float(distance(theta + v, theta))) * v
                for size in sizes for v in directions for sign in (1, -1)]
    u = outputs(theta).detach()
    functions = [torch.func.jvp(outputs, (theta,), (direction,))[1].detach() for direction in directions]
    seeds = []
    for size in sizes:
        for function in functions:
            phi = function * (size / float(distance(u + function, u)))
            seeds += [_fit(outputs, theta, target, distance, fit_tol * size, fit_iterations)
                      for target in (u + phi, u - phi)]
    return seeds


def _step_sizes(name: str, value: object) -> tuple[float, ...]:
    """``value`` as a tuple of step sizes: one finite number > 0 or a non-empty sequence of them."""
    sizes = (value,) if isinstance(value, (int, float)) else value
    if isinstance(sizes, (str, bytes, Tensor)) or not isinstance(sizes, Sequence) or not sizes or not all(
        not isinstance(size, bool) and isinstance(size, (int, float)) and math.isfinite(size) and size > 0
        for size in sizes
    ):
        raise ValueError(f"{name} must be a finite number > 0 or a non-empty sequence of them, got {value!r}")
    return tuple(float(size) for size in sizes)


FIT_CHECK_EVERY = 10
"""Levenberg-Marquardt iterations of a fit between two measures of its distance to the target."""


def _fit(outputs: Outputs, theta: Tensor, target: Tensor, distance: Distance, within: float,
         iterations: int) -> Tensor:
    """``theta`` fitted by Levenberg-Marquardt until ``distance(outputs(theta), target) <= within`` or
    ``iterations`` are spent (the damping handed on between checks)."""
    misfit = as_residual_map(lambda t, e: outputs(t) - target)
    fitter, eps = LevenbergMarquardt(), torch.zeros((), dtype=theta.dtype, device=theta.device)
    used, state = 0, None
    while used < iterations and float(distance(outputs(theta), target)) > within:
        report = fitter.correct(misfit, theta, eps, iterations=min(FIT_CHECK_EVERY, iterations - used), tol=0.0,
                                state=state)
        used += report.iterations
        if math.isfinite(report.residual_norm):
            theta, state = report.theta.detach(), report.state
        if report.stop is not Stop.BUDGET:  # a floor, a stall or a non-finite misfit: the fit goes no further
            break
    return theta


def _deflated_polish(solver: Corrector, problem: ResidualMap, theta: Tensor, eps: Tensor, others: list[Tensor],
                     iterations: int, tol: float, deflation: dict[str, Any]) -> CorrectorResult:
    """At most ``iterations`` corrector iterations from ``theta`` on the residual deflated by ``others`` and
    normalised at ``theta`` (the factor is ``1`` there, so ``tol`` is a tolerance on ``H`` near ``theta``).

    The factor changes along the way: a correction that meets ``tol`` on the deflated residual but not on
    ``H`` goes on, normalised at its end, while budget remains. ``residual_norm`` and ``converged`` are those
    of ``H`` at the end.
    """
    used = 0
    while True:
        deflated = deflate(problem, others, normalize=theta, **deflation)
        report = solver.correct(deflated, theta, eps, iterations=iterations - used, tol=tol)
        used += report.iterations
        norm = float(torch.linalg.vector_norm(problem(report.theta, eps)))
        if norm <= tol or not report.converged or used >= iterations:
            return dataclasses.replace(report, iterations=used, residual_norm=norm, converged=norm <= tol)
        theta = report.theta.detach()


def _patient_solve(solver: Corrector, residual: ResidualMap, theta: Tensor, eps: Tensor, iterations: int,
                   tol: float, patience: Optional[int]) -> CorrectorResult:
    """At most ``iterations`` corrector iterations from ``theta``, cut once ``||residual||`` has not halved over
    the last ``patience`` of them (``None``: never cut); the corrector's state (its damping) is handed on."""
    if patience is None:
        return solver.correct(residual, theta, eps, iterations=iterations, tol=tol)
    used, state = 0, None
    norm = float(torch.linalg.vector_norm(residual(theta, eps)))
    while True:
        report = solver.correct(residual, theta, eps, iterations=min(patience, iterations - used), tol=tol,
                                state=state)
        used += report.iterations
        progress = report.residual_norm <= norm / 2
        if report.converged or used >= iterations or report.iterations < patience or not progress:
            return dataclasses.replace(report, iterations=used)
        theta, state, norm = report.theta.detach(), report.state, report.residual_norm


def find_solutions(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    guesses: Sequence[Tensor],
    eps: float,
    *,
    known: Sequence[Tensor] = (),
    corrector: Union[str, Corrector] = "lm",
    options: Optional[Options] = None,
    iterations: Optional[int] = None,
    outputs: Optional[Outputs] = None,
    power: float = 2.0,
    shift: float = 1.0,
    distance: Optional[Distance] = None,
    min_distance: float = 1e-3,
    polish_iterations: int = 0,
    patience: Optional[int] = None,
) -> tuple[list[CorrectorResult], int]:
    """New solutions at ``eps`` by deflation: from each guess, solve again until the corrector fails.

    A solve from a guess runs the corrector on the residual deflated by
    ``known`` and the solutions found so far. It finds a solution when
    ``||H|| <= options.tol`` on the *original* residual and the point lies
    at least ``min_distance`` from every deflated one (deflation should
    already forbid that; the check keeps a duplicate out whatever the
    corrector does). Then the same guess is tried again with one more
    solution deflated; a failure moves on to the next guess.

    With ``polish_iterations``, the end of each deflated solve is corrected
    again before that test, on the residual still deflated by the known
    solutions but *normalised* at that point (``G = M(theta) / M(theta_0)
    H``, see :func:`~continuation.deflate`). The corrector's own test is on
    the deflated residual ``G = M H``, and ``M`` grows with every known
    solution near the new one (``1 / d^2`` each): with several known, a
    deflated solve that has reached a new solution's basin may need ``||H||
    <= tol / M``, beyond what a network reaches in the budget; normalised,
    the test is one on ``H`` near the point, and the deflation still keeps
    the correction from sliding onto a known solution (an undeflated one
    can, and the new solution is then lost).

    Parameters
    ----------
    residual
        ``H(theta, eps)``.
    guesses
        Initial states.
    eps
        The parameter value.
    known
        Solutions already known at ``eps`` (deflated from the start).
    corrector, options
        As in :func:`~continuation.trace`.
    iterations
        Corrector budget of a solve (default ``options.initial_iterations``).
    outputs, power, shift, distance
        The deflation, see :func:`~continuation.deflate`.
    min_distance
        Two solutions closer than this (in ``distance``) are the same.
    polish_iterations
        Corrector budget of the normalised deflated correction after each
        deflated solve; ``0``: none.
    patience
        A deflated solve is cut once its residual has not halved over the
        last ``patience`` iterations (a start that leads nowhere, a plateau
        far from every solution); ``None``: every solve runs its whole
        budget. With it, ``iterations`` can be large enough for the slow
        final convergence of a network onto a new solution, while the solves
        that find nothing (most of them) stop early.

    Returns
    -------
    tuple
        The corrector results of the new solutions, in the order found
        (``iterations`` counts both solves), and the iterations of the
        solves that found nothing.

    Examples
    --------
    The three cube roots of unity, ``z^3 = 1`` with ``z = x + i y``, from one guess:

    >>> import torch
    >>> H = lambda t, e: torch.stack([t[0]**3 - 3 * t[0] * t[1]**2 - 1, 3 * t[0]**2 * t[1] - t[1]**3])
    >>> found, _ = find_solutions(H, [torch.tensor([0.3, 0.2], dtype=torch.float64)], 0.0,
    ...                           options=Options(tol=1e-12))
    >>> [(round(float(r.theta[0]), 6), round(float(r.theta[1]), 6)) for r in found]
    [(1.0, -0.0), (-0.5, 0.866025), (-0.5, -0.866025)]
    """
    options, solver, problem, iterations, deflation = _deflated_solves(
        residual, corrector, options, iterations, "initial_iterations", min_distance, power, shift, outputs, distance)
    distance = deflation["distance"]
    guesses, known = _check_states("guesses", guesses), _check_states("known", known)
    _check_count("polish_iterations", polish_iterations, 0)
    if patience is not None:
        _check_count("patience", patience, 1)
    found: list[CorrectorResult] = []
    failed = 0
    for guess in guesses:
        eps_tensor = torch.tensor(float(eps), dtype=guess.dtype, device=guess.device)
        while True:
            deflated = deflate(problem, known, **deflation)
            report = _patient_solve(solver, deflated, guess, eps_tensor, iterations, options.tol, patience)
            if polish_iterations:
                polished = _deflated_polish(solver, problem, report.theta.detach(), eps_tensor, known,
                                            polish_iterations, options.tol, deflation)
                report = dataclasses.replace(polished, iterations=report.iterations + polished.iterations)
            norm = float(torch.linalg.vector_norm(problem(report.theta, eps_tensor)))
            u = deflated.outputs(report.theta)
            distinct = all(float(distance(u, k)) >= min_distance for k in deflated.known_outputs)
            if not (math.isfinite(norm) and norm <= options.tol and distinct):
                failed += report.iterations
                break
            found.append(report)
            known.append(report.theta.detach())
    return found, failed


def _deflated_solves(residual, corrector, options, iterations, default_budget: str, min_distance, power, shift,
                     outputs, distance) -> tuple[Options, Corrector, ResidualMap, int, dict]:
    """The checked arguments shared by :func:`find_solutions` and :func:`polish_solutions`: options,
    corrector, residual map, budget (``iterations``, else the option named ``default_budget``) and the
    keyword arguments of :func:`~continuation.deflate`."""
    options = options if options is not None else Options()
    if not isinstance(options, Options):
        raise TypeError(f"options must be a continuation.Options or None, got {type(options).__name__}")
    solver = resolve_corrector(corrector, options)
    problem = as_residual_map(residual)
    iterations = getattr(options, default_budget) if iterations is None else iterations
    _check_count("iterations", iterations, 1)
    if isinstance(min_distance, bool) or not isinstance(min_distance, (int, float)) or not min_distance >= 0:
        raise ValueError(f"min_distance must be a number >= 0, got {min_distance!r}")
    deflation = {"power": power, "shift": shift, "outputs": outputs, "distance": distance or rms_distance}
    return options, solver, problem, iterations, deflation


def polish_solutions(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    states: Sequence[Tensor],
    eps: float,
    *,
    corrector: Union[str, Corrector] = "lm",
    options: Optional[Options] = None,
    iterations: Optional[int] = None,
    outputs: Optional[Outputs] = None,
    power: float = 2.0,
    shift: float = 1.0,
    distance: Optional[Distance] = None,
    min_distance: float = 1e-3,
) -> list[CorrectorResult]:
    """Correct each of several solutions at ``eps`` further, without letting two of them merge.

    Solutions found to a loose tolerance (a diagram's) are often corrected
    to a tighter one at the end. Corrected one by one on the original
    residual, a solution close to another (a small-amplitude branch near
    ``u = 0``, say) can slide onto it: two results, one solution. Here each
    state is corrected on the residual deflated by all the others (those
    already corrected as corrected), normalised at the state so that
    ``options.tol`` is a tolerance on ``H`` (see :func:`~continuation.deflate`).
    A correction is kept only when it does not raise ``||H||`` and lies at
    least ``min_distance`` from every other solution; otherwise the state
    is returned as it was, with ``message`` saying why.

    Parameters
    ----------
    residual
        ``H(theta, eps)``.
    states
        The solutions, distinct.
    eps
        The parameter value.
    corrector, options
        As in :func:`~continuation.trace`.
    iterations
        Corrector budget of each correction (default ``options.final_iterations``).
    outputs, power, shift, distance, min_distance
        The deflation and the test for two distinct solutions, as in :func:`find_solutions`.

    Returns
    -------
    list
        One :class:`~continuation.CorrectorResult` a state, in order;
        ``residual_norm`` and ``converged`` are those of the original
        residual at the returned state.

    Examples
    --------
    ``(theta - 1)(theta - 1.1) = 0`` from ``1`` and ``1.04``: corrected alone
    (Levenberg-Marquardt), ``1.04`` goes to ``1``; with ``1`` deflated it goes to ``1.1``:

    >>> import torch
    >>> H = lambda t, e: (t - 1) * (t - 1.1)
    >>> states = [torch.tensor([1.0], dtype=torch.float64), torch.tensor([1.04], dtype=torch.float64)]
    >>> [round(float(r.theta), 8) for r in polish_solutions(H, states, 0.0, options=Options(tol=1e-12))]
    [1.0, 1.1]
    """
    options, solver, problem, iterations, deflation = _deflated_solves(
        residual, corrector, options, iterations, "final_iterations", min_distance, power, shift, outputs, distance)
    states = [s.detach() for s in _check_states("states", states)]
    results: list[CorrectorResult] = []
    for i, theta in enumerate(states):
        eps_tensor = torch.tensor(float(eps), dtype=theta.dtype, device=theta.device)
        others = [r.theta for r in results] + states[i + 1:]
        report = _deflated_polish(solver, problem, theta, eps_tensor, others, iterations, options.tol, deflation)
        before = float(torch.linalg.vector_norm(problem(theta, eps_tensor)))
        deflated = deflate(problem, others, **deflation)
        u = deflated.outputs(report.theta)
        closest = min((float(deflation["distance"](u, k)) for k in deflated.known_outputs), default=math.inf)
        if not math.isfinite(report.residual_norm) or report.residual_norm > before:
            reason = f"||H|| {report.residual_norm:.3g} not below {before:.3g}"
        elif closest < min_distance:
            reason = f"{closest:.3g} from another solution"
        else:
            results.append(report)
            continue
        results.append(dataclasses.replace(report, theta=theta, residual_norm=before, converged=before <= options.tol,
                                           message=f"correction rejected ({reason}): the state as it was"))
    return results


def deflated_continuation(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    guesses: Sequence[Tensor],
    eps_values: Sequence[float],
    *,
    corrector: Union[str, Corrector] = "lm",
    options: Optional[Options] = None,
    outputs: Optional[Outputs] = None,
    power: float = 2.0,
    shift: float = 1.0,
    distance: Optional[Distance] = None,
    min_distance: float = 1e-3,
    perturbation: Union[float, Callable[[Tensor, torch.Generator], Tensor]] = 0.1,
    perturbations: int = 1,
    kernel_directions: int = 0,
    kernel_step: Union[float, Sequence[float]] = 0.1,
    search_every: int = 1,
    search_iterations: Optional[int] = None,
    polish_iterations: int = 0,
    search_patience: Optional[int] = None,
    symmetries: Sequence[Callable[[Tensor], Tensor]] = (),
    seed: int = 0,
    progress: Optional[Callable[[float, int], None]] = None,
) -> BifurcationDiagram:
    """The bifurcation diagram of ``H(theta, eps) = 0`` over ``eps_values`` by deflated continuation.

    Parameters
    ----------
    residual
        ``H(theta, eps)``.
    guesses
        Initial states for the search at ``eps_values[0]``.
    eps_values
        The parameter values, in order (at least two).
    corrector, options
        As in :func:`~continuation.trace`; the branches are continued by
        ``trace(..., method="natural")`` with them, the jump guard off
        (``delta_max`` = ``NO_JUMP_GUARD``): deflation keeps the
        branches apart, and the guard, which measures the correction
        relative to the size of the function, rejects every step of the
        trivial branch ``u = 0`` (a change of 1e-7 on a function of size
        1e-8 is a relative 10).
    outputs, power, shift, distance, min_distance
        The deflation and the test for a new solution (see :func:`find_solutions`).
    perturbation
        The search at the next values starts from each previous solution
        plus ``perturbation`` times a standard normal vector (seeded by
        ``seed``): a solution that is still a solution would otherwise be a
        deflated root, where the search cannot start. Or a function
        ``perturbation(theta, generator)`` returning the perturbed state
        (smooth perturbations of a grid function, say).
    perturbations
        Perturbed starts per previous solution (may be 0 when ``kernel_directions`` is not).
    kernel_directions
        The search also starts from each solution known at the value (the
        continued branches), stepped both ways along its ``kernel_directions``
        near-kernel directions (:func:`kernel_seeds`): where a pair ``±v``
        bifurcates from a known branch, both halves are reached, which
        random perturbations of the previous solutions miss (deflated solves
        from the start that found ``+v`` rarely reach ``-v``). These starts
        come first. ``0``: none.
    kernel_step
        The size of those steps on the solution, in ``distance``, or several
        sizes, each giving its own starts, in the order given. A pair that
        bifurcates at ``eps_k`` has an amplitude that grows like
        ``sqrt|eps - eps_k|``, and a search does not know how far past
        ``eps_k`` it is: on the Neumann network diagram the k = 3 pair (RMS
        0.27 at ``eps = 0.1``, born at 0.106) was reached from a step of 0.3
        and not from 0.1, which led to a least-squares floor far away.
    search_every
        Search at every ``search_every``-th value only (the searches that
        find nothing are most of the cost).
    search_iterations
        Corrector budget of a search solve (default ``options.initial_iterations``).
    polish_iterations
        Budget of the normalised deflated correction after each search solve (see :func:`find_solutions`);
        ``0``: none.
    search_patience
        A search solve is cut once its residual has not halved over that many
        iterations (``patience`` of :func:`find_solutions`); ``None``: never.
    symmetries
        Maps of the state that send a solution to a solution (the
        equivariances of ``H``: ``theta -> -theta`` when ``H`` is odd, the
        weights of ``-u`` for a network). Each search starts from the images
        of the solutions known at the value first (a branch continued onto
        one half of a pair brings the other), and the images of every
        solution a search finds are tried next; all deflated by the
        solutions known and checked like any other. Empty: none.
    seed
        Seed of the perturbations.
    progress
        ``progress(eps, number of solutions there)`` after each value; ``None``: silent.

    Returns
    -------
    BifurcationDiagram

    Examples
    --------
    ``theta^3 - eps theta = 0``: one root for ``eps < 0``, three above (a pitchfork at 0):

    >>> import torch
    >>> diagram = deflated_continuation(lambda t, e: t**3 - e * t, [torch.tensor([0.5], dtype=torch.float64)],
    ...                                 [-0.5, -0.25, 0.25, 0.5], options=Options(tol=1e-10))
    >>> [len(diagram.solutions_at(e)) for e in diagram.eps_values]
    [1, 1, 3, 3]
    """
    began = time.perf_counter()
    options = options if options is not None else Options()
    if not isinstance(options, Options):
        raise TypeError(f"options must be a continuation.Options or None, got {type(options).__name__}")
    eps_values = check_eps_path(eps_values)
    _check_count("search_every", search_every, 1)
    _check_count("perturbations", perturbations, 0)
    _check_count("kernel_directions", kernel_directions, 0)
    if perturbations == 0 and kernel_directions == 0:
        raise ValueError("perturbations and kernel_directions are both 0: the searches would have no start")
    kernel_steps = _step_sizes("kernel_step", kernel_step)
    if callable(perturbation):
        perturb = perturbation
    elif isinstance(perturbation, bool) or not isinstance(perturbation, (int, float)) or not (
        math.isfinite(perturbation) and perturbation >= 0
    ):
        raise ValueError(f"perturbation must be a finite number >= 0 or a function, got {perturbation!r}")
    else:
        def perturb(theta: Tensor, generator: torch.Generator) -> Tensor:
            noise = torch.randn(theta.shape, generator=generator, dtype=theta.dtype).to(theta.device)
            return theta + perturbation * noise
    if isinstance(symmetries, Tensor) or not isinstance(symmetries, Sequence) or not all(
        callable(symmetry) for symmetry in symmetries
    ):
        raise TypeError(f"symmetries must be a sequence of functions of the state, got {symmetries!r:.80}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None, got {type(progress).__name__}")
    problem = as_residual_map(residual)
    branch_options = options.replace(delta_max=max(options.delta_max, NO_JUMP_GUARD))
    deflation = {"power": power, "shift": shift, "outputs": outputs, "distance": distance}
    search = dict(corrector=corrector, options=options, iterations=search_iterations, min_distance=min_distance,
                  polish_iterations=polish_iterations, patience=search_patience, **deflation)
    generator = torch.Generator().manual_seed(seed)
    diagram = BifurcationDiagram([], eps_values, outputs=deflate(problem, [], **deflation).outputs)
    live: list[dict[str, Any]] = []

    def search_at(eps: float, starts: list[Tensor], known: list[Tensor]) -> None:
        """Deflated solves from ``starts``, then from the images of each new solution; each one starts a branch."""
        known, origin = list(known), "a search start"
        while starts:
            found, failed = find_solutions(problem, starts, eps, known=known, **search)
            diagram.failed_search_iterations += failed
            diagram.searches += len(found) + len(starts)
            for report in found:
                row = StepRecord(0, eps, 0.0, report.iterations, report.residual_norm, True,
                                 f"found by a deflated solve from {origin} ({report.message})", 0.0,
                                 criterion="converged")
                live.append({"eps": [eps], "thetas": [report.theta.detach()], "steps": [row], "jacobians": 0,
                             "wall": 0.0, "status": Status.SUCCESS, "message": ""})
            known += [report.theta.detach() for report in found]
            starts = [symmetry(report.theta.detach()) for report in found for symmetry in symmetries]
            origin = "the image of a new solution under a symmetry"

    search_at(eps_values[0], _check_states("guesses", guesses), [])
    ended: list[dict[str, Any]] = []
    for i, (previous, eps) in enumerate(zip(eps_values, eps_values[1:]), start=1):
        known: list[Tensor] = []
        before = [branch["thetas"][-1] for branch in live]
        for branch in list(live):
            last = branch["thetas"][-1]
            result = trace(deflate(problem, known, normalize=last, **deflation), last, [previous, eps],
                           corrector=corrector, options=branch_options)
            branch["steps"].extend(result.steps)
            branch["jacobians"] += result.jacobian_evaluations
            branch["wall"] += result.wall_time
            if result.success or result.status is Status.ILL_CONDITIONED:  # a branch near a branch point
                branch["eps"].extend(result.eps[1:])
                branch["thetas"].extend(result.thetas[1:])
                known.append(result.theta.detach())
            else:
                branch["status"] = result.status
                branch["message"] = f"ended after eps = {previous:g}: {result.message}"
                live.remove(branch)
                ended.append(branch)
        if i % search_every == 0 or i == len(eps_values) - 1:
            starts = [symmetry(theta) for theta in known for symmetry in symmetries]
            starts += [seed for theta in known for seed in kernel_seeds(
                problem, theta, eps, count=kernel_directions, step=kernel_steps, outputs=outputs, distance=distance)
            ] if kernel_directions else []
            starts += [perturb(theta, generator) for theta in before for _ in range(perturbations)]
            search_at(eps, starts, known)
        if progress is not None:
            progress(eps, len(live))
    for branch in live:
        branch["message"] = f"followed to eps = {eps_values[-1]:g}"
    for branch in ended + live:
        diagram.branches.append(TraceResult(
            branch["eps"], torch.stack(branch["thetas"]), branch["steps"], branch["status"], branch["message"],
            jacobian_evaluations=branch["jacobians"], wall_time=branch["wall"],
        ))
    diagram.branches.sort(key=lambda b: (b.eps[0] != eps_values[0], eps_values.index(b.eps[0])))
    diagram.wall_time = time.perf_counter() - began
    return diagram
