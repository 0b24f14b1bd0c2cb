"""P1 at eps = 0.001 with the network made odd, ``u(x) = (N(x) - N(-x)) / 2``: does building in the symmetry
that pins the interface at 0 make the 1,000-point trace robust over seeds?

Usage (from the repository root, one thread): ``python benchmarks/results/adaptive_points/odd-network-evidence/run.py``
(about five minutes). The configuration of ``uniform-1000-eps0.001`` (``python -m benchmarks adaptive-points``:
1,000 uniform points, 2,000 fresh validation points, the library defaults from eps = 0.5), seeds 0, 1 and 2, with
the 1-30-30-30-1 network ``N`` wrapped so that every weight vector gives an odd function. Writes ``rows.json``
here (one row per seed; the plain network's rows are in the folder above).
"""
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import continuation  # noqa: E402
from benchmarks import record  # noqa: E402
from models import MLP  # noqa: E402
from pde import AllenCahn1D  # noqa: E402

HERE = Path(__file__).resolve().parent
EPS = 0.001


class Odd:
    """``(N(x) - N(-x)) / 2`` for a model ``N``: odd for every weight vector, so ``u(0) = 0``."""

    def __init__(self, model):
        self.model, self.num_weights, self.dtype, self.device = model, model.num_weights, model.dtype, model.device
        self.supports_laplacian = False

    def init(self, seed):
        return self.model.init(seed=seed)

    def apply(self, theta, x):
        return (self.model.apply(theta, x) - self.model.apply(theta, -x)) / 2


def run(seed):
    model = Odd(MLP([1, 30, 30, 30, 1]))
    problem = AllenCahn1D(model, eps_min=EPS, n_points=1000)
    validation = problem.on_interior_points(problem.uniform_points(2000, seed=10_007))
    theta0 = model.init(seed)
    began = time.perf_counter()
    result = continuation.trace(problem.residual_map, theta0, [0.5, EPS], validation=validation)
    return {"seed": seed, "eps": EPS, "points": 1000, "network": "odd 1-30-30-30-1", "status": result.status.value,
            "message": result.message, "l2re": problem.l2re(result.theta, EPS),
            "interface (root farthest from 0)": problem.interface(result.theta), "accepted": result.accepted,
            "rejected": result.rejected, "corrector_iterations": result.corrector_iterations,
            "wall_s": time.perf_counter() - began}


def main():
    rows = [run(seed) for seed in (0, 1, 2)]
    (HERE / "rows.json").write_text(json.dumps({
        "command": "python benchmarks/results/adaptive_points/odd-network-evidence/run.py", "rows": rows,
        "code": record.code_version(), "machine": record.machine(), "torch": torch.__version__}, indent=1))
    for row in rows:
        print({k: v for k, v in row.items() if k != "message"})


if __name__ == "__main__":
    main()
