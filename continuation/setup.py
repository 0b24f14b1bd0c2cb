"""The validated inputs of a trace: every check of :func:`continuation.trace`, done once, before any work."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch import Tensor
from torch.utils.flop_counter import FlopCounterMode

from .correctors import CORRECTORS, Corrector, corrector_from_options
from .options import Options
from .predictors import PREDICTORS, EulerPredictor, NoPredictor, Predictor, SecantPredictor
from .residual import TRANSFORM_HINT, ResidualMap, as_residual_map
from .state import TraceState

__all__ = ["Setup", "CountingResidual", "check_inputs", "METHODS", "Callback", "Diagnostic", "InnerProduct"]

METHODS = ("natural", "arclength")
"""The continuation methods :func:`~continuation.trace` knows."""

Callback = Callable[[Any, Tensor], Optional[bool]]
Diagnostic = Callable[[ResidualMap, Tensor, Tensor], Any]
InnerProduct = Callable[[Tensor, Tensor, Tensor], Tensor]


class CountingResidual(ResidualMap):
    """Wraps a residual map and counts its Jacobian evaluations."""

    def __init__(self, problem: ResidualMap, jacobians: int = 0):
        self.problem = problem
        self.jacobians = jacobians

    def __call__(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem(theta, eps)

    def jacobian(self, theta: Tensor, eps: Tensor) -> Tensor:
        self.jacobians += 1
        return self.problem.jacobian(theta, eps)

    def eps_derivative(self, theta: Tensor, eps: Tensor) -> Tensor:
        return self.problem.eps_derivative(theta, eps)

    def linearize(self, theta: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        self.jacobians += 1
        return self.problem.linearize(theta, eps)

    def products(self, theta: Tensor, eps: Tensor):
        return self.problem.products(theta, eps)


@dataclass
class Setup:
    """The validated inputs of a trace, shared by the methods and the loop."""

    problem: CountingResidual
    theta0: Tensor
    eps_path: list[float]
    method: str
    predictor: Predictor
    corrector: Corrector
    adaptive: bool
    options: Options
    callback: Optional[Callback]
    diagnostics: dict[str, Diagnostic] = field(default_factory=dict)
    inner_product: Optional[InnerProduct] = None
    corrector_state: Any = None
    resume: Optional[TraceState] = None
    outputs: Optional[Callable[[Tensor], Tensor]] = None
    event_tests: tuple = ()
    validation: Optional[ResidualMap] = None

    def eps_tensor(self, value: float) -> Tensor:
        """``value`` as a 0-d tensor of ``theta0``'s dtype and device."""
        return torch.tensor(value, dtype=self.theta0.dtype, device=self.theta0.device)

    def distance(self, a: Tensor, b: Tensor) -> float:
        """The relative distance ``||f(a) - f(b)|| / ||f(b)||`` of two states, ``f`` being the
        ``outputs`` (the function a network represents) when there are any, else the identity."""
        if self.outputs is not None:
            a, b = self.outputs(a), self.outputs(b)
        scale = float(torch.linalg.vector_norm(b))
        return float(torch.linalg.vector_norm(a - b)) / max(scale, torch.finfo(b.dtype).tiny)


