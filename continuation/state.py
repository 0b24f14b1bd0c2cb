"""The state of a trace: everything the next step needs, as one value.

A :class:`TraceState` is what the stepping loop reads and updates; nothing
else carries information from one step to the next. It is handed back as
``result.state``, so that ``trace(residual, result.theta, eps_path,
resume=result.state)`` continues exactly where a trace stopped, and it is
what :meth:`~continuation.TraceResult.save` writes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any, Optional

import torch
from torch import Tensor

from .result import Event, StepRecord

__all__ = ["TraceState"]


@dataclass
class TraceState:
    """Where a trace stands after its last attempt.

    Attributes
    ----------
    method
        ``"natural"`` or ``"arclength"``.
    eps_path
        The ``eps_path`` the trace was started with.
    eps, thetas
        The accepted points so far, in order.
    steps
        Every attempt so far, as :class:`~continuation.StepRecord` rows.
    diagnostics, events
        The user's diagnostics at each accepted point; folds found.
    ds
        The size of the next step (``|deps|``, or the arclength step).
    target
        Natural continuation: the index in ``eps_path`` of the next listed value.
    velocity, velocity_known, previous_velocity
        Natural continuation: the predictor's velocity at the last accepted
        point (``None``: stay), whether it was computed there, and the one
        at the point before (for the Lipschitz estimate).
    tangent, arclength
        Arclength continuation: the unit tangent at the last accepted point
        and the arclength travelled.
    residual_norm
        ``||H||`` at the last accepted point.
    corrector_state
        The corrector's state at the last accepted point.
    last_report
        The stop reason (:class:`~continuation.correctors.Stop` value) of the
        corrector at the last accepted point.
    finished
        The status value of the goal, once the trace reached its end (``""`` before).
    jacobian_evaluations, wall_time
        Totals so far, over every piece of the trace.
    pieces
        The number of :func:`~continuation.trace` calls that built this state
        (1, plus one for each resume).
    test_values
        Arclength with ``event_tests``: each test's value at the last
        accepted point.
    conditioning
        Once the trace ended with ``||H|| <= tol`` and known outputs: the
        function-space conditioning of its last point
        (:meth:`continuation.conditioning.Conditioning.to_dict`), else ``None``.
    sketch_ranks
        The rank each matrix-free solver (``"corrector"``, ``"predictor"``)
        would sketch at next, as its :class:`~continuation.linalg.SketchRank`
        set it when the trace stopped: a resumed trace starts from it.
    """

    method: str
    eps_path: list[float]
    eps: list[float] = field(default_factory=list)
    thetas: list[Tensor] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    ds: float = 0.0
    target: int = 1
    velocity: Optional[Tensor] = None
    velocity_known: bool = False
    previous_velocity: Optional[Tensor] = None
    tangent: Optional[Tensor] = None
    arclength: float = 0.0
    residual_norm: float = float("nan")
    corrector_state: Any = None
    last_report: str = ""
    finished: str = ""
    jacobian_evaluations: int = 0
    wall_time: float = 0.0
    pieces: int = 0
    test_values: list[float] = field(default_factory=list)
    conditioning: Optional[dict[str, float]] = None
    sketch_ranks: dict[str, int] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        """Whether the initial point has been accepted."""
        return bool(self.eps)

    @property
    def attempts(self) -> int:
        """Attempts after the initial correction (accepted and rejected)."""
        return max(0, len(self.steps) - 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (tensors, numbers, strings, lists, dicts) for :func:`torch.save`."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["thetas"] = [t.detach().clone() for t in self.thetas]
        data["steps"] = [s.to_dict() for s in self.steps]
        data["events"] = [e.to_dict() for e in self.events]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TraceState":
        """The state written by :meth:`to_dict`."""
        data = dict(data)
        data["steps"] = [StepRecord(**s) for s in data["steps"]]
        data["events"] = [Event.from_dict(e) for e in data["events"]]
        return cls(**data)

    def clone(self) -> "TraceState":
        """A deep copy, which later steps of a trace do not change."""
        return copy.deepcopy(self)

    def stacked_thetas(self, like: Tensor) -> Tensor:
        """The accepted states as one ``(len(eps), P)`` tensor (empty and shaped like ``like`` if none)."""
        if not self.thetas:
            return like.new_empty((0, like.numel()))
        return torch.stack([t.detach() for t in self.thetas])
