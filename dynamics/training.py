"""Training a neural ODE on trajectory data: the synchronization homotopy and its baselines.

Four methods, same model, data and initial weights:

``homotopy``
    The seed's schedule: :func:`continuation.trace` over
    :func:`~dynamics.synchronization.synchronization_schedule` (6 values of the
    coupling, 300 AdamW epochs each), predictor ``"none"``, corrector Adam(W)
    with ``keep_state``: one AdamW run whose moments carry over from each
    value of the coupling to the next, as in the seed's code.
``homotopy-lm``
    The same path with the library's default predictor (Euler, ``-J^+ dH/dlam``)
    and the Levenberg-Marquardt corrector.
``vanilla``
    AdamW on the uncoupled problem ``lam = 0``.
``multiple-shooting``
    AdamW on :class:`~dynamics.shooting.MultipleShootingResidual`.

Every method reports to a :class:`Monitor`, which integrates the learned field
(uncoupled, from the first observation) on the dense grid every few epochs
and keeps the model with the lowest interpolation error against the
noise-free truth, as the seed's figures do.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch
from torch import Tensor

import continuation
from continuation import Adam, LevenbergMarquardt, Options
from models.neural_ode import NeuralODE

from .shooting import MultipleShootingResidual
from .synchronization import SynchronizationResidual, synchronization_schedule
from .systems import TrajectoryData

__all__ = ["Checkpoint", "Evaluation", "Monitor", "TrainingSettings", "TrainingRun", "METHODS", "train"]

METHODS = ("homotopy", "homotopy-lm", "vanilla", "multiple-shooting")
"""The training methods :func:`train` knows."""


@dataclass(frozen=True)
class Evaluation:
    """Errors of the uncoupled model after ``epoch`` updates (mean squared, all components).

    ``wall_s`` is the training time (all pieces of a resumed run) when the
    evaluation was made; NaN when it is not known (a run resumed from a
    checkpoint that did not record it).
    """

    epoch: int
    train_mse: float
    interpolation_mse: float
    extrapolation_mse: float
    wall_s: float = field(default=math.nan, compare=False)


class Monitor:
    """Evaluates the model every ``every`` updates; keeps the best by interpolation MSE.

    Use it as the ``observer`` of a corrector: it is called with the state
    the gradient (or Jacobian) is taken at, that is after as many updates as
    it has been called before.

    Parameters
    ----------
    model, data
        The neural ODE and the data (dense grid and truth).
    every
        Evaluation period in updates.
    num_weights
        The first ``num_weights`` entries of a state are the network weights
        (multiple shooting appends segment starts); ``None``: all of it.
    """

    def __init__(self, model: NeuralODE, data: TrajectoryData, every: int = 10, num_weights: Optional[int] = None):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        self.model, self.data, self.every = model, data, every
        self.num_weights = model.num_weights if num_weights is None else num_weights
        self.updates = 0
        self.history: list[Evaluation] = []
        self.best: Optional[Evaluation] = None
        self.best_theta: Optional[Tensor] = None
        self._started, self._earlier_wall = time.perf_counter(), 0.0

    def elapsed(self) -> float:
        """Seconds since the run began (earlier pieces of a resumed run included)."""
        return self._earlier_wall + time.perf_counter() - self._started

    def predict(self, theta: Tensor) -> Tensor:
        """The uncoupled trajectory of the weights in ``theta`` on the dense grid (NaN if the solver fails)."""
        weights = theta[: self.num_weights].detach()
        with torch.no_grad():
            return self.model.trajectory(weights, self.data.y[0], self.data.t_dense)

    def evaluate(self, theta: Tensor, epoch: int) -> Evaluation:
        """Record the errors of ``theta`` after ``epoch`` updates."""
        data = self.data
        prediction = self.predict(theta)
        squared = (prediction - data.y_dense) ** 2
        train = (prediction[:: data.refine][: data.t.shape[0]] - data.y) ** 2
        evaluation = Evaluation(
            epoch, _mean(train), _mean(squared[data.interpolation]), _mean(squared[data.extrapolation]),
            self.elapsed(),
        )
        self.history.append(evaluation)
        if self.best is None or evaluation.interpolation_mse < self.best.interpolation_mse:
            self.best, self.best_theta = evaluation, theta[: self.num_weights].detach().clone()
        return evaluation

    def __call__(self, theta: Tensor, residual_norm: float) -> None:
        if self.updates % self.every == 0:
            self.evaluate(theta, self.updates)
        self.updates += 1

    def state_dict(self) -> dict:
        """The monitor as plain data (for a checkpoint)."""
        return {
            "updates": self.updates,
            "history": [[e.epoch, e.train_mse, e.interpolation_mse, e.extrapolation_mse, e.wall_s]
                        for e in self.history],
            "best": None if self.best is None else self.history.index(self.best),
            "best_theta": self.best_theta,
            "wall_s": self.elapsed(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from :meth:`state_dict`."""
        self.updates = state["updates"]
        self.history = [Evaluation(int(e[0]), *map(float, e[1:])) for e in state["history"]]
        self.best = None if state["best"] is None else self.history[state["best"]]
        self.best_theta = state["best_theta"]
        self._started, self._earlier_wall = time.perf_counter(), state.get("wall_s", math.nan)

    def finish(self, theta: Tensor) -> Evaluation:
        """Evaluate the state after the last update."""
        if self.history and self.history[-1].epoch == self.updates:
            return self.history[-1]
        return self.evaluate(theta, self.updates)


