"""Command line of the benchmarks.

``python -m benchmarks {demo,foundation,run,sweep,bratu,diagnostics,burgers,burgers-source,neural-ode,neural-ode-lab,
step-cost,generalization,branches} ...``
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="trace P1 from eps = 0.5 to 0.01 (make demo)")
    demo.add_argument("--out", default=None,
                      help="output folder (default demo-output/ in the working directory, ignored by git; "
                      "the reference run is in benchmarks/results/demo)")
    foundation = commands.add_parser(
        "foundation",
        help="P1 at eps = 0.01: homotopy against direct Adam+L-BFGS and direct LM; Jacobian timing",
    )
    foundation.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    foundation.add_argument("--adam", type=int, default=10_000, help="Adam iterations of the direct baseline")
    foundation.add_argument("--lbfgs", type=int, default=2_000, help="L-BFGS iterations after Adam")
    foundation.add_argument("--lm", type=int, default=500, help="iterations of direct LM")
    foundation.add_argument("--out", default=None, help="output folder (default benchmarks/results/foundation)")
    from .run import add_arguments as add_run_arguments

    add_run_arguments(
        commands.add_parser(
            "run",
            help="one problem (ac1d, ac2d, ac2d-time, helmholtz, fit): ours against direct LM, "
            "classical Adam+L-BFGS and the seed's strategies 1 and 2",
        )
    )
    bratu = commands.add_parser("bratu", help="P6: arclength round the fold, finite differences and networks")
    bratu.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    bratu.add_argument("--out", default=None, help="output folder (default benchmarks/results/bratu)")
    diagnostics = commands.add_parser(
        "diagnostics", help="P1 kernel spectra: eps sweep at the init (seed Fig. 4) and warm starts (seed Table 2); "
        "the Hessian after classical training, Newton against LM; AD against FD in the residual"
    )
    diagnostics.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    diagnostics.add_argument("--out", default=None, help="output folder (default benchmarks/results/diagnostics)")
    diagnostics.add_argument("--part", choices=("all", "init", "warm", "hessian", "adfd"), default="all",
                             help="init: eps sweep at the Xavier init (light); warm: the warm starts (traces); "
                             "hessian: Hessian after classical training, Newton against LM; adfd: AD against FD")
    burgers = commands.add_parser(
        "burgers", help="P5: physics-informed DeepONet for steady Burgers against finite-difference solvers"
    )
    burgers.add_argument("--nu", type=float, nargs="+", default=[0.5, 0.1, 0.05], help="target viscosities")
    burgers.add_argument("--method", nargs="+", choices=("ours", "classical", "seed-path"),
                         default=["ours", "classical"],
                         help="ours: time then viscosity homotopy; classical: LM directly at the target; "
                         "seed-path: the seed's joint homotopy (nu moves in the first half of s)")
    burgers.add_argument("--budget", choices=("full", "tiny"), default="full", help="tiny: the smoke budget")
    burgers.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    burgers.add_argument("--out", default=None, help="output folder (default benchmarks/results/burgers)")
    burgers_source = commands.add_parser(
        "burgers-source", help="Burgers with a source: physics-informed DeepONet f -> u against batched Newton"
    )
    burgers_source.add_argument("--nu", type=float, nargs="+", default=[0.5, 0.1, 0.05], help="target viscosities")
    burgers_source.add_argument("--method", nargs="+", choices=("homotopy", "direct"), default=["homotopy", "direct"],
                                help="homotopy: viscosity from 1 to the target; direct: LM at the target")
    burgers_source.add_argument("--budget", choices=("full", "sparse", "tiny"), default="full",
                                help="sparse: P5's layout, 100 sources x 8 points; tiny: the smoke budget")
    burgers_source.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    burgers_source.add_argument("--out", default=None, help="output folder (default benchmarks/results/burgers_source)")
    from .neural_ode import add_arguments as add_neural_ode_arguments

    add_neural_ode_arguments(
        commands.add_parser(
            "neural-ode",
            help="P7: neural ODE training by synchronization homotopy against plain training and multiple shooting",
        )
    )
    from .neural_ode_lab import add_arguments as add_neural_ode_lab_arguments

    add_neural_ode_lab_arguments(
        commands.add_parser(
            "neural-ode-lab",
            help="P7 on the laboratory double pendulum: black-box and second-order neural ODEs, four methods",
        )
    )
    step_cost = commands.add_parser(
        "step-cost", help="P3: the cost of one continuation step (predictor, Jacobian, LM solve) against d"
    )
    step_cost.add_argument("--d", type=int, nargs="+", default=[2, 10, 100], help="dimensions")
    step_cost.add_argument("--eps", type=float, nargs="+", default=[0.5], help="eps of the problem measured")
    step_cost.add_argument("--repeats", type=int, default=3, help="calls per piece (the median is kept)")
    step_cost.add_argument("--budget", choices=("full", "small"), default="full",
                           help="small: the smoke-test point counts of `run --budget small`")
    step_cost.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    step_cost.add_argument("--out", default=None, help="output folder (default benchmarks/results/step-cost)")
    branches = commands.add_parser(
        "branches", help="multiple solutions: branch points, branch switching and deflated continuation "
        "(Chafee-Infante on FD and networks, Bratu by deflation)"
    )
    branches.add_argument("--only", nargs="+", default=None,
                          choices=("fd-switching-neumann", "fd-switching-dirichlet", "fd-defcon-neumann",
                                   "fd-defcon-dirichlet", "network-bratu-deflation", "network-defcon-neumann",
                                   "network-defcon-dirichlet"), help="configurations to run (default: all)")
    branches.add_argument("--force", action="store_true", help="rerun configurations that have a JSON")
    branches.add_argument("--out", default=None, help="output folder (default benchmarks/results/branches)")
    from .generalization import add_arguments as add_generalization_arguments

    add_generalization_arguments(
        commands.add_parser(
            "generalization",
            help="ten problems the defaults were not tuned on: library defaults against a naive geometric schedule",
        )
    )
    from .adaptive_points import add_arguments as add_adaptive_points_arguments

    add_adaptive_points_arguments(
        commands.add_parser("adaptive-points", help="P1 with RAD points that follow the path against fixed uniform points")
    )
    from .sweep import add_arguments as add_sweep_arguments

    add_sweep_arguments(
        commands.add_parser(
            "sweep", help="the configurations of `run` over seeds, eps and methods, one Ray task each (resumable)"
        )
    )
    args = parser.parse_args(argv)
    if args.command == "adaptive-points":
        from .adaptive_points import main as adaptive_points_main

        adaptive_points_main(args)
    elif args.command == "sweep":
        from .sweep import main as sweep_main

        sweep_main(args)
    elif args.command == "demo":
        from .demo import DEFAULT_OUT, main as demo

        demo(Path(args.out) if args.out else DEFAULT_OUT)
    elif args.command == "run":
        from .run import run

        run(args)
    elif args.command == "bratu":
        from .bratu import main as bratu_main

        bratu_main(args)
    elif args.command == "diagnostics":
        from .diagnostics import main as diagnostics_main

        diagnostics_main(args)
    elif args.command == "burgers":
        from .burgers import main as burgers_main

        burgers_main(args)
    elif args.command == "burgers-source":
        from .burgers_source import main as burgers_source_main

        burgers_source_main(args)
    elif args.command == "neural-ode":
        from .neural_ode import main as neural_ode_main

        neural_ode_main(args)
    elif args.command == "neural-ode-lab":
        from .neural_ode_lab import main as neural_ode_lab_main

        neural_ode_lab_main(args)
    elif args.command == "step-cost":
        from .step_cost import main as step_cost_main

        step_cost_main(args)
    elif args.command == "branches":
        from .branches import main as branches_main

        branches_main(args)
    elif args.command == "generalization":
        from .generalization import main as generalization_main

        generalization_main(args)
    elif args.command == "foundation":
        from .foundation import main as foundation_main

        foundation_main(args)


if __name__ == "__main__":
    main()
