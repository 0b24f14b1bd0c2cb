"""``python -m benchmarks generalization``: problems the defaults were not tuned on (issue 19, item 5).

Each problem is written as a user of the library would write it: its own
residual of one collocation point (:class:`continuation.PointwiseResidual`,
blocks joined by :class:`continuation.StackedResidual`), its own network (a
:class:`models.MLP`, or a :class:`torch.nn.Module` made a function of a flat
weight vector by :func:`models.from_module`), and an exact,
manufactured or reference solution to score it. Only the last problem,
``ac2d-time``, is the catalogue's (P2's time homotopy).

Every problem is traced from the same initial weights by each method:

``defaults``
    ``continuation.trace(residual, theta0, [start, target])``: the library's
    defaults (Euler predictor, Levenberg-Marquardt, adaptive steps, default
    :class:`continuation.Options`).
``naive``
    A fixed geometric schedule, the parameter multiplied by 0.8 a step from
    the start to the target (divided by 0.8 when it grows: Bratu's ``lam``,
    Troesch's ``mu``; for the time homotopy ``s`` down to 1e-3, then 0), with
    ``predictor="none"``, the same Levenberg-Marquardt corrector and
    ``adaptive=False``; budget :data:`NAIVE_OPTIONS` (200 iterations at the
    start, 20 a step, 200 at the target, as the defaults' start and polish).
``corrector``
    The defaults with the second-generation step control,
    ``Options(step_control="corrector")``, its distances measured on the
    network's values on the test grid (``outputs=``).
``log``
    The defaults with steps in ``log(eps)`` (relative steps,
    ``Options(parametrization="log")``), at most a factor 2 a step
    (:data:`LOG_OPTIONS`): is it the better default for singularly
    perturbed paths (issue 19, item 3)? Not for a path through 0.

Every row scores the final weights on a dense test grid: the relative L2
error against the exact or reference solution, the position error of the
layer or interface where the problem has one, the trace's status and success
flag, steps accepted and rejected, corrector iterations and wall time, and
``wrong_solution``: success reported with an L2RE above
:data:`WRONG_L2RE` (a solution off the exact one that the trace calls
solved). ``along_path`` scores every accepted point of the path the same
way: its L2RE against the exact solution at that parameter (not for
Troesch's solved-for reference nor the time homotopy, whose intermediate
problems have none) and its position error (against the target's layer).

Output (default ``benchmarks/results/generalization/``, ``.../small`` with
``--budget small``): one JSON per (problem, method), written by
:func:`benchmarks.record.cached` and skipped when it exists (``--force``
reruns), then ``README.md`` (the table) and ``l2re.png``.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import grad_and_value, jvp

import continuation
from continuation import Options, PointwiseResidual, ResidualMap, StackedResidual
from models import MLP, from_module
from pde import AllenCahn2D, bratu_exact, farthest_root, relative_l2

from . import harness, record
from .run import schedule

__all__ = [
    "WRONG_L2RE", "wrong_solution", "NAIVE_RATIO", "NAIVE_OPTIONS", "Jet", "jet", "Network", "mlp_network", "module_network",
    "Problem", "Case", "PROBLEMS", "METHODS", "BUDGETS", "Budget", "collocation_case", "make_case",
    "naive_schedule", "trace_method", "troesch_reference", "run_problem", "load_records", "write_table",
    "plot_l2re", "not_applicable", "add_arguments", "main",
]

DTYPE = torch.float64

WRONG_L2RE = 1e-2
"""A trace that reports success with an L2RE above this is flagged ``wrong_solution``."""

LOG_OPTIONS = Options(parametrization="log", ds_max=math.log(2.0))
"""The ``log`` method's options: the defaults with steps in ``log|eps|``, at most a factor 2 a step
(``ds_max`` is in the units of the parametrization; the default 0.1 would allow only 10% a step)."""

NAIVE_RATIO = 0.8
"""The naive schedule multiplies the parameter by this factor a step (divides, when it grows)."""

NAIVE_OPTIONS = Options(corrector_iterations=20)
"""The naive schedule's fixed budget: Levenberg-Marquardt iterations at the start and at the target as the
defaults' (200 and 200; 60 at the target until the default changed), 20 a step."""

METHODS = ("defaults", "naive", "corrector", "log")
"""The two ways every problem is traced, in table order."""


def wrong_solution(success: bool, l2re: float) -> bool:
    """Success reported on a solution off the exact one: ``success`` and not ``l2re <= WRONG_L2RE``.

    An L2RE that is not a number counts as wrong.

    Examples
    --------
    >>> wrong_solution(True, 0.2), wrong_solution(True, 1e-4), wrong_solution(False, 0.2)
    (True, False, False)
    """
    return bool(success) and not l2re <= WRONG_L2RE


# ---- fields and their derivatives -------------------------------------------------------------


class Jet(NamedTuple):
    """A scalar field at one point: its value, gradient (shape ``(d,)``) and Laplacian."""

    u: Tensor
    du: Tensor
    lap: Tensor


