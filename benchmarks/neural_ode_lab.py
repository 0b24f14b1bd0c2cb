"""P7 on the laboratory double pendulum (seed 002, Figure 5): black-box and second-order neural ODEs.

``python -m benchmarks neural-ode-lab [--model M ...] [--method M ...] [--seed K ...]``
fits trajectory 0's first 100 measured samples (:func:`dynamics.laboratory.laboratory_data`)
with each (model, method, seed) not yet on disk, writes its JSON under
``benchmarks/results/neural_ode_lab/`` as soon as it finishes, and assembles
``README.md`` (a table over all JSON files present), ``angles.png``,
``other.png`` and ``curves.png``. ``--assemble`` only rebuilds them. A run cut
short resumes from its checkpoint (``<model>-<method>-seed<k>.checkpoint.pt``).

Models: ``black-box``, the MLP ``4 -> 50 -> 50 -> 4`` of the whole field (as for
the simulated systems), and ``second-order``, :class:`models.SecondOrderNeuralODE`
``4 -> 50 -> 50 -> 2``: the network gives the angular accelerations, the
derivatives of the angles are the angular velocities exactly. GELU, dopri5
``rtol = 1e-7``, ``atol = 1e-9`` for both.

There is no noise-free truth. The reported model of a run is the one with the
lowest training MSE (the :class:`dynamics.training.Monitor`'s "interpolation
MSE" on this data is the error on the fitted samples); it is scored on held-out
measurements: samples 100-199 of trajectory 0 (extrapolation, integrated on
from the first sample) and the first 100 samples of trajectory 1 (integrated
from its own first sample, angles wrapped).

The default budget is cut from P7's (4,000 epochs; 6 x 300 homotopy epochs;
20 + 4 x 10 + 30 LM iterations) to fit a shared 2-core machine; the JSON and
the table record it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path
from typing import Callable, Optional

import torch

from dynamics.laboratory import COLUMNS, laboratory_data
from dynamics.training import METHODS, TrainingSettings, train
from models.neural_ode import NeuralODE, SecondOrderNeuralODE

from . import harness
from .neural_ode import DEFAULTS as P7_DEFAULTS
from .neural_ode import FIGURES, budget_of, load, run_command, training_metrics, vanilla_homotopy_pairs

COMMAND = "python -m benchmarks neural-ode-lab"

MODELS: dict[str, Callable[[], NeuralODE]] = {
    "black-box": lambda: NeuralODE([4, 50, 50, 4], activation="gelu"),
    "second-order": lambda: SecondOrderNeuralODE([4, 50, 50, 2], activation="gelu"),
}
"""The two models of seed 002's Figure 5 by name."""

DEFAULTS = dataclasses.replace(P7_DEFAULTS, epochs=1200, epochs_per_step=100, lm_initial=3, lm_step=2, lm_final=5)
"""The reduced budget run here: 1,200 epochs for vanilla and multiple shooting, 6 x 100 for the homotopy
(half of vanilla's), 3 + 4 x 2 + 5 LM iterations for homotopy-lm; every other constant is P7's."""

METHOD_COLORS = {method: f"C{i}" for i, method in enumerate(METHODS)}
"""One colour per method in every panel of the angle plots (their legend is drawn once)."""

BUDGET_FLAGS = {"epochs": "--epochs", "epochs_per_step": "--epochs-per-step", "lm_initial": "--lm-initial",
                "lm_step": "--lm-step", "lm_final": "--lm-final"}


