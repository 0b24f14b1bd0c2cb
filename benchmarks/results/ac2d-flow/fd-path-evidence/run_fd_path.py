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


class PathFollower:
    """Natural continuation in s along the discrete homotopy, from s = 1 (``u = u0``) down to any target, resumable.

    A step is accepted when Newton converges from the secant prediction (the previous two points), else halved;
    grown x1.5 after an easy step (at most 4 Newton iterations). :meth:`continue_to` may be called again with a
    smaller target: the path and the step carry on from where the last call stopped.
    """

    def __init__(self, problem, ds=0.025):
        self.problem = problem
        self.s, self.v, self.previous, self.ds = 1.0, problem.u0[problem.interior].copy(), None, ds
        self.accepted, self.rejected, self.newton_iterations, self.smallest = 0, 0, 0, math.inf

    def continue_to(self, target):
        """The grid function at ``s = target``; ``RuntimeError`` if the step falls below 1e-9 on the way."""
        while self.s > target:
            s = max(target, self.s - self.ds)
            guess = self.v if self.previous is None else \
                self.v + (self.v - self.previous[1]) * (s - self.s) / (self.s - self.previous[0])
            v, converged, iterations, _ = self.problem.newton(guess, s)
            self.newton_iterations += iterations
            if not converged:
                self.rejected += 1
                self.ds /= 2
                if self.ds < 1e-9:
                    raise RuntimeError(f"step below 1e-9 at s = {self.s:.6g}")
                continue
            self.accepted += 1
            self.smallest = min(self.smallest, self.s - s)
            self.previous, self.s, self.v = (self.s, self.v), s, v
            if iterations <= 4:
                self.ds *= 1.5
        return self.problem.full(self.v, self.s)


def main(eps, n):
    start = time.perf_counter()
    problem = Homotopy(eps, n)
    path = PathFollower(problem)
    try:
        end, message = path.continue_to(0.0), "reached s = 0"
    except RuntimeError as stall:
        end, message = problem.full(path.v, path.s), str(stall)
    steady = {}
    for name, guess in (("exact", problem.exact), ("straight", np.tanh(problem.u0 / (math.sqrt(2) * eps)))):
        w, converged, iterations, norm = problem.newton(guess[problem.interior].copy(), 0.0)
        u = problem.full(w, 0.0)
        steady[name] = {"converged": converged, "newton_iterations": iterations, "residual_max": norm,
                        "l2re_vs_exact": problem.l2re(u), "interface_error": problem.interface_error(u),
                        "distance_to_path_end_rms": float(np.sqrt(np.mean((u - end) ** 2)))}
    record = {
        "problem": "P2 Allen-Cahn 2D, time homotopy along the Allen-Cahn flow, finite differences",
        "eps": eps, "grid": n, "h": problem.h, "s_reached": path.s, "message": message,
        "steps_accepted": path.accepted, "steps_rejected": path.rejected, "smallest_step": path.smallest,
        "newton_iterations": path.newton_iterations,
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