def jet(field: Callable[[Tensor], Tensor], x: Tensor) -> Jet:
    """``u``, ``grad u`` and ``Lap u`` of a scalar ``field`` of one point ``x`` (shape ``(d,)``).

    One forward-over-reverse product per axis gives the value, the gradient
    and one column of the Hessian together. The same function serves the
    networks (inside a residual) and the exact solutions (in the tests), so
    the residual that is traced is the one that is checked.

    Examples
    --------
    >>> import torch
    >>> j = jet(lambda x: x[0] ** 3 + x[0] * x[1], torch.tensor([1.0, 2.0], dtype=torch.float64))
    >>> float(j.u), j.du.tolist(), float(j.lap)
    (3.0, [5.0, 1.0], 6.0)
    """
    eye = torch.eye(x.shape[0], dtype=x.dtype)
    laplacian = x.new_zeros(())
    for i in range(x.shape[0]):
        (gradient, value), (hessian_column, _) = jvp(grad_and_value(field), (x,), (eye[i],))
        laplacian = laplacian + hessian_column[i]
    return Jet(value, gradient, laplacian)


# ---- networks, as a user would make them ------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """A network as a pure function of a flat weight vector.

    Attributes
    ----------
    apply
        ``apply(theta, x)`` at one point ``(d,)`` (shape ``(1,)``) or a batch ``(N, d)`` (shape ``(N, 1)``).
    theta0
        The initial weights.
    description
        What the network is, for the records.
    """

    apply: Callable[[Tensor, Tensor], Tensor]
    theta0: Tensor
    description: str


def mlp_network(d: int, widths: Sequence[int], seed: int) -> Network:
    """A tanh :class:`models.MLP` ``d -> widths -> 1`` with Xavier-normal weights.

    Examples
    --------
    >>> mlp_network(1, (30, 30, 30), seed=0).theta0.shape
    torch.Size([1951])
    """
    net = MLP([d, *widths, 1])
    return Network(net.apply, net.init(seed=seed), f"models.MLP {[d, *widths, 1]}, tanh, Xavier normal")


def module_network(d: int, widths: Sequence[int], seed: int) -> Network:
    """A :class:`torch.nn.Sequential` of ``Linear`` and ``Tanh`` layers, flattened by :func:`models.from_module`.

    The weights are torch's default initialisation (uniform in
    ``+-1/sqrt(fan_in)``) drawn under ``torch.manual_seed(seed)``; ``apply``
    puts a flat vector back into the module's parameters with
    :func:`torch.func.functional_call`.

    Examples
    --------
    >>> import torch
    >>> net = module_network(2, (8,), seed=0)
    >>> net.theta0.shape, net.apply(net.theta0, torch.zeros(3, 2, dtype=torch.float64)).shape
    (torch.Size([33]), torch.Size([3, 1]))
    """
    sizes = [d, *widths, 1]
    layers: list[nn.Module] = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out, dtype=DTYPE), nn.Tanh()]
    model = from_module(nn.Sequential(*layers[:-1]))
    return Network(model.apply, model.init(), f"torch.nn.Sequential {sizes}, tanh, torch default init")


NETWORKS = {"mlp": mlp_network, "module": module_network}


# ---- the problems -----------------------------------------------------------------------------


Interior = Callable[[Tensor, Jet, Tensor], Tensor]
"""``interior(x, jet, parameter)``: the residual at one interior point of a field with that jet."""

Exact = Callable[[Tensor, Any], Tensor]
"""``exact(x, parameter)`` at points of shape ``(..., d)``, shape ``(...)`` (torch operations only)."""


@dataclass(frozen=True)
class Problem:
    """One problem of the suite: an equation, its solution, the homotopy and the collocation.

    A problem with ``interior`` is a collocation problem on ``interval``
    (``d = 1``) or on ``interval^2`` (``d = 2``): residual ``interior(x,
    jet(u_theta, x), parameter)`` at ``points`` interior points per axis
    (uniform in 1D; Chebyshev-clustered towards the edges in 2D), and, unless
    ``dirichlet`` is ``None``, ``u_theta - dirichlet(x, parameter)`` at the
    boundary points. A problem with ``build`` makes its own :class:`Case`.

    Attributes
    ----------
    name, title
        Command-line name and a one-line description.
    parameter, start, target
        The homotopy parameter's name and the values it is traced between.
    exact
        The solution to score against at ``target`` (and, for the tests, at any parameter).
    interior, dirichlet
        The residual of one interior point and the Dirichlet data (see above).
    d, interval, points
        Dimension, interval (per axis) and interior collocation points (per axis) of the full budget.
    network
        ``"mlp"`` (:func:`mlp_network`) or ``"module"`` (:func:`module_network`).
    interface
        Exact position of the zero of ``u - level`` for 1D problems with an
        interior layer (``None``: no position error is reported).
    level
        See ``interface``.
    build
        For a problem that is not a collocation problem of this module: ``build(budget, seed) -> Case``.
    exact_along_path
        Whether ``exact`` is cheap at every parameter of the path (the L2RE
        of every accepted point is then recorded); ``False`` for a reference
        that is solved for.
    """

    name: str
    title: str
    parameter: str
    start: float
    target: float
    exact: Optional[Exact] = None
    interior: Optional[Interior] = None
    dirichlet: Optional[Exact] = None
    d: int = 1
    interval: tuple[float, float] = (0.0, 1.0)
    points: int = 400
    network: str = "mlp"
    interface: Optional[float] = None
    level: float = 0.0
    build: Optional[Callable[["Budget", int], "Case"]] = None
    exact_along_path: bool = True


def _t(value: Any, like: Tensor) -> Tensor:
    """``value`` as a tensor of ``like``'s dtype (a traced ``eps`` stays the traced tensor)."""
    return torch.as_tensor(value, dtype=like.dtype)