def add_arguments(parser) -> None:
    """The options of ``python -m benchmarks neural-ode-lab`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--model", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--method", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seed", nargs="+", type=int, default=[0], help="network initialisation seeds")
    parser.add_argument("--assemble", action="store_true", help="only rebuild the table and plots from the JSON")
    for name, flag in BUDGET_FLAGS.items():
        parser.add_argument(flag, type=int, default=getattr(DEFAULTS, name), help=f"budget (P7: "
                            f"{getattr(P7_DEFAULTS, name)}); recorded in the JSON and the table")


def command_of(model: str, method: str, seed: int, settings: TrainingSettings = DEFAULTS) -> str:
    """The command that reruns one configuration, budget flags included when they differ from :data:`DEFAULTS`."""
    command = f"{COMMAND} --model {model} --method {method} --seed {seed}"
    for name, flag in BUDGET_FLAGS.items():
        if getattr(settings, name) != getattr(DEFAULTS, name):
            command += f" {flag} {getattr(settings, name)}"
    return command


def _mse(prediction: torch.Tensor, measured: torch.Tensor) -> float:
    value = float(((prediction - measured) ** 2).mean())
    return value if math.isfinite(value) else math.inf


def run_one(
    model_name: str, method: str, seed: int, settings: TrainingSettings = DEFAULTS, checkpoint: Optional[Path] = None
) -> dict:
    """Train one (model, method, seed) on the laboratory data and return its record."""
    torch.set_num_threads(1)
    data = laboratory_data()
    model = MODELS[model_name]()
    run = train(method, model, data.fit, model.init(seed=seed), settings, checkpoint=checkpoint)
    monitor, (t_other, y_other) = run.monitor, data.other
    with torch.no_grad():
        other_best = model.trajectory(monitor.best_theta, y_other[0], t_other)
        other_final = model.trajectory(run.theta[: model.num_weights], y_other[0], t_other)
    what = {
        "problem": "P7 neural ODE, laboratory double pendulum (Schmidt and Lipson 2009, seed 002's slice)",
        "system": "double-pendulum-lab", "model": model_name, "method": method, "seed": seed,
        "command": command_of(model_name, method, seed, settings), "network": repr(model),
        "widths": model.mlp.widths, "points": data.fit.t.shape[0], "columns": list(COLUMNS),
        "held_out": {"extrapolation": "trajectory 0, samples 100-199", "other": "trajectory 1, samples 0-99"},
        "selection": "lowest training MSE (evaluated every "
                     f"{1 if method == 'homotopy-lm' else settings.evaluate_every} updates)",
    }
    metrics = {**training_metrics(model, run, method, settings), "wall_s_to_best": monitor.best.wall_s,
               "other_mse": {"best": _mse(other_best, y_other), "final": _mse(other_final, y_other)}}
    return harness.make_record(
        what, metrics, p7_budget_updates=budget_of(method, P7_DEFAULTS),
        history=[[e.epoch, e.train_mse, e.extrapolation_mse, e.wall_s] for e in monitor.history],
        history_columns=["update", "train MSE", "extrapolation MSE", "wall s"], other_prediction=other_best.tolist(),
    )


def _finite(value: Optional[float]) -> float:
    """A recorded error as a float: strict JSON records write a non-finite one (a blown-up solve) as ``null``."""
    return math.inf if value is None else value


def _budget_cell(rows: list[dict]) -> str:
    cells = sorted({f"{r['budget_updates']} {r['budget_unit']} (P7: {r['p7_budget_updates']})" for r in rows})
    return "; ".join(cells)


def table(records: list[dict]) -> list[str]:
    """Per (model, method): the seeds run, the budget and the median [min, max] of the errors over them."""
    Column = harness.Column
    columns = [
        Column("model", lambda r: r["model"]), Column("method", lambda r: r["method"]),
        Column("seeds run", lambda r: r["seed"], "d", listed=True), Column("budget", lambda r: _budget_cell([r])),
        Column("train MSE", lambda r: _finite(r["best"]["train_mse"])),
        Column("extrapolation MSE (traj. 0, samples 100-199)", lambda r: _finite(r["best"]["extrapolation_mse"])),
        Column("trajectory 1 MSE", lambda r: _finite(r["other_mse"]["best"])),
        Column("updates to best", lambda r: r["epochs_to_best"], ".0f"),
        Column("wall s to best", lambda r: _finite(r["wall_s_to_best"]), ".0f"),
        Column("wall s (run)", lambda r: r["wall_s"], ".0f"),
    ]
    run = {(r["model"], r["method"]) for r in records}
    return harness.table(records, columns, group=lambda r: (r["model"], r["method"]),
                         not_run=[key for key in itertools.product(MODELS, METHODS) if key not in run])


def homotopy_against_vanilla(records: list[dict]) -> list[str]:
    """Whether the homotopy reaches vanilla's level in at most half vanilla's epochs to its reported model.

    Two levels, both of vanilla's reported model (the lowest training MSE): its
    held-out (extrapolation) MSE and its training MSE. The homotopy's evaluated
    models (every 10 epochs, at every coupling) are searched for the first at
    or below each.
    """
    lines = [
        "| model | seed | vanilla reported model: extrapolation MSE, train MSE (epoch) "
        "| homotopy reported model: same (epoch) | homotopy first at or below vanilla's extrapolation MSE "
        "| target met (held-out) | homotopy first at or below vanilla's train MSE | target met (train) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, seed, vanilla, homotopy in vanilla_homotopy_pairs(records, "model"):
        cells = []
        for column, key in ((2, "extrapolation_mse"), (1, "train_mse")):
            level = _finite(vanilla["best"][key])
            first = next((h[0] for h in homotopy["history"] if _finite(h[column]) <= level), None)
            met = first is not None and first <= vanilla["epochs_to_best"] / 2
            cells += ["never" if first is None else f"epoch {first}", "yes" if met else "no"]
        lines.append(
            f"| {model} | {seed} | {_finite(vanilla['best']['extrapolation_mse']):.2e}, "
            f"{_finite(vanilla['best']['train_mse']):.2e} ({vanilla['epochs_to_best']}) | "
            f"{_finite(homotopy['best']['extrapolation_mse']):.2e}, {_finite(homotopy['best']['train_mse']):.2e} "
            f"({homotopy['epochs_to_best']}) | " + " | ".join(cells) + " |"
        )
    return lines


def plot_angles(records: list[dict], path: Path) -> None:
    """Predicted against measured angles on trajectory 0, the extrapolation start marked (seed 002, Figure 5)."""
    fit = laboratory_data().fit
    start = 0.5 * float(fit.t_dense[fit.t.shape[0] - 1] + fit.t_dense[fit.t.shape[0]])
    _plot_angles(records, fit.t_dense, fit.y_dense, "best_prediction", path, start,
                 "trajectory 0: fitted on t < {start:.2f} s (grey line), extrapolated after")


def plot_other(records: list[dict], path: Path) -> None:
    """Predicted against measured angles on the held-out trajectory 1."""
    t, y = laboratory_data().other
    _plot_angles(records, t, y, "other_prediction", path, None, "trajectory 1 (held out), from its first sample")


def _plot_angles(records, t, measured, key: str, path: Path, start: Optional[float], title: str) -> None:
    seed = min(r["seed"] for r in records)
    with harness.figure(path, 2, len(MODELS), size=(6 * len(MODELS), 5.5), sharex=True) as (fig, axes):
        for column, model in enumerate(MODELS):
            for row, name in enumerate(COLUMNS[:2]):
                ax = axes[row, column]
                ax.plot(t, measured[:, row], "k.", ms=3, label="measured")
                for r in (r for r in records if r["model"] == model and r["seed"] == seed):
                    ax.plot(t, torch.tensor(r[key])[:, row], lw=1.2, color=METHOD_COLORS[r["method"]],
                            label=f"{r['method']}")
                if start is not None:
                    ax.axvline(start, color="grey", lw=0.8)
                ax.set_ylim(float(measured[:, row].min()) - 1.5, float(measured[:, row].max()) + 1.5)
                ax.set_ylabel(f"{name} (rad)")
                if row == 0:
                    ax.set_title(f"{model} (seed {seed})")
            axes[-1, column].set_xlabel("t (s)")
        axes[0, 0].legend(fontsize=7, ncol=3)
        fig.suptitle(title.format(start=start or 0.0))


def plot_curves(records: list[dict], path: Path) -> None:
    with harness.figure(path, 1, 2, size=(12, 4)) as (fig, axes):
        for ax, column, label in ((axes[0, 0], 1, "train MSE"), (axes[0, 1], 2, "extrapolation MSE")):
            for r in records:
                history = [h for h in r["history"] if _finite(h[column]) < math.inf]
                ax.semilogy([h[0] for h in history], [h[column] for h in history], lw=1,
                            label=f"{r['model']} {r['method']} seed {r['seed']}")
            ax.set(xlabel="updates (epochs; LM iterations for homotopy-lm)", ylabel=label)
        axes[0, 0].legend(fontsize=6)
        fig.suptitle("laboratory double pendulum: errors during training")


def assemble(out: Path) -> None:
    """``README.md`` and the plots from every record in ``out``."""
    records = load(out, "model", list(MODELS))
    if not records:
        return
    lines = [
        "# P7 on the laboratory double pendulum (seed 002, Figure 5)", "",
        f"Command: `{COMMAND}` (one JSON per model, method and seed; `--assemble` rebuilds this page). "
        "Data: trajectory 0 of the Schmidt-Lipson measurements, first 100 samples (t = 0 .. 1.06 s, some "
        "frames missing), state (o1, o2, w1, w2). No noise-free truth: the reported model of each run is the "
        "one with the lowest training MSE; it is integrated without coupling from the first sample and scored "
        "on held-out measurements: samples 100-199 of trajectory 0 (extrapolation) and the first 100 samples "
        "of trajectory 1 (from its own first sample, its angles shifted by whole turns so that the first lies "
        "in [-pi, pi]). Errors are mean squared over the four components. Cells: median [min, max] over the seeds listed. The budget column gives the budget "
        "run and P7's in parentheses: every run here is CUT from P7's budget. Wall times: shared 2-core "
        "machine, one torch thread: compare them as ratios only.", "",
    ]
    lines += table(records)
    lines += ["", "## Homotopy against vanilla (target: vanilla's level in at most half its epochs)", "",
              "Levels: the extrapolation MSE and the training MSE of vanilla's reported model; the homotopy's "
              "evaluated models (every 10 epochs, uncoupled) are searched for the first at or below each. "
              "Epoch 0 is the initial model: a level above the initial model's error is met at once.", ""]
    lines += homotopy_against_vanilla(records) + ["", FIGURES]
    plot_angles(records, out / "angles.png")
    plot_other(records, out / "other.png")
    plot_curves(records, out / "curves.png")
    lines += ["", "![angles of trajectory 0](angles.png)", "", "![angles of trajectory 1](other.png)", "",
              "![training curves](curves.png)"]
    harness.write_page(out, lines)
    print("\n".join(table(records)))


def main(args) -> None:
    """Run each (model, method, seed) not on disk (unless ``--assemble``), then :func:`assemble`."""
    settings = dataclasses.replace(DEFAULTS, **{name: getattr(args, name) for name in BUDGET_FLAGS})
    run_command(args, "neural_ode_lab", args.model, settings, run_one, assemble)