def check_inputs(
    residual, theta0, eps_path, method, predictor, corrector, adaptive, options, callback,
    diagnostics, inner_product, corrector_state, resume, outputs=None, event_tests=None, validation=None,
) -> Setup:
    """Every input check of :func:`~continuation.trace`; raises ``TypeError`` / ``ValueError`` naming the argument."""
    if options is None:
        options = Options()
    elif not isinstance(options, Options):
        raise TypeError(f"options must be a continuation.Options or None, got {type(options).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(adaptive, bool):
        raise TypeError(f"adaptive must be True or False, got {adaptive!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if inner_product is not None and not callable(inner_product):
        raise TypeError(f"inner_product must be callable or None, got {type(inner_product).__name__}")
    if diagnostics is not None and not isinstance(diagnostics, Mapping):
        raise TypeError(f"diagnostics must be a mapping {{name: fn}} or None, got {type(diagnostics).__name__}")
    diagnostics = dict(diagnostics or {})
    for name, fn in diagnostics.items():
        if not callable(fn):
            raise TypeError(f"diagnostics[{name!r}] must be callable, got {type(fn).__name__}")
    # the names are checked before any work; they are built below, once the linear solver and outputs are known
    provisional = options.replace(linear_solver="dense") if options.linear_solver == "auto" else options
    _named(predictor, "predictor", PREDICTORS, "velocity", provisional)
    checked_corrector = _named(corrector, "corrector", CORRECTORS, "correct", provisional)

    if not isinstance(theta0, Tensor):
        raise TypeError(f"theta0 must be a torch.Tensor, got {type(theta0).__name__}")
    if theta0.ndim != 1 or theta0.numel() == 0:
        raise ValueError(f"theta0 must be a non-empty 1-D tensor, got shape {tuple(theta0.shape)}")
    if not theta0.dtype.is_floating_point:
        raise TypeError(f"theta0 must have a floating dtype (float64 advised), got {theta0.dtype}")
    if not bool(torch.isfinite(theta0).all()):
        raise ValueError("theta0 must be finite, got NaN or Inf entries")
    theta0 = theta0.detach()
    eps_values = check_eps_path(eps_path)
    _check_resume(resume, theta0, eps_values, method, corrector_state)
    if resume is None and corrector_state is not None:
        _check_corrector_state(checked_corrector, corrector_state)

    problem = as_residual_map(residual)
    eps0 = torch.tensor(eps_values[0], dtype=theta0.dtype, device=theta0.device)
    where = f"residual(theta0, eps_path[0]={eps_values[0]:g})"
    value = _first_value(problem, theta0, eps0, where)
    _check_output(value, where, theta0, length=None)
    rows = value.numel()
    if rows == 1 and theta0.numel() > 10 and bool(value[0] >= 0):  # a network's loss, not a toy equation
        warnings.warn(f"{where} returns one value, {float(value[0]):.3g}, for {theta0.numel()} weights; {LOSS_HINT}",
                      RuntimeWarning, stacklevel=3)
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{where} is not finite (NaN or Inf entries)")
    if options.linear_solver == "auto":
        options = options.replace(linear_solver=resolved_linear_solver(problem, theta0, eps0, rows, options))
    if outputs is None and callable(getattr(problem, "outputs", None)):
        outputs = problem.outputs
    if outputs is not None:
        if not callable(outputs):
            raise TypeError(f"outputs must be callable or None, got {type(outputs).__name__}")
        produced = outputs(theta0)
        if not isinstance(produced, Tensor) or produced.numel() == 0 or produced.dtype != theta0.dtype:
            raise TypeError("outputs(theta0) must return a non-empty tensor of theta0's dtype, got "
                            f"{type(produced).__name__ if not isinstance(produced, Tensor) else produced.dtype}")
    # the named Euler predictor judges its velocity on the function when there are outputs
    predictor = _named(predictor, "predictor", PREDICTORS, "velocity", options, outputs)
    corrector = _named(corrector, "corrector", CORRECTORS, "correct", options)
    if method == "arclength" or not isinstance(predictor, (NoPredictor, SecantPredictor)):
        # the eps-derivative is used by the Euler predictor and the arclength tangent: its dtype must match
        try:
            derivative = problem.eps_derivative(theta0, eps0)
        except RuntimeError as exc:  # the residual evaluated alone above: its transform failed
            raise TypeError(f"residual: {where} evaluates, but its eps-derivative (torch.func.jacfwd) fails: "
                            f"{exc}; {TRANSFORM_HINT}") from exc
        _check_output(derivative, f"the eps-derivative of {where}", theta0, value.numel())
        if resume is None and not bool(derivative.any()):
            _warn_if_eps_is_lost(problem, theta0, eps0, eps_values[1], value, where)
        elif resume is None:
            _warn_if_eps_is_partly_lost(problem, theta0, eps0, derivative, where)
    if inner_product is not None:
        _check_inner_product(inner_product, theta0)
    event_tests = _check_event_tests(event_tests, method, value, theta0)
    if validation is not None:
        if not callable(validation):
            raise TypeError(f"validation must be a residual map, a callable or None, got {type(validation).__name__}")
        validation = as_residual_map(validation)
        where = f"validation(theta0, eps_path[0]={eps_values[0]:g})"
        value = _first_value(validation, theta0, eps0, where)
        _check_output(value, where, theta0, length=None)
    if options.parametrization == "log" and method == "natural" and not (
        all(v > 0 for v in eps_values) or all(v < 0 for v in eps_values)
    ):
        raise ValueError(f"eps_path must keep one sign and avoid 0 with options.parametrization='log', got "
                         f"{eps_values!r}")
    _check_rows_do_not_follow_eps(problem, theta0, eps_values, rows)
    if options.ds_max is None:
        options = options.replace(ds_max=default_ds_max(eps_values, options, method))
    jacobians = resume.jacobian_evaluations if resume is not None else 0
    return Setup(
        CountingResidual(problem, jacobians), theta0, eps_values, method, predictor, corrector, adaptive, options,
        callback, diagnostics, inner_product, corrector_state, None if resume is None else resume.clone(), outputs,
        event_tests, validation,
    )


def default_ds_max(eps_values: list[float], options: Options, method: str) -> float:
    """The bound on ``|deps|`` that ``Options(ds_max=None)`` stands for: 0.1, or a hundredth of the path's extent
    when that exceeds 10, in the units of the parametrization (``log|eps|`` for ``"log"``); never below ``ds_min``.

    The cap alone then never forces more than 100 steps. A tenth of the extent (10 steps) was measured and not
    kept: on the generalization suite's ``troesch`` and ``bratu`` (extents 4 and 3) the longer steps it allows
    left less corrector work on the path and L2RE 3.3 and 1.7 times worse
    (``benchmarks/results/generalization/ds-max-evidence/``).

    Examples
    --------
    >>> default_ds_max([1.0, 0.01], Options(), "natural"), default_ds_max([1.0, 100.0], Options(), "natural")
    (0.1, 0.99)
    >>> round(default_ds_max([1.0, 1e-6], Options(parametrization="log"), "natural"), 4)  # log(1e6) / 100
    0.1382
    """
    log = options.parametrization == "log" and method == "natural"
    coordinates = [math.log(abs(v)) for v in eps_values] if log else eps_values
    return max(0.1, 0.01 * max(coordinates) - 0.01 * min(coordinates), options.ds_min)  # finite for any finite path


def check_eps_path(eps_path) -> list[float]:
    """``eps_path`` as a list of floats: an ordered sequence of at least two finite values, no value twice in a row."""
    if isinstance(eps_path, (str, bytes, Set, Mapping)) or not hasattr(eps_path, "__len__") or not hasattr(
        eps_path, "__getitem__"
    ):
        raise TypeError(f"eps_path must be an ordered sequence of numbers (list, tuple, array), got "
                        f"{type(eps_path).__name__}")
    try:
        values = [float(v) for v in eps_path]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"eps_path must be a sequence of numbers, got {eps_path!r}") from exc
    if len(values) < 2:
        raise ValueError(f"eps_path must hold at least two values, got {values!r}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"eps_path must be finite, got {values!r}")
    for a, b in zip(values, values[1:]):
        if a == b:
            raise ValueError(f"eps_path must not repeat a value in consecutive places, got {a!r} twice")
    return values


_MISMATCHES = ("dtype", "scalar type", "same device", "device type")
"""Fragments of torch's messages for tensors of two dtypes or devices meeting in one operation."""


def _first_value(problem: ResidualMap, theta0: Tensor, eps0: Tensor, where: str) -> Tensor:
    """``problem(theta0, eps0)``; a torch error that reads like a tensor of another dtype or device than
    ``theta0`` (points or constants the residual closes over, a module's buffers) is raised again as a
    ``TypeError`` that says what ``theta0`` is and what to convert. Any other error is the residual's own."""
    try:
        return problem(theta0, eps0)
    except RuntimeError as exc:
        text = str(exc)
        if not any(fragment in text for fragment in _MISMATCHES):
            raise
        raise TypeError(
            f"{where} fails: {text}; theta0 is {theta0.dtype} on {theta0.device}, and eps is passed as a 0-d "
            f"tensor of that dtype and device: every tensor the residual closes over (points, constants, a "
            f"torch.nn module's parameters or buffers) must have them too (convert with .to(theta0), or build "
            f"theta0 in their dtype; float64 is advised)"
        ) from exc


def _check_rows_do_not_follow_eps(problem: ResidualMap, theta0: Tensor, eps_values: list[float], rows: int) -> None:
    """Raise ``ValueError`` if the residual has another number of values at ``eps_path[-1]`` than at
    ``eps_path[0]`` (points placed by a rule in eps inside the residual, say): a step's Jacobians and its
    comparisons of ``||H||`` are over the same rows. A residual that fails there is left to the trace."""
    try:
        value = problem(theta0, torch.tensor(eps_values[-1], dtype=theta0.dtype, device=theta0.device))
    except Exception:  # only decides whether to raise
        return
    if isinstance(value, Tensor) and value.numel() != rows:
        raise ValueError(
            f"residual returns {rows} value{'s' * (rows != 1)} at eps_path[0]={eps_values[0]:g} but "
            f"{value.numel()} at eps_path[-1]={eps_values[-1]:g}: the number of residual values must not depend "
            f"on eps (the engine compares Jacobians and ||H|| over the same rows); to place points again as eps "
            f"shrinks, give the residual map a resample(theta, eps) -> bool method that moves them at accepted "
            f"points (pde.MovingPoints does this for the problems of pde)"
        )


LOSS_HINT = ("if it is a loss (a mean of squares), return the residuals whose squares it sums: the correctors "
             "are least-squares methods and need each of them")


def _check_output(value, where: str, theta0: Tensor, length: Optional[int]) -> None:
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, Tensor) for v in value):
        raise TypeError(f"{where} must return a torch.Tensor, got a {type(value).__name__} of {len(value)} tensors; "
                        f"join them with torch.cat, or pass the blocks as continuation.StackedResidual([...])")
    if not isinstance(value, Tensor):
        raise TypeError(f"{where} must return a torch.Tensor, got {type(value).__name__}")
    if value.ndim != 1 or value.numel() == 0 or (length is not None and value.numel() != length):
        expected = "a non-empty 1-D tensor" if length is None else f"a 1-D tensor of length {length}"
        advice = ""
        if value.ndim > 1 and length is None and value.numel():
            advice = "; flatten it with .reshape(-1)"
        elif value.ndim == 0 and length is None:
            advice = f": a single number; {LOSS_HINT}"
        raise ValueError(f"{where} must return {expected}, got shape {tuple(value.shape)}{advice}")
    if value.dtype != theta0.dtype:
        raise TypeError(f"{where} returned dtype {value.dtype}, but theta0 has dtype {theta0.dtype}")
    if value.device != theta0.device:
        raise TypeError(f"{where} returned a tensor on {value.device}, but theta0 is on {theta0.device}")


