"""The front door: :func:`trace` follows the path of ``H(theta, eps) = 0``."""

from __future__ import annotations

from dataclasses import fields
from difflib import get_close_matches
from inspect import Parameter, signature
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from torch import Tensor

from .arclength import PseudoArclength
from .correctors import Corrector
from .natural import NaturalParameter
from .options import Options
from .predictors import Predictor
from .residual import ResidualMap
from .result import TraceResult
from .setup import METHODS, Callback, Diagnostic, InnerProduct, check_inputs
from .state import TraceState
from .stepping import run

__all__ = ["trace", "METHODS"]


def unknown_keyword(item: tuple[str, Any], options: Optional[Options]) -> str:
    """What :func:`trace` says of a keyword it does not take: the way to pass it if it is an option, else the
    closest names.

    Examples
    --------
    >>> unknown_keyword(("tol", 1e-6), None)
    "trace() got an unexpected keyword argument 'tol': it is an option, pass options=continuation.Options(tol=1e-06)"
    >>> unknown_keyword(("adaptiv", False), None)
    "trace() got an unexpected keyword argument 'adaptiv'; did you mean adaptive?"
    """
    name, value = item
    text = f"trace() got an unexpected keyword argument {name!r}"
    option_names = [f.name for f in fields(Options)]
    if name in option_names:
        where = "options.replace" if options is not None else "options=continuation.Options"
        return f"{text}: it is an option, pass {where}({name}={value!r})"
    arguments = [p.name for p in signature(trace).parameters.values() if p.kind is Parameter.KEYWORD_ONLY]
    close = get_close_matches(name, arguments + option_names, n=3, cutoff=0.6)
    return text + (f"; did you mean {' or '.join(close)}?" if close else "")