def _mean(values: Tensor) -> float:
    value = float(values.mean())
    return value if math.isfinite(value) else math.inf


@dataclass(frozen=True)
class TrainingSettings:
    """Budgets and constants of the methods (P7 defaults).

    Attributes
    ----------
    learning_rate, weight_decay
        AdamW constants (all Adam methods).
    epochs
        Budget of ``vanilla`` and ``multiple-shooting``.
    schedule_steps, schedule_decay, epochs_per_step
        The homotopy schedule: ``schedule_steps`` couplings from 1 to 0,
        ``epochs_per_step`` AdamW epochs at each.
    coupling
        Coupling strength ``k``.
    lm_initial, lm_step, lm_final
        Levenberg-Marquardt iterations of ``homotopy-lm`` at ``lam = 1``, at
        each inner value and at ``lam = 0``.
    lm_rcond
        Cut-off of the Euler predictor's truncated pseudo-inverse in
        ``homotopy-lm``. The Jacobian of a trajectory is very ill-conditioned
        (singular values spread over 13 decades on Lotka-Volterra); with the
        engine's default ``1e-4`` the predicted weights of the first step
        blow the trajectory up, ``1e-1`` lowers the residual.
    segments, continuity
        Multiple shooting.
    evaluate_every
        Monitor period of the Adam methods (LM is evaluated at every iteration).
    """

    learning_rate: float = 1e-2
    weight_decay: float = 1e-2
    epochs: int = 4000
    schedule_steps: int = 6
    schedule_decay: float = 0.6
    epochs_per_step: int = 300
    coupling: float = 10.0
    lm_initial: int = 20
    lm_step: int = 10
    lm_final: int = 30
    lm_rcond: float = 1e-1
    segments: int = 5
    continuity: float = 2e-3
    evaluate_every: int = 10


@dataclass
class TrainingRun:
    """What :func:`train` returns."""

    method: str
    monitor: Monitor
    theta: Tensor
    wall_time: float
    updates: int
    details: dict = field(default_factory=dict)