def _warn_if_eps_is_lost(problem: ResidualMap, theta0: Tensor, eps0: Tensor, next_eps: float, value: Tensor,
                         where: str) -> None:
    """Warn when ``dH/deps``, zero at ``(theta0, eps_path[0])``, is zero near that point too.

    A trivial branch (``u = 0`` of a bifurcation problem) or a stationary point in eps (``eps^2`` at 0) has a
    zero derivative at its own point only, so the derivative is taken again at a nudge of both (relative
    1e-3, towards ``eps_path[1]``). Zero there too: if ``H(theta0, eps_path[1])`` differs from
    ``H(theta0, eps_path[0])``, eps is cut from the autograd graph; if not, ``H`` does not depend on eps (the
    second derivative of a piecewise-linear network is zero). A residual that fails or is not finite at those
    points gets no warning: the trace reports its own failures.
    """
    eps1 = torch.as_tensor(next_eps, dtype=theta0.dtype, device=theta0.device)
    generator = torch.Generator(device=theta0.device).manual_seed(0)
    nudge = torch.randn(theta0.shape, generator=generator, dtype=theta0.dtype, device=theta0.device)
    try:
        nearby = problem.eps_derivative(theta0 + 1e-3 * max(float(theta0.abs().max()), 1.0) * nudge,
                                        eps0 + 1e-3 * (eps1 - eps0))
        later = problem(theta0, eps1)
    except Exception:  # only decides whether to warn
        return
    if bool(nearby.any()) or not bool(torch.isfinite(later).all()):
        return
    if torch.equal(later, value):
        cause = ("does not depend on eps, so the trace solves one fixed problem (does eps multiply a term that "
                 "vanishes, such as the second derivative of a piecewise-linear (ReLU) network?)")
    else:
        cause = ("changes with eps but its eps-derivative does not: eps is cut from the autograd graph (by .item(), "
                 "float() or numpy), which leaves the Euler predictor and the arclength tangent blind")
    warnings.warn(f"the eps-derivative of {where} is zero at all {value.numel()} of its values, here and nearby: "
                  f"the residual {cause}", RuntimeWarning, stacklevel=4)


