"""Where does the flow-sign time homotopy of P2 end? The same homotopy on a finite-difference grid.

Usage (from the repository root): ``python benchmarks/results/ac2d-flow/fd-path-evidence/run_fd_path.py EPS N``.
It discretises ``s (u - u0) - (1 - s)(eps^2 Lap u + u - u^3 - f_eps) = 0`` on ``(-1, 1)^2`` with the 5-point
Laplacian on an ``N x N`` grid (boundary values ``(1 - s) u_exact + s u0``, as the network's boundary residual asks),
follows it from ``s = 1`` (``u = u0 = y``) to ``s = 0`` by natural continuation in ``s`` with Newton's method (secant
predictor; a step is accepted when Newton brings the max-norm residual below 1e-10 in at most 12 iterations, else
halved; grown x1.5 after an easy step), and compares the end with the exact solution on the grid. It also solves
the steady problem (``s = 0``) by Newton from the exact solution, which measures the grid's own error, and from the
straight interface ``tanh(y / (sqrt(2) eps))``. The forcing, the exact solution and ``u0`` are those of
``pde.AllenCahn2D``. One JSON per (EPS, N) in this folder, named ``fd_eps{EPS}_n{N}.json``.
"""
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from pde import AllenCahn2D

HERE = Path(__file__).resolve().parent
NEWTON_TOL = 1e-10
NEWTON_ITERATIONS = 12


def grid(n):
    """Grid coordinates, the (n, n, 2) points, the interior mask and the interior Laplacian (Dirichlet lifted)."""
    x = np.linspace(-1.0, 1.0, n)
    h = x[1] - x[0]
    points = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1)
    interior = np.zeros((n, n), dtype=bool)
    interior[1:-1, 1:-1] = True
    m = n - 2
    second = sp.diags([np.ones(m - 1), -2 * np.ones(m), np.ones(m - 1)], [-1, 0, 1]) / h**2
    eye = sp.identity(m)
    laplacian = (sp.kron(second, eye) + sp.kron(eye, second)).tocsc()
    return x, h, points, interior, laplacian


def field(function, points, *args):
    return function(torch.as_tensor(points), *args).numpy()


class Homotopy:
    """The discrete flow-sign time homotopy at one eps on one grid (unknowns: the interior values)."""

    def __init__(self, eps, n):
        self.eps, self.n = eps, n
        self.x, self.h, points, self.interior, self.laplacian = grid(n)
        self.exact = field(AllenCahn2D.exact, points, eps)
        self.u0 = field(AllenCahn2D.initial_state, points)
        self.f = field(AllenCahn2D.forcing, points, eps)[self.interior]

    def full(self, v, s):
        """The whole grid: interior values ``v``, boundary values ``(1 - s) u_exact + s u0``."""
        u = (1 - s) * self.exact + s * self.u0
        u[self.interior] = v
        return u

    def lift(self, s):
        """The boundary values' contribution to the 5-point Laplacian at the interior points."""
        u = self.full(np.zeros(int(self.interior.sum())), s)
        h2 = self.h**2
        lifted = np.zeros_like(u)
        lifted[1:-1, 1:-1] = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]) / h2
        return lifted[self.interior]

    def residual(self, v, s):
        u0 = self.u0[self.interior]
        steady = self.eps**2 * (self.laplacian @ v + self.lift(s)) + v - v**3 - self.f
        return s * (v - u0) - (1 - s) * steady

    def jacobian(self, v, s):
        diagonal = sp.diags(s - (1 - s) * (1 - 3 * v**2))
        return (diagonal - (1 - s) * self.eps**2 * self.laplacian).tocsc()

    def newton(self, v, s):
        for iteration in range(NEWTON_ITERATIONS + 1):
            r = self.residual(v, s)
            norm = float(np.abs(r).max())
            if not math.isfinite(norm):
                return v, False, iteration, norm
            if norm <= NEWTON_TOL:
                return v, True, iteration, norm
            if iteration == NEWTON_ITERATIONS:
                break
            v = v - spla.spsolve(self.jacobian(v, s), r)
        return v, False, NEWTON_ITERATIONS, norm

    def interface_error(self, u):
        """Largest |y-root - a sin(pi x)| over the grid's columns (roots by sign change, linear interpolation)."""
        worst = 0.0
        for i, xi in enumerate(self.x):
            column = u[i]
            change = np.nonzero(np.sign(column[:-1]) * np.sign(column[1:]) <= 0)[0]
            if change.size == 0:
                return math.nan
            for j in change:
                a, b = column[j], column[j + 1]
                y = self.x[j] if a == b else self.x[j] + (self.x[j + 1] - self.x[j]) * a / (a - b)
                worst = max(worst, abs(y - 0.25 * math.sin(math.pi * xi)))
        return worst

    def l2re(self, u):
        return float(np.linalg.norm(u - self.exact) / np.linalg.norm(self.exact))


def trace(problem):
    s, v = 1.0, problem.u0[problem.interior].copy()
    ds, previous = 0.025, None
    accepted, rejected, newton_total, smallest = 0, 0, 0, math.inf
    while s > 0:
        target = max(0.0, s - ds)
        guess = v if previous is None else v + (v - previous[1]) * (target - s) / (s - previous[0])
        w, converged, iterations, norm = problem.newton(guess, target)
        newton_total += iterations
        if not converged:
            rejected += 1
            ds /= 2
            if ds < 1e-9:
                return s, v, accepted, rejected, newton_total, smallest, f"step below 1e-9 at s = {s:.6g}"
            continue
        accepted += 1
        smallest = min(smallest, s - target)
        previous, s, v = (s, v), target, w
        if iterations <= 4:
            ds *= 1.5
    return s, v, accepted, rejected, newton_total, smallest, "reached s = 0"


def main(eps, n):
    start = time.perf_counter()
    problem = Homotopy(eps, n)
    s, v, accepted, rejected, newton_total, smallest, message = trace(problem)
    end = problem.full(v, s)
    steady = {}
    for name, guess in (("exact", problem.exact), ("straight", np.tanh(problem.u0 / (math.sqrt(2) * eps)))):
        w, converged, iterations, norm = problem.newton(guess[problem.interior].copy(), 0.0)
        u = problem.full(w, 0.0)
        steady[name] = {"converged": converged, "newton_iterations": iterations, "residual_max": norm,
                        "l2re_vs_exact": problem.l2re(u), "interface_error": problem.interface_error(u),
                        "distance_to_path_end_rms": float(np.sqrt(np.mean((u - end) ** 2)))}
    record = {
        "problem": "P2 Allen-Cahn 2D, time homotopy along the Allen-Cahn flow, finite differences",
        "eps": eps, "grid": n, "h": problem.h, "s_reached": s, "message": message,
        "steps_accepted": accepted, "steps_rejected": rejected, "smallest_step": smallest,
        "newton_iterations": newton_total,
        "path_end": {"l2re_vs_exact": problem.l2re(end), "interface_error": problem.interface_error(end)},
        "steady_newton_from": steady,
        "wall_s": time.perf_counter() - start,
        "numpy": np.__version__, "scipy": scipy.__version__, "torch": torch.__version__,
        "command": f"python benchmarks/results/ac2d-flow/fd-path-evidence/run_fd_path.py {eps} {n}",
    }
    out = HERE / f"fd_eps{eps}_n{n}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]))