def trace(
    residual: Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]],
    theta0: Tensor,
    eps_path: Sequence[float],
    *,
    method: str = "natural",
    predictor: Union[str, Predictor] = "euler",
    corrector: Union[str, Corrector] = "lm",
    adaptive: bool = True,
    options: Optional[Options] = None,
    callback: Optional[Callback] = None,
    progress: bool = False,
    diagnostics: Optional[Mapping[str, Diagnostic]] = None,
    inner_product: Optional[InnerProduct] = None,
    corrector_state: Any = None,
    resume: Optional[TraceState] = None,
    outputs: Optional[Callable[[Tensor], Tensor]] = None,
    event_tests: Optional[Sequence[Any]] = None,
    validation: Optional[Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]]] = None,
    **unknown: Any,
) -> TraceResult:
    """Follow the solution path of ``H(theta, eps) = 0`` along ``eps_path``.

    The trace first corrects ``theta0`` at ``eps_path[0]`` (the easy problem)
    with the corrector and ``options.initial_iterations``; this is the first
    record. It then steps through ``eps_path``: at each step the predictor
    proposes a state at the next ``eps`` and the corrector brings it back to
    ``H = 0`` in the least-squares sense.

    Parameters
    ----------
    residual
        ``residual(theta, eps) -> Tensor[M]``, a :class:`ResidualMap` or any
        callable written with torch operations (its Jacobians then come from
        :mod:`torch.func`).
    theta0
        Initial state, a 1-D floating tensor of length P (float64 advised).
        Every tensor the trace makes follows its dtype and device.
    eps_path
        At least two values of ``eps`` in an ordered sequence (a list, tuple
        or array; not a set), visited in order (it may decrease or
        increase), no two consecutive values equal.
    method
        ``"natural"`` (natural-parameter continuation in ``eps``) or
        ``"arclength"`` (pseudo-arclength, which goes round folds; then
        ``eps_path`` gives the start and the range of ``eps``, see
        :class:`continuation.arclength.PseudoArclength`).
    predictor
        ``"euler"`` (``dtheta/deps = -J^+ dH/deps``, truncated SVD),
        ``"secant"``, ``"none"`` (warm start), or an object with a
        ``velocity`` method (see :mod:`continuation.predictors`).
    corrector
        ``"lm"``, ``"gauss-newton"``, ``"adam"``, ``"lbfgs"``, ``"newton"``,
        ``"none"``, or an object with a ``correct`` method (see
        :mod:`continuation.correctors`).
    adaptive
        With ``True``, intermediate values of ``eps`` are inserted as the
        step control asks (never overshooting a listed value); with
        ``False`` exactly the listed values are visited.
    options
        An :class:`Options`; ``None`` for the defaults.
    callback
        ``callback(record, theta)`` after each accepted point, the first and
        the last included; returning ``True`` stops the trace
        (``Status.STOPPED_BY_CALLBACK``; ``resume=result.state`` goes on).
        An exception in it ends the trace (``Status.CALLBACK_FAILED``) with
        the path kept.
    progress
        Show a progress bar (tqdm) in percent of the path, with ``eps`` and
        ``||H||``.
    diagnostics
        ``{name: fn(problem, theta, eps)}`` evaluated at every accepted
        point, stored in ``result.diagnostics``.
    inner_product
        Arclength only: ``inner_product(theta, a, b)``, the inner product of
        two state directions ``a`` and ``b`` at the state ``theta`` (default
        Euclidean; :func:`continuation.arclength.output_inner_product`
        measures them on a network's outputs). Checked on ``theta0`` before
        any work.
    corrector_state
        The corrector's state to start from (Levenberg-Marquardt's damping,
        AdamW's moments with ``keep_state``); validated before any work.
        ``None``: the corrector's own start.
    resume
        ``result.state`` of an earlier trace with the same ``method`` and
        ``eps_path``, ``theta0`` being its ``result.theta``: the trace goes
        on from there as if it had not stopped (the same path, bit for bit,
        with the same options), and its result holds the whole path.
    outputs
        ``outputs(theta)``: the function a state represents (a network's
        values at its collocation points, say). With
        ``Options(step_control="corrector")`` the step control measures its
        distances on it, since many weight vectors give one function. By
        default the residual map's own ``outputs`` method, if it has one. At
        the end of a trace that meets ``tol``, the solution's conditioning is
        measured on it (``options.conditioning_tol``).
    event_tests
        Arclength only: test functions evaluated at every accepted point
        (:class:`continuation.BranchPointTest`, say); a sign change of one
        between two points is an event of its ``kind`` in
        ``result.events``, located to ``options.fold_tol`` like a fold.
    validation
        The same equations on fresh points that the corrector never sees (a
        residual map or callable like ``residual``, scaled the same way: a
        :class:`PointwiseResidual` is a root-mean-square, comparable across
        point counts). Its norm is recorded at every accepted point
        (``StepRecord.validation_norm``); a trace whose last point meets
        ``tol`` while the validation residual exceeds both ``tol`` and
        ``options.validation_factor`` times ``||H||`` ends ``UNDER_RESOLVED``:
        a small residual at the collocation points does not prove a resolved
        solution. A trace that ends above ``tol`` (``FLOOR``,
        ``NOT_CONVERGED``) says the same in its message.

    Returns
    -------
    TraceResult
        The accepted path, a per-step table, counters, a status and
        ``state``. ``result.success`` promises that the last point solves
        the problem to ``options.tol``; a trace that reached its end
        without it ends with ``Status.FLOOR`` or ``Status.NOT_CONVERGED``.
        A failed or interrupted trace returns the part of the path it had
        accepted.

    Raises
    ------
    TypeError, ValueError
        On bad input, before any work is done; the message names the
        argument. A keyword that is an option (``tol=1e-6``) is refused
        with the way to pass it (``options=Options(tol=1e-06)``).

    Examples
    --------
    >>> import torch, continuation
    >>> H = lambda theta, eps: theta**2 - eps           # theta(eps) = sqrt(eps)
    >>> result = continuation.trace(H, torch.tensor([0.9], dtype=torch.float64), [1.0, 0.25])
    >>> result.status, round(float(result.theta), 8)
    (<Status.SUCCESS: 'success'>, 0.5)

    A trace stopped by its callback, then resumed, gives the uninterrupted path:

    >>> first = continuation.trace(H, torch.tensor([0.9], dtype=torch.float64), [1.0, 0.25],
    ...                            callback=lambda record, theta: record.eps < 0.6)
    >>> first.status.value
    'stopped_by_callback'
    >>> rest = continuation.trace(H, first.theta, [1.0, 0.25], resume=first.state)
    >>> torch.equal(rest.thetas, result.thetas)
    True
    """
    if unknown:
        raise TypeError(unknown_keyword(next(iter(unknown.items())), options))
    setup = check_inputs(
        residual, theta0, eps_path, method, predictor, corrector, adaptive, options, callback,
        diagnostics, inner_product, corrector_state, resume, outputs, event_tests, validation,
    )
    hooks = PseudoArclength() if method == "arclength" else NaturalParameter()
    return run(setup, hooks, progress=progress)
