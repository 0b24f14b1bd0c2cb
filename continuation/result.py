"""What a trace returns: a status, the accepted path and a per-step table."""

from __future__ import annotations

import enum
import math
import os
import numbers
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Optional, Union

import torch
from torch import Tensor

__all__ = ["Status", "SUCCESSES", "StepRecord", "Event", "TraceResult", "strict_json"]


class Status(enum.Enum):
    """How a trace ended.

    Only :attr:`SUCCESS`, :attr:`LEFT_RANGE` and :attr:`MAX_ARCLENGTH` are
    successes, and a trace ends with one of them only if its last point
    solves the problem to ``options.tol`` (``||H|| <= tol``).
    """

    SUCCESS = "success"
    """Every listed value of ``eps_path`` was reached, and the last point has ``||H|| <= tol``."""
    LEFT_RANGE = "left_range"
    """An arclength trace left the range of ``eps`` and landed on its boundary with ``||H|| <= tol``."""
    MAX_ARCLENGTH = "max_arclength"
    """An arclength trace reached ``options.max_arclength``, its last point with ``||H|| <= tol``."""
    FLOOR = "floor"
    """The trace reached its end, but its last point is stationary at a least-squares floor above ``tol``:
    the model cannot make the residual smaller there."""
    NOT_CONVERGED = "not_converged"
    """The trace reached its end, but its last point was not corrected to ``tol`` (nor shown to be at a floor)."""
    STEP_TOO_SMALL = "step_too_small"
    """The step fell below ``options.ds_min`` after rejections."""
    MAX_STEPS = "max_steps"
    """``options.max_steps`` steps were attempted."""
    INITIAL_CORRECTION_FAILED = "initial_correction_failed"
    """The first point could not be corrected to a finite residual."""
    CORRECTOR_FAILED = "corrector_failed"
    """A step failed with ``adaptive=False``, where it cannot be halved."""
    LANDING_FAILED = "landing_failed"
    """An arclength trace left the range of ``eps`` but could not be corrected on its boundary."""
    INVALID_STATE = "invalid_state"
    """The predictor, the corrector or the residual returned a state of the wrong shape, dtype or
    device: a smaller step cannot mend that."""
    STOPPED_BY_CALLBACK = "stopped_by_callback"
    """The callback returned ``True``."""
    CALLBACK_FAILED = "callback_failed"
    """The callback raised an exception."""
    DIAGNOSTIC_FAILED = "diagnostic_failed"
    """A function of the ``diagnostics`` argument raised an exception."""
    ILL_CONDITIONED = "ill_conditioned"
    """The trace reached its end with ``||H|| <= tol``, but the equations pin the solution there only
    weakly: the first-order bound on its relative error exceeds ``options.conditioning_tol``, so the
    solution it ended on was chosen by the path, not by the equations (see
    :mod:`continuation.conditioning`)."""
    RESAMPLING_FAILED = "resampling_failed"
    """The residual map's ``resample`` raised, or the correction on its new points failed."""
    UNDER_RESOLVED = "under_resolved"
    """The trace reached its end with ``||H|| <= tol`` at the collocation points, but the residual on the
    fresh points of ``validation`` exceeds ``tol`` and ``options.validation_factor`` times ``||H||``: the
    points do not resolve the solution."""
    INTERRUPTED = "interrupted"
    """A :class:`KeyboardInterrupt` stopped the trace; ``result.state`` resumes it."""


SUCCESSES = (Status.SUCCESS, Status.LEFT_RANGE, Status.MAX_ARCLENGTH)
"""The statuses that are successes (see :class:`Status`)."""