def _warn_if_eps_is_partly_lost(problem: ResidualMap, theta0: Tensor, eps0: Tensor, derivative: Tensor,
                                where: str) -> None:
    """Warn when ``dH/deps`` at ``(theta0, eps_path[0])`` differs from a central difference by more than 1 %
    of its norm, beyond the difference's rounding.

    A term of the residual computed from eps by ``math``, ``float()``, ``.item()`` or numpy is a constant to
    ``torch.func``: the derivative is not zero, only wrong, and nothing else would say so. The difference
    takes two evaluations, at ``eps0 (1 +- h)`` with ``h`` the cube root of the dtype's machine epsilon (the
    step that balances truncation and rounding; ``eps0 +- h`` at ``eps0 = 0``). A residual that fails or is
    not finite there gets no warning.
    """
    machine = torch.finfo(theta0.dtype).eps
    step = machine ** (1 / 3) * (abs(float(eps0)) or 1.0)
    try:
        above, below = problem(theta0, eps0 + step), problem(theta0, eps0 - step)
    except Exception:  # only decides whether to warn
        return
    if above.shape != derivative.shape or below.shape != derivative.shape:
        return  # its rows follow eps: check_inputs says so
    if not (bool(torch.isfinite(above).all()) and bool(torch.isfinite(below).all())):
        return
    difference = (above - below) / (2 * step)
    rounding = 8 * machine * float(torch.linalg.vector_norm(above) + torch.linalg.vector_norm(below)) / (2 * step)
    gap = float(torch.linalg.vector_norm(derivative - difference))
    scale = max(float(torch.linalg.vector_norm(derivative)), float(torch.linalg.vector_norm(difference)))
    if gap > 1e-2 * scale + rounding:
        warnings.warn(f"the eps-derivative of {where} differs from a finite difference by {gap / scale:.2g} of its "
                      "norm: part of the residual's dependence on eps is cut from the autograd graph (math.* on "
                      "eps, float(), .item() or numpy), which misleads the Euler predictor and the arclength "
                      "tangent; write it with torch operations", RuntimeWarning, stacklevel=4)


