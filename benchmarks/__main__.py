"""Command line of the benchmarks: ``python -m benchmarks COMMAND ...`` (``--help`` lists the commands).

Every command is a module of :mod:`benchmarks` (:data:`COMMANDS`) with
``add_arguments(parser)`` and ``main(args)``; ``--out`` (and ``--force``
where records are cached, ``--device`` where the networks can be placed) is
added here, once for all.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from .harness import device


@dataclass(frozen=True)
class Command:
    """A command of ``python -m benchmarks``: its module, its help, and where it writes by default."""

    module: str
    help: str
    out: str
    """The default output folder, for the help of ``--out``."""
    force: bool = True
    """Whether the command caches records (and takes ``--force`` to rerun them)."""
    device: bool = False
    """Whether the command builds its networks and points on ``--device`` (checked before any work)."""


COMMANDS: dict[str, Command] = {
    "demo": Command("demo", "trace P1 from eps = 0.5 to 0.01 (make demo)",
                    "demo-output/ in the working directory, ignored by git; the reference run is in "
                    "benchmarks/results/demo", force=False),
    "foundation": Command("foundation", "P1 at eps = 0.01: homotopy against direct Adam+L-BFGS and direct LM; "
                          "Jacobian timing", "benchmarks/results/foundation"),
    "run": Command("run", "one problem (ac1d, ac2d, ac2d-time, helmholtz, fit): ours against direct LM, "
                   "classical Adam+L-BFGS and the seed's strategies 1 and 2",
                   "benchmarks/results/<problem>, .../<problem>/small for --budget small", device=True),
    "sweep": Command("sweep", "the configurations of `run` over seeds, eps and methods, one Ray task each "
                     "(resumable)", "benchmarks/results/<problem>", device=True),
    "verify": Command("verify", "rerun committed rows of `run` (all, or the fastest --sample N) at this commit "
                      "and report each figure's drift", "verify-output/ in the working directory, ignored by git",
                      force=False, device=True),
    "bratu": Command("bratu", "P6: arclength round the fold, finite differences and networks",
                     "benchmarks/results/bratu"),
    "diagnostics": Command("diagnostics", "P1 kernel spectra: eps sweep at the init (seed Fig. 4) and warm starts "
                           "(seed Table 2); the Hessian after classical training, Newton against LM; AD against FD "
                           "in the residual", "benchmarks/results/diagnostics"),
    "burgers": Command("burgers", "P5: physics-informed DeepONet for steady Burgers against finite-difference "
                       "solvers", "benchmarks/results/burgers"),
    "burgers-source": Command("burgers_source", "Burgers with a source: physics-informed DeepONet f -> u against "
                              "batched Newton", "benchmarks/results/burgers_source"),
    "neural-ode": Command("neural_ode", "P7: neural ODE training by synchronization homotopy against plain "
                          "training and multiple shooting", "benchmarks/results/neural_ode"),
    "neural-ode-lab": Command("neural_ode_lab", "P7 on the laboratory double pendulum: black-box and second-order "
                              "neural ODEs, four methods", "benchmarks/results/neural_ode_lab"),
    "step-cost": Command("step_cost", "the cost of one continuation step (predictor, Jacobian, LM solve), dense "
                         "against matrix-free, against d (P3) and the network size (P1)",
                         "benchmarks/results/step-cost, .../small for --budget small", device=True),
    "branches": Command("branches", "multiple solutions: branch points, branch switching and deflated "
                        "continuation (Chafee-Infante on FD and networks, Bratu by deflation)",
                        "benchmarks/results/branches"),
    "adaptive-points": Command("adaptive_points", "P1 with RAD points that follow the path against fixed uniform "
                               "points", "benchmarks/results/adaptive_points"),
    "generalization": Command("generalization", "ten problems the defaults were not tuned on: library defaults "
                              "against a naive geometric schedule",
                              "benchmarks/results/generalization, .../small for --budget small"),
    "ablation": Command("ablation", "the step controls with one rule switched off, and the corrector control's "
                        "nominal values halved and doubled, on the generalization suite's cheaper problems",
                        "benchmarks/results/ablation, .../small for --budget small"),
}
"""The commands by name."""


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of ``python -m benchmarks``; only the module of the command in ``argv`` is imported."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        if argv[:1] != [name]:
            continue
        importlib.import_module(f"benchmarks.{command.module}").add_arguments(sub)
        if command.force:
            sub.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
        if command.device:
            sub.add_argument("--device", type=device, default="cpu",
                             help="torch device of the networks and points (default cpu; e.g. cuda, cuda:1)")
        sub.add_argument("--out", default=None, help=f"output folder (default {command.out})")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> Any:
    """Parse ``argv`` (default: the process's arguments) and run its command; returns what the command returns."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser_for(argv).parse_args(argv)
    return importlib.import_module(f"benchmarks.{COMMANDS[args.command].module}").main(args)


if __name__ == "__main__":
    main()