class Checkpoint:
    """Where a resumable training run keeps its progress (a ``torch.save`` file).

    Parameters
    ----------
    path
        The file; ``None`` disables checkpoints (every method then runs in one piece).
    epochs
        The Adam methods without a schedule (``vanilla``, ``multiple-shooting``)
        save every ``epochs`` epochs; ``homotopy`` and ``homotopy-lm`` save
        after each value of their schedule.
    """

    def __init__(self, path: Optional[Path], epochs: int = 100):
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        self.path, self.epochs = path, epochs
        self.saved: Optional[dict] = torch.load(path, weights_only=True) if path is not None and path.exists() else None

    def save(self, **progress) -> None:
        """Write ``progress`` (keyword fields) to the file; nothing without a path."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # clones: a tensor that is a view would be written with its whole storage; written
            # aside, then renamed, so that a run stopped while saving leaves the previous file whole
            partial = self.path.with_name(self.path.name + ".partial")
            torch.save({k: v.clone() if isinstance(v, Tensor) else v for k, v in progress.items()}, partial)
            os.replace(partial, self.path)

    def remove(self) -> None:
        """Delete the file (the run has ended)."""
        if self.path is not None and self.path.exists():
            self.path.unlink()


def train(
    method: str,
    model: NeuralODE,
    data: TrajectoryData,
    theta0: Tensor,
    settings: TrainingSettings = TrainingSettings(),
    checkpoint: Optional[Path] = None,
    checkpoint_epochs: int = 100,
) -> TrainingRun:
    """Train ``model`` on ``data`` from ``theta0`` with ``method`` (one of :data:`METHODS`).

    With ``checkpoint`` (a file path) every method saves its progress as it
    goes (see :class:`Checkpoint`) and a call that finds the file resumes
    from it; the result is the same as an uninterrupted run (AdamW's moments,
    Levenberg-Marquardt's damping and the monitor are saved too; a resumed
    homotopy starts its next schedule value with the full budget, as the
    trace would). The file is
    removed at the end; ``details["pieces"]`` counts the processes the run
    took and the wall time is their total.

    Returns
    -------
    TrainingRun
        The final weights, the monitor (history and best model), the wall
        time and the number of updates (epochs or LM iterations).

    Examples
    --------
    >>> import torch
    >>> import dataclasses
    >>> from dynamics.systems import SYSTEMS, make_data
    >>> data = make_data(dataclasses.replace(SYSTEMS["lotka-volterra"], t_end=1.0))
    >>> model = NeuralODE([2, 8, 2])
    >>> run = train("vanilla", model, data, model.init(seed=0), TrainingSettings(epochs=3, evaluate_every=1))
    >>> run.updates, [e.epoch for e in run.monitor.history]
    (3, [0, 1, 2, 3])
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if theta0.shape != (model.num_weights,):
        raise ValueError(f"theta0 must have shape ({model.num_weights},), got {tuple(theta0.shape)}")
    store = Checkpoint(checkpoint, checkpoint_epochs)
    saved = store.saved
    if saved is not None and saved["method"] != method:
        raise ValueError(f"checkpoint {checkpoint} belongs to method {saved['method']!r}, not {method!r}")
    start = time.perf_counter()
    earlier_wall = saved["wall_s"] if saved else 0.0
    pieces = (saved["pieces"] if saved else 0) + 1
    monitor = Monitor(model, data, 1 if method == "homotopy-lm" else settings.evaluate_every)
    if saved:
        monitor.load_state_dict(saved["monitor"])

    def save(**fields) -> None:
        store.save(method=method, monitor=monitor.state_dict(), pieces=pieces,
                   wall_s=earlier_wall + time.perf_counter() - start, **fields)

    checkpointed = save if store.path is not None else None
    if method in ("vanilla", "multiple-shooting"):
        theta, details = _train_adam(method, model, data, theta0, settings, monitor, saved, checkpointed,
                                     store.epochs)
    else:
        theta, details = _train_on_path(method, model, data, theta0, settings, monitor, saved, checkpointed)
    monitor.finish(theta)
    store.remove()
    if store.path is not None:
        details["pieces"] = pieces
    return TrainingRun(method, monitor, theta.detach(), earlier_wall + time.perf_counter() - start, monitor.updates,
                       details)