@dataclass(frozen=True)
class StepRecord:
    """One row of the per-step table.

    Attributes
    ----------
    step
        Index of the attempt (0 is the initial correction).
    eps
        The value of ``eps`` tried.
    deps
        The signed step in ``eps`` (0 for the initial correction).
    iterations
        Corrector iterations.
    residual_norm
        ``||H||`` after the corrector.
    accepted
        Whether the point joined the path.
    reason
        Why it was accepted or rejected (the corrector's message).
    wall_time
        Seconds spent on this attempt.
    ds
        Arclength step (arclength method only).
    tangent_eps
        The ``eps`` component of the unit tangent (arclength method only).
    arclength
        Arclength accumulated at this point (arclength method only).
    criterion
        How an accepted point was judged: ``"converged"`` (``||H|| <= tol``),
        ``"floor"`` (stationary at a least-squares floor, see
        :class:`~continuation.Options` ``gtol``, ``ftol``), ``"unconverged"``
        (accepted without either: within ``residual_growth`` of the previous
        point, on a fixed schedule, or with no corrector iterations); ``""``
        for a rejected attempt.
    delta, kappa, alpha
        The ``"corrector"`` step control's measures of the step: relative
        correction, contraction of the corrector, angle between tangents
        (``None`` when not measured).
    linear_iterations, linear_residual
        Conjugate-gradient iterations of a matrix-free corrector on this
        attempt, and the largest relative residual at which one of its solves
        ended (``None``: dense solves; above ``cg_tol``: a solve ran out of
        ``cg_maxiter``).
    predictor_linear_iterations, predictor_linear_residual
        The same for the matrix-free solve of the Euler predictor's velocity,
        on the attempt that computed it (the first from each accepted point;
        the retries from that point reuse it and show 0 and ``None``).
    validation_norm
        The norm of the ``validation`` residual (fresh points) at an accepted
        point (``None``: no validation residual, or a rejected attempt).
    damping
        The corrector's state after this attempt when it is a number
        (Levenberg-Marquardt's relative damping, which an accepted point
        hands on to the next step), else ``None``.
    """

    step: int
    eps: float
    deps: float
    iterations: int
    residual_norm: float
    accepted: bool
    reason: str
    wall_time: float
    ds: Optional[float] = None
    tangent_eps: Optional[float] = None
    arclength: Optional[float] = None
    criterion: str = ""
    delta: Optional[float] = None
    kappa: Optional[float] = None
    alpha: Optional[float] = None
    linear_iterations: int = 0
    validation_norm: Optional[float] = None
    damping: Optional[float] = None
    linear_residual: Optional[float] = None
    predictor_linear_iterations: int = 0
    predictor_linear_residual: Optional[float] = None

    def to_dict(self) -> dict[str, Any]:
        """The row as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Event:
    """A special point found on the path.

    Attributes
    ----------
    kind
        ``"fold"``, or the ``kind`` of an event test (``"branch_point"``:
        :class:`~continuation.BranchPointTest`).
    eps
        The refined location.
    index
        The index, in ``result.eps``, of the accepted point after which the
        event was detected.
    theta
        The state at the refined location.
    refined
        ``False`` when the refinement failed: ``eps`` and ``theta`` are then
        those of the accepted point where the event was detected.
    note
        Why the refinement failed (``""`` otherwise).
    """

    kind: str
    eps: float
    index: int
    theta: Optional[Tensor] = None
    refined: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The event as a plain dict (``theta`` kept as a tensor)."""
        return {"kind": self.kind, "eps": self.eps, "index": self.index, "theta": self.theta,
                "refined": self.refined, "note": self.note}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Event":
        """The event written by :meth:`to_dict`."""
        return cls(**data)