def _check_inner_product(inner_product: InnerProduct, theta0: Tensor) -> None:
    direction = torch.ones_like(theta0) / math.sqrt(theta0.numel())
    try:
        value = inner_product(theta0, direction, direction)
    except TypeError as exc:
        raise TypeError(
            f"inner_product must be a function inner_product(theta, a, b) of the state and two directions: {exc}"
        ) from exc
    if not isinstance(value, Tensor) or value.numel() != 1:
        raise TypeError(f"inner_product(theta, a, b) must return a scalar tensor, got {type(value).__name__}")
    if not (math.isfinite(float(value)) and float(value) >= 0):
        raise ValueError(f"inner_product(theta, a, a) must be finite and >= 0, got {float(value)!r}")


def _check_event_tests(event_tests, method: str, value: Tensor, theta0: Tensor) -> tuple:
    """The event tests as a tuple, each with a ``kind`` and a ``check`` it passed on ``theta0``."""
    if event_tests is None:
        return ()
    if isinstance(event_tests, (str, bytes, Mapping)) or not isinstance(event_tests, (list, tuple)):
        raise TypeError(f"event_tests must be a list or tuple of event tests, got {type(event_tests).__name__}")
    if event_tests and method != "arclength":
        raise ValueError(f"event_tests are evaluated along arclength traces only, got method={method!r}")
    for i, test in enumerate(event_tests):
        if not (isinstance(getattr(test, "kind", None), str) and callable(test) and callable(getattr(test, "check", None))):
            raise TypeError(f"event_tests[{i}] must be an event test (a callable with a kind and a check method, "
                            f"such as continuation.BranchPointTest()), got {test!r}")
        test.check(value, theta0)
    return tuple(event_tests)


