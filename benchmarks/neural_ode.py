"""P7 (Ko et al., NeurIPS 2023): neural ODE training by synchronization homotopy against plain training and multiple shooting.

``python -m benchmarks neural-ode [--system S ...] [--method M ...] [--seed K ...]``
runs each (system, method, seed) not yet on disk and writes its JSON under
``benchmarks/results/neural_ode/`` as soon as it finishes (so the benchmark
runs in pieces), then assembles ``README.md`` (a table over all JSON files
present), ``trajectories_<system>.png`` and ``curves_<system>.png`` from
whatever is on disk. ``--assemble`` only rebuilds the table and plots.
A run longer than a session continues where it stopped: the Adam methods
save their progress to ``<system>-<method>-seed<k>.checkpoint.pt`` (the
homotopy after each coupling value, the others every 100 epochs) and the
same command resumes from it.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch

from dynamics.systems import SYSTEMS, make_data
from dynamics.training import METHODS, TrainingRun, TrainingSettings, train
from models.neural_ode import NeuralODE

from . import harness
from .record import cached, checkpoint_path

COMMAND = "python -m benchmarks neural-ode"
DATA_SEED = 0
DEFAULTS = TrainingSettings()
FIGURES = "<!-- figures -->"


def add_arguments(parser) -> None:
    """The options of ``python -m benchmarks neural-ode`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--system", nargs="+", choices=sorted(SYSTEMS), default=["lotka-volterra"])
    parser.add_argument("--method", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seed", nargs="+", type=int, default=[0], help="network initialisation seeds")
    parser.add_argument("--assemble", action="store_true", help="only rebuild the table and plots from the JSON")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs,
                        help="vanilla and multiple-shooting epochs (P7: 4000); a cut is recorded in the JSON "
                             "and shown in the table's budget column")
    parser.add_argument("--epochs-per-step", type=int, default=DEFAULTS.epochs_per_step,
                        help="homotopy epochs at each coupling value (seed: 300); a cut is recorded likewise")


def budget_of(method: str, settings: TrainingSettings) -> int:
    """Epochs (LM iterations for ``homotopy-lm``) a method may spend."""
    if method == "homotopy":
        return settings.schedule_steps * settings.epochs_per_step
    if method == "homotopy-lm":
        return settings.lm_initial + (settings.schedule_steps - 2) * settings.lm_step + settings.lm_final
    return settings.epochs


def command_of(system: str, method: str, seed: int, settings: TrainingSettings = DEFAULTS) -> str:
    """The command that reruns one configuration, budget flags included when they differ from P7's."""
    command = f"{COMMAND} --system {system} --method {method} --seed {seed}"
    if settings.epochs != DEFAULTS.epochs:
        command += f" --epochs {settings.epochs}"
    if settings.epochs_per_step != DEFAULTS.epochs_per_step:
        command += f" --epochs-per-step {settings.epochs_per_step}"
    return command


def run_one(
    system: str, method: str, seed: int, settings: TrainingSettings = DEFAULTS, checkpoint: Optional[Path] = None
) -> dict:
    """Train one (system, method, seed) and return its record.

    With ``checkpoint`` every method saves its progress there and resumes from it
    (:func:`dynamics.training.train`): a run longer than a session is carried over by
    committing that file.
    """
    torch.set_num_threads(1)
    spec = SYSTEMS[system]
    data = make_data(spec, seed=DATA_SEED)
    model = NeuralODE(list(spec.widths), activation="gelu")
    run = train(method, model, data, model.init(seed=seed), settings, checkpoint=checkpoint)
    what = {"problem": f"P7 neural ODE, {system}", "system": system, "method": method, "seed": seed,
            "data_seed": DATA_SEED, "command": command_of(system, method, seed, settings),
            "widths": list(spec.widths), "points": data.t.shape[0], "noise": spec.noise,
            "relative_noise": spec.relative_noise}
    history = [[e.epoch, e.train_mse, e.interpolation_mse, e.extrapolation_mse] for e in run.monitor.history]
    return harness.make_record(what, training_metrics(model, run, method, settings), history=history,
                               budget_cut=budget_of(method, settings) < budget_of(method, DEFAULTS),
                               default_settings=dataclasses.asdict(DEFAULTS))


def training_metrics(model: NeuralODE, run: TrainingRun, method: str, settings: TrainingSettings) -> dict[str, Any]:
    """What a record of a training run holds whatever the data: budget, solver, best and final errors, weights."""
    best, final = run.monitor.best, run.monitor.history[-1]
    return {
        "settings": dataclasses.asdict(settings), "budget_updates": budget_of(method, settings),
        "budget_unit": "LM iterations" if method == "homotopy-lm" else "epochs",
        "solver": {"method": model.method, "rtol": model.rtol, "atol": model.atol, "adjoint": model.adjoint},
        "weights": model.num_weights, "updates": run.updates, "wall_s": run.wall_time,
        "best": dataclasses.asdict(best), "final": dataclasses.asdict(final), "epochs_to_best": best.epoch,
        "details": run.details, "best_prediction": run.monitor.predict(run.monitor.best_theta).tolist(),
        "best_theta": run.monitor.best_theta.tolist(),
    }


def run_command(args, folder: str, names: Sequence[str], settings: TrainingSettings,
                run: Callable[..., dict], assemble: Callable[[Path], None]) -> None:
    """The command of a neural-ODE benchmark: ``run(name, method, seed, settings, checkpoint)`` for each
    (name, ``--method``, ``--seed``) without a JSON in the output folder (all with ``--force``; none with
    ``--assemble``), written as ``<name>-<method>-seed<k>.json`` as soon as it finishes; then ``assemble``."""
    torch.set_num_threads(1)
    out = harness.out_folder(args, folder)
    out.mkdir(parents=True, exist_ok=True)
    for name in [] if args.assemble else names:
        for method in args.method:
            for seed in args.seed:
                path = out / f"{name}-{method}-seed{seed}.json"
                checkpoint = checkpoint_path(path, args.force)
                cached(path, lambda: run(name, method, seed, settings, checkpoint), force=args.force)
    assemble(out)


def load(out: Path, first: str, order: Sequence[str]) -> list[dict]:
    """The records of ``out`` ordered by ``first`` (a key, its values in ``order``), method and seed."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(harness.load_records(out, "*-seed*.json"),
                  key=lambda r: (rank.get(r[first], len(rank)), METHODS.index(r["method"]), r["seed"]))


def _budget(r: dict) -> str:
    return f"{r['budget_updates']} {r['budget_unit']}" + (" (CUT from the P7 budget)" if r.get("budget_cut") else "")


def table(records: list[dict]) -> list[str]:
    """Per (system, method): the seeds run, the budget and the median [min, max] of the errors over them."""
    Column = harness.Column
    columns = [
        Column("system", lambda r: r["system"]), Column("method", lambda r: r["method"]),
        Column("seeds run", lambda r: r["seed"], "d", listed=True), Column("budget", _budget),
        *(Column(f"{title} MSE", lambda r, key=key: r["best"][key]) for title, key in
          (("train", "train_mse"), ("interpolation", "interpolation_mse"), ("extrapolation", "extrapolation_mse"))),
        Column("updates to best", lambda r: r["epochs_to_best"], ".0f"), Column("wall s", lambda r: r["wall_s"], ".0f"),
    ]
    run = {(r["system"], r["method"]) for r in records}
    return harness.table(records, columns, group=lambda r: (r["system"], r["method"]),
                         not_run=[key for key in itertools.product(SYSTEMS, METHODS) if key not in run])


def per_run_table(records: list[dict]) -> list[str]:
    """One row per run: the best, final and training-picked interpolation errors."""
    Column = harness.Column
    columns = [
        Column("system", lambda r: r["system"]), Column("method", lambda r: r["method"]),
        Column("seed", lambda r: r["seed"], "d"), Column("updates run", lambda r: r["updates"], "d"),
        Column("best at", lambda r: r["epochs_to_best"], "d"),
        Column("interpolation MSE (best)", lambda r: r["best"]["interpolation_mse"]),
        Column("same (final)", lambda r: r["final"]["interpolation_mse"]),
        Column("same (lowest train MSE, at)",
               lambda r: f"{picked_by_training(r)[2]:.2e} ({picked_by_training(r)[0]})"),
        Column("extrapolation MSE (best)", lambda r: r["best"]["extrapolation_mse"]),
        Column("wall s", lambda r: r["wall_s"], ".0f"),
        Column("load average", lambda r: r["machine"].get("load_average", [None])[0], ".1f"),
    ]
    return harness.table(records, columns)


def picked_by_training(record: dict) -> list:
    """The history row ``[epoch, train, interpolation, extrapolation]`` with the lowest training MSE.

    The training MSE (the uncoupled model against the noisy data) is what a user
    has without the noise-free truth: this is the model such a user would keep.
    """
    return min(record["history"], key=lambda row: _finite(row[1]))


def first_epoch_at_or_below(record: dict, level: float):
    """The first evaluated epoch whose interpolation MSE is at most ``level`` (``None``: never)."""
    return next((h[0] for h in record["history"] if _finite(h[2]) <= level), None)


def _finite(value) -> float:
    """A recorded error; ``null`` (a non-finite value in a strict-JSON record) counts as infinite."""
    return float("inf") if value is None else value


def homotopy_against_vanilla(records: list[dict]) -> list[str]:
    """The target of issue 6: homotopy as accurate as vanilla in at most half the epochs.

    The best model is chosen against the noise-free truth, as in the paper's figures;
    the last two columns give the interpolation MSE of the weights each run ended
    with and of those with the lowest training MSE (a choice without the truth).
    """
    lines = [
        "| system | seed | vanilla best interpolation MSE (epoch) | homotopy best (epoch) "
        "| homotopy first at or below vanilla's best | target met | final weights: vanilla, homotopy "
        "| lowest train MSE: vanilla, homotopy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for system, seed, vanilla, homotopy in vanilla_homotopy_pairs(records, "system"):
        level = vanilla["best"]["interpolation_mse"]
        first = first_epoch_at_or_below(homotopy, level)
        met = first is not None and first <= vanilla["epochs_to_best"] / 2
        lines.append(
            f"| {system} | {seed} | {level:.2e} ({vanilla['epochs_to_best']}) | "
            f"{homotopy['best']['interpolation_mse']:.2e} ({homotopy['epochs_to_best']}) | "
            f"{'never' if first is None else f'epoch {first}'} | {'yes' if met else 'no'} | "
            f"{vanilla['final']['interpolation_mse']:.2e}, {homotopy['final']['interpolation_mse']:.2e} | "
            f"{picked_by_training(vanilla)[2]:.2e}, {picked_by_training(homotopy)[2]:.2e} |"
        )
    return lines


def vanilla_homotopy_pairs(records: list[dict], key: str) -> list[tuple[str, int, dict, dict]]:
    """``(name, seed, vanilla, homotopy)`` for each ``key`` value and seed that has both runs, sorted."""
    by_key = {(r[key], r["method"], r["seed"]): r for r in records}
    return [(name, seed, vanilla, by_key[(name, "homotopy", seed)]) for (name, method, seed), vanilla
            in sorted(by_key.items()) if method == "vanilla" and (name, "homotopy", seed) in by_key]


def plot_trajectories(system: str, records: list[dict], path: Path) -> None:
    data = make_data(system, seed=DATA_SEED)
    rows = [r for r in records if r["system"] == system and r["seed"] == min(x["seed"] for x in records
                                                                           if x["system"] == system)]
    n = data.y.shape[1]
    with harness.figure(path, n, 1, size=(8, 2.2 * n), sharex=True) as (fig, axes):
        t_end = float(data.t[-1])
        for i, ax in enumerate(axes[:, 0]):
            ax.plot(data.t_dense, data.y_dense[:, i], "k--", lw=1, label="truth")
            ax.plot(data.t, data.y[:, i], "k.", ms=4, label="data")
            for r in rows:
                prediction = torch.tensor(r["best_prediction"])
                ax.plot(data.t_dense, prediction[:, i], lw=1.2, label=f"{r['method']} (best, seed {r['seed']})")
            ax.axvline(t_end, color="grey", lw=0.8)
            ax.set_ylabel(f"u{i + 1}")
        axes[-1, 0].set_xlabel("t (grey line: extrapolation starts)")
        axes[0, 0].legend(fontsize=7, ncol=3)
        fig.suptitle(f"{system}: learned trajectories against the data")


def plot_curves(system: str, records: list[dict], path: Path) -> None:
    """Interpolation MSE during training: epochs (AdamW methods) and LM iterations on separate axes.

    An epoch (one AdamW update) and a Levenberg-Marquardt iteration (a Jacobian and a linear
    solve) are different units of work, so they get an axis each; the error axis is shared.
    """
    runs = [r for r in records if r["system"] == system]
    units = sorted({r["budget_unit"] for r in runs})
    with harness.figure(path, 1, len(units), size=(6 * len(units), 4), sharey=True) as (fig, axes):
        for ax, unit in zip(axes[0], units):
            for r in (r for r in runs if r["budget_unit"] == unit):
                history = [h for h in r["history"] if _finite(h[2]) < float("inf")]
                ax.semilogy([h[0] for h in history], [h[2] for h in history], lw=1,
                            label=f"{r['method']} seed {r['seed']}")
            ax.set(xlabel=unit)
            ax.legend(fontsize=7)
        axes[0, 0].set(ylabel="interpolation MSE")
        fig.suptitle(f"{system}: interpolation error during training")


def assemble(out: Path) -> None:
    """``README.md`` and the plots from every record in ``out``."""
    records = load(out, "system", list(SYSTEMS))
    lines = [
        "# P7: neural ODE training by synchronization homotopy (Ko et al., NeurIPS 2023)", "",
        f"Command: `{COMMAND}` (one JSON per system, method and seed; `--assemble` rebuilds this page).",
        "Errors are mean squared over all components of the model integrated without coupling from the "
        "first observation: training MSE against the noisy data, interpolation MSE against the noise-free "
        "truth on a dense grid (5 points per observation interval) over the observation span, extrapolation "
        "MSE over the next 20% of the span. As in the paper's figures, the reported model is the one with "
        "the lowest interpolation MSE during training (evaluated every "
        f"{DEFAULTS.evaluate_every} epochs; every iteration for LM); `updates to best` is its epoch "
        "(LM iterations for homotopy-lm). Cells: median [min, max] over the seeds listed; a system or "
        "method with fewer than 3 seeds was not run for the others. Budgets are in the `budget` column. "
        "Wall times were measured on a shared 2-core machine with one torch thread "
        "(other jobs running; see the load average per run): compare them as ratios only.", "",
    ]
    lines += table(records) + ["", "## Every run", ""] + per_run_table(records)
    lines += ["", "## Homotopy against vanilla (target: as accurate in at most half the epochs)", "",
              "The best models are chosen against the noise-free truth, as in the paper's figures; the last "
              "two columns give the interpolation MSE of the weights each run ended with (the homotopy's at "
              "`lam = 0` after its last 300 epochs) and of the evaluated weights with the lowest training MSE "
              "(the uncoupled model against the noisy data: a choice made without the truth).", ""]
    lines += homotopy_against_vanilla(records) + ["", FIGURES]
    for system in sorted({r["system"] for r in records}):
        plot_trajectories(system, records, out / f"trajectories_{system}.png")
        plot_curves(system, records, out / f"curves_{system}.png")
        lines += ["", f"![{system} trajectories](trajectories_{system}.png)", "",
                  f"![{system} curves](curves_{system}.png)"]
    harness.write_page(out, lines)
    print("\n".join(table(records)))


def main(args) -> None:
    """Run each (system, method, seed) not on disk (unless ``--assemble``), then :func:`assemble`."""
    settings = dataclasses.replace(DEFAULTS, epochs=args.epochs, epochs_per_step=args.epochs_per_step)
    run_command(args, "neural_ode", args.system, settings, run_one, assemble)