@dataclass
class TraceResult:
    """The outcome of :func:`continuation.trace`.

    Attributes
    ----------
    eps
        Accepted values of ``eps``, in the order visited.
    thetas
        Accepted states stacked, shape ``(len(eps), P)``.
    steps
        Every attempt, accepted or rejected, as :class:`StepRecord` rows.
    status
        A :class:`Status`.
    message
        A sentence on how the trace ended.
    events
        Folds and other special points (arclength method).
    jacobian_evaluations
        Number of Jacobians (``dH/dtheta``) computed.
    wall_time
        Seconds for the whole trace (over every piece of a resumed trace).
    diagnostics
        Per accepted point, the values of the functions in the
        ``diagnostics`` argument of :func:`~continuation.trace`.
    corrector_state
        The corrector's state at the last accepted point (``None`` when no
        point was accepted or the corrector keeps none).
    state
        The :class:`~continuation.state.TraceState` after the last attempt:
        ``trace(residual, result.theta, eps_path, resume=result.state)``
        continues from it, as if the trace had not stopped.
    """

    eps: list[float]
    thetas: Tensor
    steps: list[StepRecord]
    status: Status
    message: str
    events: list[Event] = field(default_factory=list)
    jacobian_evaluations: int = 0
    wall_time: float = 0.0
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    corrector_state: Any = None
    state: Any = None

    @property
    def success(self) -> bool:
        """``True`` when the trace reached its end (the whole of ``eps_path``,
        or the range or ``max_arclength`` for arclength) and its last point
        solves the problem to ``options.tol``. See :class:`Status`."""
        return self.status in SUCCESSES

    @property
    def theta(self) -> Tensor:
        """The last accepted state (an error if no point was accepted)."""
        if len(self.thetas) == 0:
            raise ValueError(f"the trace accepted no point ({self.status.value}: {self.message})")
        return self.thetas[-1]

    @property
    def conditioning(self) -> Optional[dict[str, float]]:
        """The function-space conditioning of the last point, measured when the trace ended with
        ``||H|| <= tol`` and known ``outputs`` (:class:`~continuation.conditioning.Conditioning` as a
        dict), else ``None``."""
        return None if self.state is None else self.state.conditioning

    @property
    def residual_norms(self) -> list[float]:
        """``||H||`` at each accepted point, aligned with :attr:`eps`."""
        return [s.residual_norm for s in self.steps if s.accepted]

    @property
    def accepted(self) -> int:
        """Number of accepted points, the initial one included."""
        return sum(1 for s in self.steps if s.accepted)

    @property
    def rejected(self) -> int:
        """Number of rejected attempts."""
        return sum(1 for s in self.steps if not s.accepted)

    @property
    def corrector_iterations(self) -> int:
        """Corrector iterations over all attempts."""
        return sum(s.iterations for s in self.steps)

    def table(self) -> str:
        """The per-step table as fixed-width text."""
        arc = any(s.arclength is not None for s in self.steps)
        header = f"{'step':>4} {'eps':>12} {'deps':>11} {'iters':>5} {'||H||':>10} {'ok':>3} {'wall s':>7}"
        header += f" {'ds':>9} {'t_eps':>9} {'arclength':>10}" if arc else ""
        rows = [header + "  judged / reason"]
        for s in self.steps:
            row = (
                f"{s.step:>4} {s.eps:>12.6g} {s.deps:>11.3e} {s.iterations:>5} "
                f"{s.residual_norm:>10.3e} {'yes' if s.accepted else 'no':>3} {s.wall_time:>7.2f}"
            )
            if arc:
                row += "".join(f" {_optional(v, w)}" for v, w in ((s.ds, 9), (s.tangent_eps, 9), (s.arclength, 10)))
            judged = f"{s.criterion}: " if s.criterion and s.criterion != s.reason else ""
            rows.append(f"{row}  {judged}{s.reason}")
        return "\n".join(rows)

    def summary(self) -> dict[str, Any]:
        """Counters and status as plain Python values: strict JSON (NaN and Inf become ``None``)."""
        return strict_json({
            "status": self.status.value,
            "message": self.message,
            "success": self.success,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "corrector_iterations": self.corrector_iterations,
            "jacobian_evaluations": self.jacobian_evaluations,
            "wall_time": self.wall_time,
            "conditioning": self.conditioning,
            "eps": list(self.eps),
            "steps": [s.to_dict() for s in self.steps],
            "events": [{"kind": e.kind, "eps": e.eps, "index": e.index, "refined": e.refined} for e in self.events],
        })

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the result, its resume state included, to ``path`` (atomically, with :func:`torch.save`;
        missing parent folders are made).

        Diagnostics are kept as numbers, strings, tensors, lists and dicts
        (a dataclass becomes a dict; anything else its ``repr``), so that
        :meth:`load` can read the file with ``weights_only=True``.

        Examples
        --------
        >>> import tempfile, pathlib, torch, continuation
        >>> result = continuation.trace(lambda t, e: t**2 - e, torch.tensor([0.9], dtype=torch.float64), [1.0, 0.25])
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "trace.pt"
        >>> result.save(path)
        >>> loaded = continuation.TraceResult.load(path)
        >>> loaded.status, torch.equal(loaded.thetas, result.thetas)
        (<Status.SUCCESS: 'success'>, True)
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        try:
            torch.save(self.to_dict(), partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "TraceResult":
        """The result written by :meth:`save` (loaded with ``weights_only=True``).

        Raises
        ------
        ValueError
            If the file is missing, damaged or not a saved trace; the message names it.
        """
        path = Path(path)
        try:
            return cls.from_dict(torch.load(path, weights_only=True))
        except Exception as exc:
            raise ValueError(f"cannot load a trace result from {str(path)!r}: {type(exc).__name__}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (numbers, strings, tensors, lists, dicts), for :func:`torch.save`;
        diagnostics are kept as described in :meth:`save`."""
        return _plain({
            "format": _FORMAT,
            "eps": list(self.eps),
            "thetas": self.thetas.detach().clone(),
            "steps": [s.to_dict() for s in self.steps],
            "status": self.status.value,
            "message": self.message,
            "events": [e.to_dict() for e in self.events],
            "jacobian_evaluations": self.jacobian_evaluations,
            "wall_time": self.wall_time,
            "diagnostics": self.diagnostics,
            "corrector_state": self.corrector_state,
            "state": None if self.state is None else self.state.to_dict(),
        })

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TraceResult":
        """The result written by :meth:`to_dict`."""
        from .state import TraceState

        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"not a saved TraceResult (format {_FORMAT!r})")
        state = None if data["state"] is None else TraceState.from_dict(data["state"])
        return cls(
            list(data["eps"]), data["thetas"], [StepRecord(**s) for s in data["steps"]], Status(data["status"]),
            data["message"], [Event.from_dict(e) for e in data["events"]], data["jacobian_evaluations"],
            data["wall_time"], data["diagnostics"], data["corrector_state"], state,
        )

    def __repr__(self) -> str:
        span = f"{self.eps[0]:.6g} -> {self.eps[-1]:.6g}" if self.eps else "none"
        return (
            f"TraceResult(status={self.status.value}, accepted={self.accepted}, "
            f"rejected={self.rejected}, eps={span}, wall_time={self.wall_time:.2f}s)"
        )


_FORMAT = "continuation.TraceResult/1"


def _plain(value: Any) -> Any:
    """``value`` as the plain types that ``torch.load(weights_only=True)`` reads."""
    if value is None or isinstance(value, (bool, int, float, str, Tensor)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, numbers.Real):
        return float(value)
    return repr(value)


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (recursively), so that
    :func:`json.dumps` with ``allow_nan=False`` accepts it.

    Examples
    --------
    >>> strict_json({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def residual_note(residual_norms: list[float], tol: float) -> str:
    """A clause for a trace's message when its last point was not corrected to ``tol`` (else ``""``).

    A trace that reaches its last ``eps`` with a residual far above the
    tolerance may have left the path; the status alone does not say so.

    Examples
    --------
    >>> residual_note([1e-9, 1e-6], tol=1e-5)
    ''
    >>> residual_note([1e-9, 3e-4, 2e-2], tol=1e-5)
    '; the last point was not corrected to tol = 1e-05: ||H|| = 2.000e-02, 2e+03 times the smallest on the path'
    >>> residual_note([3e-2, 2e-2], tol=1e-5)  # a floor, not a growth
    '; the last point was not corrected to tol = 1e-05: ||H|| = 2.000e-02'
    """
    if not residual_norms or not residual_norms[-1] > tol:
        return ""
    note = f"; the last point was not corrected to tol = {tol:g}: ||H|| = {residual_norms[-1]:.3e}"
    growth = residual_norms[-1] / max(min(residual_norms), tol)
    return note + (f", {growth:.3g} times the smallest on the path" if growth >= 2 else "")


def _optional(value: Optional[float], width: int) -> str:
    return f"{value:>{width}.3e}" if value is not None else " " * (width - 1) + "-"