def _check_corrector_state(corrector: Corrector, state: Any) -> None:
    check = getattr(corrector, "check_state", None)
    if check is not None:
        check(state)


def _check_resume(resume, theta0: Tensor, eps_path: list[float], method: str, corrector_state) -> None:
    if resume is None:
        return
    if not isinstance(resume, TraceState):
        raise TypeError(f"resume must be a TraceState (result.state) or None, got {type(resume).__name__}")
    if resume.method != method:
        raise ValueError(f"resume holds a {resume.method!r} trace, but method={method!r}")
    if resume.eps_path != eps_path:
        raise ValueError(f"eps_path must be that of the resumed trace, {resume.eps_path!r}, got {eps_path!r}")
    if not resume.thetas:
        raise ValueError("resume holds no accepted point: start a new trace instead")
    last = resume.thetas[-1]
    if last.shape != theta0.shape or last.dtype != theta0.dtype or not torch.equal(last.to(theta0.device), theta0):
        raise ValueError("theta0 must be the last accepted point of the resumed trace (result.theta)")
    if corrector_state is not None:
        raise ValueError("corrector_state must be None with resume: the resumed state carries the corrector's")


AUTO_DENSE_BYTES = 2 * 1024**3
"""``linear_solver="auto"`` forms the Jacobian while it takes at most this many bytes (2 GiB)."""

AUTO_CG_RATIO = 3.0
"""``linear_solver="auto"`` goes matrix-free where a dense Levenberg-Marquardt iteration is estimated at more
than this many times the operations of a matrix-free one (:func:`auto_linear_solver`): dense matrix products
run several times faster per operation than the small batched products of ``jvp`` and ``vjp`` on this CPU.
Measured (``benchmarks/results/step-cost/solver-evidence/``): where the estimate was 2.4 or less the dense
iteration was the faster (by up to 3 times), where it was 4.9 or more the matrix-free one (by 1.2 to 16 times);
one row of 1.1 was faster matrix-free (1.4 times: a PINN with 20,501 weights and 1,002 rows)."""

AUTO_CG_ITERATIONS = 3
"""Conjugate-gradient iterations a matrix-free Levenberg-Marquardt iteration is assumed to take in that
estimate (with the Nystrom preconditioner, 10 to 17 over four iterations on P4 and P1:
``benchmarks/results/step-cost/solver-evidence/``)."""


def auto_linear_solver(rows: int, weights: int, dtype: torch.dtype, product_flops: Optional[int] = None,
                       sketch_rank: int = 50) -> str:
    """What ``Options(linear_solver="auto")`` picks for an ``rows x weights`` Jacobian of ``dtype``.

    ``"cg"`` when the Jacobian would take more than :data:`AUTO_DENSE_BYTES`.
    Below that, by cost, when ``product_flops`` (the operations of one
    product by ``J``, one by ``J^T`` and one evaluation, :func:`product_flops`)
    is known: a dense iteration forms ``J`` (about ``product_flops``) and
    factors the smaller Gram matrix (``2 M P m + m^3 / 3``, ``m = min(M, P)``);
    a matrix-free one makes ``sketch_rank`` products for its Nystrom
    preconditioner and :data:`AUTO_CG_ITERATIONS` in conjugate gradients, each
    about ``product_flops`` (:func:`operation_ratio`). ``"cg"`` when the
    dense estimate exceeds :data:`AUTO_CG_RATIO` times the matrix-free one,
    else ``"dense"``. For a network a product costs about ``c M P`` operations
    (``c`` about 11 for a residual of the network's values, a fit; 34 for P1's,
    with second derivatives), so the rule goes matrix-free from ``m`` of about
    ``80 c``: 900 for a fit, 2,700 for such a PINN. Measured, one thread
    (``benchmarks/results/step-cost/solver-evidence/``): on P4 with 1,951 to
    20,501 weights and 2,000 to 8,000 points a matrix-free iteration took 1.2
    to 16 times less time than a dense one; on P1 with 1,951 weights and 1,000
    points three times more. Without ``product_flops`` (or with a count of 0:
    no matrix products to count), ``"dense"`` below the memory bound.

    Examples
    --------
    >>> import torch
    >>> auto_linear_solver(1_000, 2_000, torch.float64), auto_linear_solver(100_000, 1_000_000, torch.float64)
    ('dense', 'cg')
    >>> fit = 11 * 8_000 * 5_251  # a product for a network's values: about 11 M P operations
    >>> pinn = 34 * 1_000 * 1_951  # with second derivatives: about 34 M P
    >>> auto_linear_solver(8_000, 5_251, torch.float64, fit), auto_linear_solver(1_000, 1_951, torch.float64, pinn)
    ('cg', 'dense')
    """
    if jacobian_bytes(rows, weights, dtype) > AUTO_DENSE_BYTES:
        return "cg"
    if not product_flops:
        return "dense"
    return "cg" if operation_ratio(rows, weights, product_flops, sketch_rank) > AUTO_CG_RATIO else "dense"