def _train_adam(
    method: str, model: NeuralODE, data: TrajectoryData, theta0: Tensor, s: TrainingSettings, monitor: Monitor,
    saved: Optional[dict], save: Optional[Callable[..., None]], save_every: int,
) -> tuple[Tensor, dict]:
    """``vanilla`` or ``multiple-shooting``: AdamW at ``lam = 0``; with ``save``, saved every ``save_every`` epochs."""
    if method == "vanilla":  # the homotopy's residual at lam = 0: the plain trajectory misfit
        problem, state = SynchronizationResidual(model, data.t, data.y, s.coupling), theta0
    else:
        problem = MultipleShootingResidual(model, data.t, data.y, s.segments, s.continuity)
        state = problem.initial_state(theta0)
    adam = Adam(s.learning_rate, s.weight_decay, observer=monitor, keep_state=True)
    done, moments, message = 0, None, "budget used"
    if saved:
        state, moments, done = saved["state"], saved["optimizer"], saved["epochs_done"]
    lam = torch.tensor(0.0, dtype=theta0.dtype)
    while done < s.epochs:
        chunk = min(s.epochs - done, save_every if save is not None else s.epochs)
        report = adam.correct(problem, state, lam, iterations=chunk, tol=0.0, state=moments)
        state, moments, done, message = report.theta, report.state, done + report.iterations, report.message
        if report.iterations < chunk:  # non-finite loss: the run cannot go on
            break
        if done < s.epochs and save is not None:
            save(state=state, optimizer=moments, epochs_done=done)
    return state, {"message": message}


def _train_on_path(
    method: str, model: NeuralODE, data: TrajectoryData, theta0: Tensor, s: TrainingSettings, monitor: Monitor,
    saved: Optional[dict], save: Optional[Callable[..., None]],
) -> tuple[Tensor, dict]:
    """``homotopy`` or ``homotopy-lm``: :func:`continuation.trace` over the schedule.

    With ``save`` (a checkpoint), each piece of the trace accepts one value of
    ``lam`` (the first one included) and saves the trace; the next piece resumes
    it (``trace(..., resume=result.state)``), which gives the uninterrupted path.
    """
    problem = SynchronizationResidual(model, data.t, data.y, s.coupling)
    schedule = synchronization_schedule(s.schedule_steps, s.schedule_decay)
    if method == "homotopy":
        # one AdamW run through the schedule, as in seed 002 (one optimiser whose lam changes
        # with the epoch): its moments go from each value of lam to the next
        corrector = Adam(s.learning_rate, s.weight_decay, observer=monitor, keep_state=True)
        predictor = "none"
        budgets = dict(initial_iterations=s.epochs_per_step, corrector_iterations=s.epochs_per_step,
                       final_iterations=s.epochs_per_step)
    else:
        corrector, predictor = LevenbergMarquardt(observer=monitor), "euler"
        budgets = dict(initial_iterations=s.lm_initial, corrector_iterations=s.lm_step,
                       final_iterations=s.lm_final, rcond=s.lm_rcond)
    options = Options(tol=1e-12, **budgets)
    result = continuation.TraceResult.from_dict(saved["trace"]) if saved else None
    while True:
        # with a checkpoint, each piece accepts one value of lam (the first one included), then saves
        result = continuation.trace(
            problem, theta0 if result is None else result.theta, schedule, predictor=predictor, corrector=corrector,
            adaptive=False, options=options, callback=(lambda record, theta: True) if save is not None else None,
            resume=None if result is None else result.state,
        )
        if result.status is not continuation.Status.STOPPED_BY_CALLBACK:
            break
        save(trace=result.to_dict())
    theta = result.theta if result.eps else theta0  # a trace that accepted no point leaves theta where it was
    per_step = {"corrector_iterations_per_step": [r.iterations for r in result.steps],
                "residual_norm_per_step": [r.residual_norm for r in result.steps]}
    jacobians = result.jacobian_evaluations
    return theta, {"schedule": schedule, "status": result.status.value, "message": result.message, **per_step,
                   "jacobian_evaluations": jacobians}