# 1. boundary layer at one end: -eps u'' + u' = 1 on (0, 1), u(0) = u(1) = 0.
def convection_diffusion_exact(x: Tensor, eps: Any) -> Tensor:
    """``x - (exp((x - 1)/eps) - exp(-1/eps)) / (1 - exp(-1/eps))``: a layer of width ``eps`` at ``x = 1``.

    Examples
    --------
    >>> import torch
    >>> convection_diffusion_exact(torch.tensor([[0.0], [1.0]], dtype=torch.float64), 0.1).abs().max() < 1e-15
    tensor(True)
    """
    eps = _t(eps, x)
    t = x[..., 0]
    tail = torch.exp(-1 / eps)
    return t - (torch.exp((t - 1) / eps) - tail) / (1 - tail)


def convection_diffusion(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``-eps u'' + u' - 1``."""
    return -eps * j.lap + j.du[0] - 1


# 2. boundary layers at both ends: -eps^2 u'' + u = 1 on (0, 1), u(0) = u(1) = 0.
def reaction_diffusion_exact(x: Tensor, eps: Any) -> Tensor:
    """``1 - (exp(-x/eps) + exp((x - 1)/eps)) / (1 + exp(-1/eps))``: layers of width ``eps`` at both ends."""
    eps = _t(eps, x)
    t = x[..., 0]
    return 1 - (torch.exp(-t / eps) + torch.exp((t - 1) / eps)) / (1 + torch.exp(-1 / eps))


def reaction_diffusion(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``-eps^2 u'' + u - 1``."""
    return -(eps**2) * j.lap + j.u - 1


# 3. interior turning-point layer: eps u'' + x u' = 0 on (-1, 1), u(+-1) = +-1.
def turning_point_exact(x: Tensor, eps: Any) -> Tensor:
    """``erf(x / sqrt(2 eps)) / erf(1 / sqrt(2 eps))``: a layer of width ``sqrt(eps)`` at 0."""
    scale = torch.sqrt(2 * _t(eps, x))
    return torch.erf(x[..., 0] / scale) / torch.erf(1 / scale)


def turning_point(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``eps u'' + x u'``."""
    return eps * j.lap + x[0] * j.du[0]


# 4. an interface off the origin: eps^2 u'' + u - u^3 = 0 on (-1, 1).
AC_CENTRE = 0.3


def allen_cahn_exact(x: Tensor, eps: Any) -> Tensor:
    """``tanh((x - 0.3) / (sqrt(2) eps))``."""
    return torch.tanh((x[..., 0] - AC_CENTRE) / (math.sqrt(2.0) * _t(eps, x)))


def allen_cahn(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``eps^2 u'' + u - u^3``."""
    return eps**2 * j.lap + j.u - j.u**3


# 5. a nonlinear layer: steady viscous Burgers eps u'' - u u' = 0 on (-1, 1).
BURGERS_CENTRE = -0.25


def burgers_exact(x: Tensor, eps: Any) -> Tensor:
    """``-tanh((x + 0.25) / (2 eps))``: a stationary shock at ``x = -0.25``."""
    return -torch.tanh((x[..., 0] - BURGERS_CENTRE) / (2 * _t(eps, x)))


def burgers(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``eps u'' - u u'``."""
    return eps * j.lap - j.u * j.du[0]


# 6. Bratu, lower branch: u'' + lam e^u = 0 on (0, 1), u(0) = u(1) = 0 (the fold is at lam_c = 3.5138).
def bratu_lower(x: Tensor, lam: Any) -> Tensor:
    """:func:`pde.bratu_exact` on the lower branch."""
    return bratu_exact(x[..., 0], float(lam), "lower")


def bratu(x: Tensor, j: Jet, lam: Tensor) -> Tensor:
    """``u'' + lam e^u``."""
    return j.lap + lam * torch.exp(j.u)


# 7. Troesch: u'' = mu sinh(mu u) on (0, 1), u(0) = 0, u(1) = 1.
def troesch(x: Tensor, j: Jet, mu: Tensor) -> Tensor:
    """``u'' - mu sinh(mu u)``."""
    return j.lap - mu * torch.sinh(mu * j.u)


@functools.lru_cache(maxsize=8)
def troesch_reference(mu: float, nodes: int = 2001, tol: float = 1e-10):
    """The Troesch solution at ``mu`` by :func:`scipy.integrate.solve_bvp`, continued from ``mu = 1``.

    The system ``(u, u')' = (u', mu sinh(mu u))`` is solved on ``nodes``
    uniform nodes with tolerance ``tol`` at ``mu = 1, 2, ...`` up to ``mu``,
    each from the previous solution. Returns the solution object: ``sol(x)``
    gives ``(u, u')``, ``sol(x, 1)`` their derivatives.

    Examples
    --------
    >>> sol = troesch_reference(2.0)
    >>> [abs(round(float(v), 12)) for v in sol.sol([0.0, 1.0])[0]]
    [0.0, 1.0]
    """
    from scipy.integrate import solve_bvp

    mesh = np.linspace(0.0, 1.0, nodes)
    guess = np.vstack([mesh, np.ones_like(mesh)])
    solution = None
    for m in [*np.arange(1.0, mu, 1.0), mu]:
        solution = solve_bvp(
            lambda x, y, m=m: np.vstack([y[1], m * np.sinh(m * y[0])]),
            lambda a, b: np.array([a[0], b[0] - 1.0]),
            mesh, guess, tol=tol, max_nodes=100_000,
        )
        if not solution.success:
            raise RuntimeError(f"solve_bvp failed for Troesch at mu = {m:g}: {solution.message}")
        mesh, guess = solution.x, solution.y
    return solution


def troesch_exact(x: Tensor, mu: Any) -> Tensor:
    """The reference solution (:func:`troesch_reference`) at points ``(..., 1)``."""
    values = troesch_reference(float(mu)).sol(x[..., 0].detach().numpy())[0]
    return torch.as_tensor(values, dtype=x.dtype)


# 8. 2D reaction-diffusion with boundary layers on the four edges, manufactured.
def _layer_profile(t: Tensor, eps: Tensor) -> Tensor:
    return 1 - (torch.exp(-t / eps) + torch.exp((t - 1) / eps)) / (1 + torch.exp(-1 / eps))


def reaction_diffusion_2d_exact(x: Tensor, eps: Any) -> Tensor:
    """``v(x) v(y)``, ``v`` the 1D two-layer profile of :func:`reaction_diffusion_exact`; zero on the edges."""
    eps = _t(eps, x)
    return _layer_profile(x[..., 0], eps) * _layer_profile(x[..., 1], eps)


def reaction_diffusion_2d(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``-eps^2 Lap u + u - f`` with ``f = v(x) + v(y) - v(x) v(y)`` (since ``-eps^2 v'' + v = 1``)."""
    vx, vy = _layer_profile(x[0], eps), _layer_profile(x[1], eps)
    return -(eps**2) * j.lap + j.u - (vx + vy - vx * vy)


# 9. fitting: a network fitted to tanh((x - 0.37) / eps) on (-1, 1).
FIT_CENTRE = 0.37


def fit_exact(x: Tensor, eps: Any) -> Tensor:
    """``tanh((x - 0.37) / eps)``."""
    return torch.tanh((x[..., 0] - FIT_CENTRE) / _t(eps, x))


def fit(x: Tensor, j: Jet, eps: Tensor) -> Tensor:
    """``u - tanh((x - 0.37) / eps)``."""
    return j.u - fit_exact(x, eps)


def zero(x: Tensor, parameter: Any) -> Tensor:
    """Homogeneous Dirichlet data."""
    return x.new_zeros(x.shape[:-1])


def troesch_boundary(x: Tensor, mu: Any) -> Tensor:
    """``u(0) = 0``, ``u(1) = 1``: the data are ``x`` itself on the boundary."""
    return x[..., 0]


# ---- what a trace needs -----------------------------------------------------------------------


@dataclass
class Case:
    """A problem made concrete: what a trace needs and how its result is scored.

    Attributes
    ----------
    residual
        ``H(theta, parameter)``.
    theta0
        The initial weights (both methods start from them).
    predict
        ``predict(theta)``: the network on ``test_points``, shape ``(N,)``.
    test_points, reference
        The dense test grid and the exact (or reference) solution on it.
    position
        ``position(theta)``: the distance of the network's layer or interface
        from the exact one (``None``: the problem has no interior layer to place).
    exact_at
        ``exact_at(parameter)``: the exact solution on ``test_points`` at any
        parameter of the path (``None``: known at the target only).
    info
        Network, point counts and anything else to record.
    """

    residual: ResidualMap
    theta0: Tensor
    predict: Callable[[Tensor], Tensor]
    test_points: Tensor
    reference: Tensor
    position: Optional[Callable[[Tensor], float]] = None
    exact_at: Optional[Callable[[float], Tensor]] = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """Network, collocation and iteration budget of a run of the suite.

    ``defaults`` is ``None`` for the library's defaults (``options`` not
    passed); ``points`` replaces every problem's point count when set.
    """

    name: str
    widths: tuple[int, ...]
    points: Optional[int]
    test_points: int
    defaults: Optional[Options]
    naive: Options
    ratio: float
    s_floor: float


BUDGETS = {
    "full": Budget("full", (30, 30, 30), None, 10_001, None, NAIVE_OPTIONS, NAIVE_RATIO, 1e-3),
    "small": Budget(
        "small", (8, 8), 12, 201,
        Options(initial_iterations=3, corrector_iterations=2, final_iterations=2, max_steps=6),
        Options(initial_iterations=3, corrector_iterations=2, final_iterations=2), 0.3, 0.1,
    ),
}
"""``full``: the real budget (1-30-30-30-1 networks, library defaults); ``small``: seconds (smoke tests)."""


def _collocation(problem: Problem, n: int) -> tuple[Tensor, Optional[Tensor]]:
    """Interior and boundary points: uniform in 1D; a Chebyshev tensor grid in 2D (clustered at the edges)."""
    a, b = problem.interval
    if problem.d == 1:
        interior = torch.linspace(a, b, n + 2, dtype=DTYPE)[1:-1, None]
        boundary = torch.tensor([[a], [b]], dtype=DTYPE)
    else:
        nodes = a + (b - a) * (1 - torch.cos(torch.linspace(0, math.pi, n + 2, dtype=DTYPE))) / 2
        inner = nodes[1:-1]
        grid = torch.cartesian_prod(inner, inner)
        ends = torch.tensor([a, b], dtype=DTYPE)
        boundary = torch.cat([torch.cartesian_prod(ends, nodes), torch.cartesian_prod(nodes[1:-1], ends)])
        interior = grid
    return interior, (boundary if problem.dirichlet is not None else None)


def _test_grid(problem: Problem, n: int) -> Tensor:
    a, b = problem.interval
    axis = torch.linspace(a, b, n if problem.d == 1 else int(math.isqrt(n)), dtype=DTYPE)
    return axis[:, None] if problem.d == 1 else torch.cartesian_prod(axis, axis)


def collocation_case(problem: Problem, budget: Budget, seed: int = 0) -> Case:
    """The :class:`Case` of a collocation problem (see :class:`Problem`).

    Examples
    --------
    >>> case = collocation_case(PROBLEMS["cd-one"], BUDGETS["small"])
    >>> case.residual(case.theta0, torch.tensor(0.5, dtype=torch.float64)).shape  # 12 interior, 2 boundary
    torch.Size([14])
    """
    network = NETWORKS[problem.network](problem.d, budget.widths, seed)
    n = budget.points if budget.points is not None else problem.points
    if problem.d == 2 and budget.points is not None:
        n = max(2, int(math.isqrt(n)))
    interior_points, boundary_points = _collocation(problem, n)

    def u(theta: Tensor, x: Tensor) -> Tensor:
        return network.apply(theta, x)[0]

    def interior(theta: Tensor, x: Tensor, parameter: Tensor) -> Tensor:
        return problem.interior(x, jet(lambda y: u(theta, y), x), parameter)

    blocks: list[ResidualMap] = [PointwiseResidual(interior, interior_points)]
    if boundary_points is not None:
        blocks.append(PointwiseResidual(
            lambda theta, x, parameter: u(theta, x) - problem.dirichlet(x, parameter), boundary_points
        ))
    test_points = _test_grid(problem, budget.test_points)

    def predict(theta: Tensor) -> Tensor:
        return network.apply(theta, test_points)[:, 0]

    def position(theta: Tensor) -> float:
        root = farthest_root(test_points[:, 0], predict(theta) - problem.level, problem.interface)
        return abs(root - problem.interface)

    return Case(
        StackedResidual(blocks, outputs=lambda theta: network.apply(theta, interior_points)[:, 0]), network.theta0,
        predict, test_points, problem.exact(test_points, problem.target),
        position if problem.interface is not None else None,
        functools.partial(problem.exact, test_points) if problem.exact_along_path else None,
        {"network": network.description, "weights": int(network.theta0.numel()),
         "points": int(interior_points.shape[0]),
         "boundary_points": 0 if boundary_points is None else int(boundary_points.shape[0])},
    )


AC2D_EPS = 0.1
"""The ``eps`` of the catalogue's time homotopy in the suite."""

AC2D_POINTS = (500, 100)
"""Interior and boundary points of ``ac2d-time`` at the full budget (the catalogue's default is 1,000 + 200)."""


def allen_cahn_2d_time_case(budget: Budget, seed: int = 0) -> Case:
    """P2's time homotopy at ``eps = 0.1`` from the catalogue (:class:`pde.AllenCahn2D`, ``homotopy="time"``)."""
    small = budget.points is not None
    problem = AllenCahn2D(
        MLP([2, *budget.widths, 1]), homotopy="time", eps=AC2D_EPS, seed=seed,
        n_points=budget.points * 3 if small else AC2D_POINTS[0], n_boundary=12 if small else AC2D_POINTS[1],
        n_test=int(math.isqrt(budget.test_points)),
    )
    return Case(
        problem.residual_map, problem.model.init(seed=seed), lambda theta: problem.predict(theta, problem.test_points),
        problem.test_points, problem.exact(problem.test_points, AC2D_EPS), problem.interface_error,
        info={"network": f"models.MLP {problem.model.widths}, tanh, Xavier normal", "weights": problem.model.num_weights,
         "points": int(problem.points.shape[0]), "boundary_points": int(problem.boundary_points.shape[0])},
    )


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in [
        Problem("cd-one", "convection-diffusion -eps u'' + u' = 1, layer at x = 1", "eps", 0.5, 0.02,
                convection_diffusion_exact, convection_diffusion, zero, points=500),
        Problem("rd-two", "reaction-diffusion -eps^2 u'' + u = 1, layers at both ends", "eps", 0.5, 0.02,
                reaction_diffusion_exact, reaction_diffusion, zero, points=500),
        Problem("turning-point", "turning point eps u'' + x u' = 0, interior layer at 0", "eps", 0.5, 0.001,
                turning_point_exact, turning_point, turning_point_exact, interval=(-1.0, 1.0), points=500,
                interface=0.0),
        Problem("ac-offcentre", "Allen-Cahn eps^2 u'' + u - u^3 = 0, interface at x = 0.3", "eps", 0.5, 0.02,
                allen_cahn_exact, allen_cahn, allen_cahn_exact, interval=(-1.0, 1.0), points=500,
                interface=AC_CENTRE),
        Problem("burgers", "steady viscous Burgers eps u'' - u u' = 0, shock at x = -0.25", "eps", 0.5, 0.02,
                burgers_exact, burgers, burgers_exact, interval=(-1.0, 1.0), points=500, network="module",
                interface=BURGERS_CENTRE),
        Problem("bratu", "Bratu u'' + lam e^u = 0, lower branch up to near the fold", "lam", 0.5, 3.5,
                bratu_lower, bratu, zero, points=100),
        Problem("troesch", "Troesch u'' = mu sinh(mu u), u(0) = 0, u(1) = 1", "mu", 1.0, 5.0,
                troesch_exact, troesch, troesch_boundary, points=300, exact_along_path=False),
        Problem("rd-2d", "2D reaction-diffusion -eps^2 Lap u + u = f, layers on all edges", "eps", 0.5, 0.05,
                reaction_diffusion_2d_exact, reaction_diffusion_2d, zero, d=2, points=29),
        Problem("fit", "fit of tanh((x - 0.37) / eps)", "eps", 0.5, 0.01, fit_exact, fit, None,
                interval=(-1.0, 1.0), points=1000, network="module", interface=FIT_CENTRE),
        Problem("ac2d-time", f"catalogue P2 time homotopy at eps = {AC2D_EPS:g} (s from 1 to 0)", "s", 1.0, 0.0,
                build=allen_cahn_2d_time_case),
    ]
}
"""The suite, by name, in table order."""


def make_case(problem: Problem, budget: Budget, seed: int = 0) -> Case:
    """The :class:`Case` of ``problem`` at ``budget``."""
    return problem.build(budget, seed) if problem.build is not None else collocation_case(problem, budget, seed)


# ---- the two methods --------------------------------------------------------------------------


def naive_schedule(start: float, target: float, ratio: float, s_floor: float) -> list[float]:
    """The naive geometric schedule from ``start`` to ``target`` (``ratio`` a step, either way).

    Down to a positive target: :func:`benchmarks.run.schedule`; up: the same
    schedule reversed (steps of ``1/ratio``); down to 0: ``ratio`` a step to
    ``s_floor``, then 0.

    Examples
    --------
    >>> [round(v, 3) for v in naive_schedule(1.0, 2.0, 0.8, 1e-3)]
    [1.0, 1.189, 1.414, 1.682, 2.0]
    >>> naive_schedule(1.0, 0.0, 0.5, 0.2)
    [1.0, 0.5, 0.25, 0.0]
    """
    if target > start:
        return schedule(target, start, ratio)[::-1]
    return schedule(start, target, ratio, floor=s_floor)


def trace_method(case: Case, problem: Problem, method: str, budget: Budget,
                 changes: Optional[Mapping[str, Any]] = None) -> tuple[continuation.TraceResult, list[float], Options]:
    """Trace ``case`` by ``method``; returns the result, the parameter path given and the options used.

    ``changes`` replaces fields of the method's options (a variant of the
    method, as in :mod:`benchmarks.ablation`); none: the method as it is.
    """
    changes = dict(changes or {})
    if method == "log":
        path = [problem.start, problem.target]
        options = (budget.defaults or Options()).replace(parametrization="log", ds_max=LOG_OPTIONS.ds_max, **changes)
        return continuation.trace(case.residual, case.theta0, path, options=options), path, options
    if method in ("defaults", "corrector"):
        path = [problem.start, problem.target]
        options = (budget.defaults or Options()).replace(**changes)
        if method == "corrector":  # the second-generation step control, distances on the network's values
            options = options.replace(step_control="corrector")
            return continuation.trace(case.residual, case.theta0, path, options=options, outputs=case.predict), \
                path, options
        result = continuation.trace(case.residual, case.theta0, path, options=options if changes else budget.defaults)
        return result, path, options
    path = naive_schedule(problem.start, problem.target, budget.ratio, budget.s_floor)
    options = budget.naive.replace(**changes)
    result = continuation.trace(
        case.residual, case.theta0, path, predictor="none", corrector="lm", adaptive=False, options=options
    )
    return result, path, options


def run_problem(name: str, method: str, budget: Budget, command: str, seed: int = 0,
                changes: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """Trace problem ``name`` by ``method`` (its options changed by ``changes``, see :func:`trace_method`)
    and score it: the JSON record (without the machine)."""
    problem = PROBLEMS[name]
    case = make_case(problem, budget, seed)
    clock = time.perf_counter()
    result, path, options = trace_method(case, problem, method, budget, changes)
    wall = time.perf_counter() - clock
    theta = result.theta if len(result.thetas) else case.theta0
    with torch.no_grad():
        u = case.predict(theta)
        l2re = relative_l2(u, case.reference)
        position = case.position(theta) if case.position is not None else None
        along = {"parameter": [float(e) for e in result.eps]}
        if case.exact_at is not None:
            along["l2re"] = [relative_l2(case.predict(t), case.exact_at(e)) for e, t in zip(result.eps, result.thetas)]
        if case.position is not None:
            along["position_error"] = [case.position(t) for t in result.thetas]
    residual_norm = float(torch.linalg.vector_norm(case.residual(theta, torch.tensor(problem.target, dtype=DTYPE))))
    what = {
        "problem": name, "title": problem.title, "method": method, "parameter": problem.parameter,
        "start": problem.start, "target": problem.target, **case.info, "test_points": int(case.test_points.shape[0]),
        "seed": seed, "budget": budget.name,
        "method_detail": (
            "continuation.trace(residual, theta0, [start, target])" + ("" if budget.defaults is None else
                                                                       " with the small budget's options")
            if method == "defaults" else
            "continuation.trace(..., options=Options(step_control='corrector'), outputs=u on the test grid)"
            if method == "corrector" else
            "continuation.trace(..., options=Options(parametrization='log', ds_max=log(2)))"
            if method == "log" else
            f"geometric schedule (ratio {budget.ratio:g}), predictor none, lm, adaptive=False"
        ) + (f"; options changed: {_changes_text(changes)}" if changes else ""),
        "command": command,
    }
    metrics = {"l2re": l2re, "position_error": position, "wrong_solution": wrong_solution(result.success, l2re),
               "residual_norm": residual_norm, "wall_s": wall}
    return harness.make_record(what, metrics, result, status=result.status.value, success=result.success,
                               message=result.message, options=asdict(options), schedule=[float(v) for v in path],
                               along_path=along, theta=theta.tolist())


def _changes_text(changes: Mapping[str, Any]) -> str:
    """``changes`` as ``name=value`` (``inf`` spelt out: the record's JSON would write it as null)."""
    return ", ".join(f"{name}={value!r}" for name, value in changes.items()).replace("=inf", "=math.inf")


# ---- report -----------------------------------------------------------------------------------


def load_records(out: Path) -> list[dict[str, Any]]:
    """The records in ``out``, in the suite's order, then in the order of :data:`METHODS`."""
    order = {name: i for i, name in enumerate(PROBLEMS)}
    records = [r for r in harness.load_records(out)
               if r.get("problem") in order and r.get("method") in METHODS]
    return sorted(records, key=lambda r: (order[r["problem"]], METHODS.index(r["method"])))


def _verdict(defaults: dict[str, Any], naive: dict[str, Any]) -> str:
    """Issue 19's target: the defaults' L2RE at most twice the naive one (or both below 1e-4), no wrong success."""
    if defaults["wrong_solution"]:
        return "missed (success on a wrong solution)"
    a, b = defaults["l2re"], naive["l2re"]
    if a <= 2 * b or (a < 1e-4 and b < 1e-4):
        return "met" + (" (both off the exact solution)" if min(a, b) > WRONG_L2RE else "")
    return f"missed ({a / b:.2f}x naive)"


def _columns() -> list[harness.Column]:
    Column = harness.Column
    return [
        Column("problem", lambda r: r["problem"]), Column("method", lambda r: r["method"]),
        Column("parameter", lambda r: f"{r['parameter']} {r['start']:g} -> {r['target']:g}"),
        Column("L2RE", lambda r: r["l2re"]), Column("position error", lambda r: r["position_error"]),
        Column("status", lambda r: r["status"]), Column("success", lambda r: "yes" if r["success"] else "no"),
        Column("wrong solution", lambda r: "**yes**" if r["wrong_solution"] else "no"),
        Column("error bound", lambda r: (r["trace"].get("conditioning") or {}).get("bound")),
        *harness.trace_columns(),
    ]


def write_table(out: Path, records: list[dict[str, Any]]) -> str:
    """``out/README.md``: the rows of ``records`` and a per-problem summary; returns its text."""
    lines = [
        "# Generalization suite: library defaults against a naive geometric schedule",
        "",
        "Command: `python -m benchmarks generalization` (each JSON holds its exact command, budget and options). "
        "Both methods start from the same weights on the same points. L2RE on a dense test grid against the "
        "exact (Troesch: solve_bvp reference) solution; position error: distance of the layer's or interface's "
        "zero from the exact one (2D: largest over the grid's columns); wrong solution: success reported with "
        f"L2RE > {WRONG_L2RE:g}; error bound: the first-order bound on the relative error that the last point's "
        "residual leaves, `kappa_u ||H|| / ||u||` (`continuation.conditioning`; measured when a trace meets tol, "
        "`-` otherwise or in rows made before the check); load: the machine's 1-minute load average when the row "
        "ended (2 cores: above 2, wall times are inflated by other work); commit: the code that made the row (`+`: with uncommitted "
        "changes; `(older engine: FILES)`: the engine has changed since, in those files).",
        "",
        *harness.table(records, _columns()),
    ]
    pairs: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        pairs.setdefault(r["problem"], {})[r["method"]] = r
    lines += [
        "",
        "Issue 19's target per problem: the defaults' L2RE at most twice the naive schedule's (or both below "
        "1e-4), and no success on a wrong solution.",
        "",
        "| problem | L2RE defaults | L2RE naive | target |",
        "|---|---|---|---|",
    ]
    for name, pair in pairs.items():
        if {"defaults", "naive"} <= set(pair):
            lines.append(f"| {name} | {harness.cell(pair['defaults']['l2re'])} | "
                         f"{harness.cell(pair['naive']['l2re'])} | {_verdict(pair['defaults'], pair['naive'])} |")
    lines += ["", "![L2RE per problem](l2re.png)"]
    return harness.write_page(out, lines)


def plot_l2re(out: Path, records: list[dict[str, Any]]) -> Path:
    """``out/l2re.png``: L2RE per problem, the methods side by side (hatched: no success)."""
    names = list(dict.fromkeys(r["problem"] for r in records))
    path = out / "l2re.png"
    with harness.figure(path, size=(max(6.0, 0.9 * len(names) + 2), 4)) as (fig, ((ax,),)):
        width = 0.8 / len(METHODS)
        for k, method in enumerate(METHODS):
            rows = {r["problem"]: r for r in records if r["method"] == method}
            xs = [i + (k - (len(METHODS) - 1) / 2) * width for i, name in enumerate(names) if name in rows]
            values = [rows[name]["l2re"] for name in names if name in rows]
            bars = ax.bar(xs, values, width, label=method, color=f"C{k}")
            for bar, name in zip(bars, [n for n in names if n in rows]):
                if not rows[name]["success"]:
                    bar.set_hatch("//")
                    bar.set_edgecolor("k")
        ax.axhline(WRONG_L2RE, color="k", lw=0.8, ls="--", label=f"L2RE {WRONG_L2RE:g}")
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set(ylabel="L2RE at the target", title="Generalization suite (hatched: no success reported)")
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8)
    return path


# ---- command line -----------------------------------------------------------------------------


def not_applicable(problem: Problem, method: str) -> str:
    """Why ``method`` cannot trace ``problem`` (``""``: it can): steps in log of the parameter need a path that
    keeps one sign and avoids 0, which P2's time homotopy (s from 1 to 0) does not.

    Examples
    --------
    >>> not_applicable(PROBLEMS["ac2d-time"], "log")
    'its path reaches s = 0, where steps in log(s) are not defined'
    >>> not_applicable(PROBLEMS["ac2d-time"], "defaults"), not_applicable(PROBLEMS["cd-one"], "log")
    ('', '')
    """
    if method == "log" and not problem.start * problem.target > 0:
        return f"its path reaches {problem.parameter} = 0, where steps in log({problem.parameter}) are not defined"
    return ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m benchmarks generalization``."""
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=None,
                        help="problems to run (default: all)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="defaults: trace with the library defaults; naive: eps *= 0.8, no predictor, "
                             "LM, adaptive=False, a fixed budget")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="full",
                        help="full: the real budget; small: tiny networks, points and iterations (smoke test)")


def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the configurations of ``args`` one at a time, then write the table and the plot; returns all records."""
    names = list(dict.fromkeys(args.problems or PROBLEMS))
    methods = list(dict.fromkeys(args.methods))
    budget = BUDGETS[args.budget]
    out = harness.out_folder(args, "generalization", "small" if budget.name == "small" else "")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"--out must be a folder, got the file {out}")
    failures = []
    for name in names:
        for method in methods:
            reason = not_applicable(PROBLEMS[name], method)
            if reason:
                print(f"skipped: {name} ({method}): {reason}")
                continue
            command = f"python -m benchmarks generalization --problems {name} --methods {method} --budget {budget.name}"
            try:
                record.cached(out / f"{name}_{method}.json", lambda: run_problem(name, method, budget, command),
                              force=args.force)
            except Exception:  # one failing configuration must not lose the others
                traceback.print_exc()
                failures.append(f"{name} ({method})")
    records = load_records(out) if out.exists() else []
    if records:
        print(write_table(out, records))
        plot_l2re(out, records)
    if failures:
        raise SystemExit(f"failed (no JSON written): {', '.join(failures)}")
    return records