def resolved_linear_solver(problem: ResidualMap, theta: Tensor, eps: Tensor, rows: int, options: Options) -> str:
    """``options.linear_solver``, with ``"auto"`` decided for ``problem`` at ``(theta, eps)`` (``rows`` values)
    as a trace decides it when it starts: by :func:`auto_linear_solver`, counting one product only while the
    Jacobian would fit in memory."""
    if options.linear_solver != "auto":
        return options.linear_solver
    fits = jacobian_bytes(rows, theta.numel(), theta.dtype) <= AUTO_DENSE_BYTES
    flops = product_flops(problem, theta, eps) if fits else None
    return auto_linear_solver(rows, theta.numel(), theta.dtype, flops, options.sketch_rank)


def operation_ratio(rows: int, weights: int, product_flops: int, sketch_rank: int = 50) -> float:
    """The estimated operations of a dense Levenberg-Marquardt iteration over those of a matrix-free one
    (:func:`auto_linear_solver`).

    Examples
    --------
    >>> round(operation_ratio(8_000, 5_251, 11 * 8_000 * 5_251), 1)
    20.0
    """
    smaller = min(rows, weights)
    dense = product_flops + 2 * rows * weights * smaller + smaller**3 / 3
    return dense / ((sketch_rank + AUTO_CG_ITERATIONS) * product_flops)


def product_flops(problem: ResidualMap, theta: Tensor, eps: Tensor) -> Optional[int]:
    """The floating-point operations of one evaluation, one product by ``J`` and one by ``J^T`` of
    ``problem`` at ``(theta, eps)``, counted (matrix products only) by
    :class:`torch.utils.flop_counter.FlopCounterMode`; ``None`` when they cannot be counted. The counter
    knows matrix-matrix products (``mm``, ``bmm``, ``addmm``, convolutions: a network on a batch of points,
    or vmapped over them), not matrix-vector ones: a residual made of those counts 0.

    Examples
    --------
    >>> import torch
    >>> from continuation import FunctionResidual
    >>> A = torch.ones(3, 2, dtype=torch.float64)
    >>> product_flops(FunctionResidual(lambda t, e: (A @ t.reshape(2, 1)).flatten() - e),
    ...               torch.zeros(2, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)) > 0
    True
    """
    try:
        with FlopCounterMode(display=False) as counter:
            value, forward, backward = problem.products(theta, eps)
            forward(torch.ones_like(theta))
            backward(torch.ones_like(value))
        return int(counter.get_total_flops())
    except Exception:  # noqa: BLE001 - an op the counter does not know: fall back on the memory rule
        return None


def jacobian_bytes(rows: int, weights: int, dtype: torch.dtype) -> int:
    """The memory of a formed ``rows x weights`` Jacobian of ``dtype``: what a matrix-free trace never
    forms, and what a dense conditioning check would."""
    return rows * weights * torch.finfo(dtype).bits // 8


def _named(choice, argument: str, registry: dict, method_name: str, options: Options, outputs=None):
    if isinstance(choice, str):
        if choice not in registry:
            raise ValueError(f"{argument} must be one of {sorted(registry)} or an object, got {choice!r}")
        if argument == "predictor":
            return EulerPredictor.from_options(options, outputs) if choice == "euler" else registry[choice]()
        return corrector_from_options(choice, options)
    if not callable(getattr(choice, method_name, None)):
        raise TypeError(
            f"{argument} must be a name or an object with a {method_name}() method, "
            f"got {type(choice).__name__}"
        )
    return choice
