"""What a trace returns: a status, the accepted path and a per-step table."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor

__all__ = ["Status", "StepRecord", "Event", "TraceResult"]


class Status(enum.Enum):
    """How a trace ended."""

    SUCCESS = "success"
    """Every listed value of ``eps_path`` was reached."""
    STEP_TOO_SMALL = "step_too_small"
    """The step fell below ``options.ds_min`` after rejections."""
    MAX_STEPS = "max_steps"
    """``options.max_steps`` steps were attempted."""
    INITIAL_CORRECTION_FAILED = "initial_correction_failed"
    """The first point could not be corrected to a finite residual."""
    CORRECTOR_FAILED = "corrector_failed"
    """A step failed with ``adaptive=False``, where it cannot be halved."""
    LEFT_RANGE = "left_range"
    """An arclength trace left the range of ``eps``."""
    MAX_ARCLENGTH = "max_arclength"
    """An arclength trace reached ``options.max_arclength``."""
    STOPPED_BY_CALLBACK = "stopped_by_callback"
    """The callback returned ``True``."""


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


@dataclass(frozen=True)
class Event:
    """A special point found on the path.

    Attributes
    ----------
    kind
        ``"fold"``.
    eps
        The refined location.
    index
        The index, in ``result.eps``, of the accepted point after which the
        event was detected.
    theta
        The state at the refined location.
    """

    kind: str
    eps: float
    index: int
    theta: Optional[Tensor] = None


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
        Seconds for the whole trace.
    diagnostics
        Per accepted point, the values of the functions in the
        ``diagnostics`` argument of :func:`~continuation.trace`.
    corrector_state
        The corrector's state at the last accepted point (``None`` when no
        point was accepted or the corrector keeps none); pass it as
        ``corrector_state`` to a trace that resumes from :attr:`theta`.
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

    @property
    def success(self) -> bool:
        """``True`` when the trace ended as planned: the whole of ``eps_path``
        traced (natural), or the range or ``max_arclength`` reached (arclength)."""
        return self.status in (Status.SUCCESS, Status.LEFT_RANGE, Status.MAX_ARCLENGTH)

    @property
    def theta(self) -> Tensor:
        """The last accepted state (an error if no point was accepted)."""
        if len(self.thetas) == 0:
            raise ValueError(f"the trace accepted no point ({self.status.value}: {self.message})")
        return self.thetas[-1]

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
        rows = [header + "  reason"]
        for s in self.steps:
            row = (
                f"{s.step:>4} {s.eps:>12.6g} {s.deps:>11.3e} {s.iterations:>5} "
                f"{s.residual_norm:>10.3e} {'yes' if s.accepted else 'no':>3} {s.wall_time:>7.2f}"
            )
            if arc:
                row += "".join(f" {_optional(v, w)}" for v, w in ((s.ds, 9), (s.tangent_eps, 9), (s.arclength, 10)))
            rows.append(f"{row}  {s.reason}")
        return "\n".join(rows)

    def summary(self) -> dict[str, Any]:
        """Counters and status as plain Python values (JSON-ready)."""
        return {
            "status": self.status.value,
            "message": self.message,
            "success": self.success,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "corrector_iterations": self.corrector_iterations,
            "jacobian_evaluations": self.jacobian_evaluations,
            "wall_time": self.wall_time,
            "eps": list(self.eps),
            "steps": [asdict(s) for s in self.steps],
            "events": [{"kind": e.kind, "eps": e.eps, "index": e.index} for e in self.events],
        }

    def __repr__(self) -> str:
        span = f"{self.eps[0]:.6g} -> {self.eps[-1]:.6g}" if self.eps else "none"
        return (
            f"TraceResult(status={self.status.value}, accepted={self.accepted}, "
            f"rejected={self.rejected}, eps={span}, wall_time={self.wall_time:.2f}s)"
        )


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


def stack_thetas(thetas: list[Tensor]) -> Tensor:
    """Stack accepted states (detached) into one tensor."""
    return torch.stack([t.detach() for t in thetas])
