"""Why the Neumann network diagram missed the k = 3 pair: the kernel seeds of ``u = 0`` at eps = 0.1, fitted
three ways, and where the deflated searches from them go.

Usage (from the repository root, about 30 minutes on one thread):
``python benchmarks/results/branches/kernel-seed-evidence/run_kernel_seeds.py``. Writes ``kernel_seeds.json`` next to
this file. The diagram of ``python -m benchmarks branches --only network-defcon-neumann`` is run down to eps = 0.12
(its last value but one); its solutions there are traced to 0.1 (each deflated by those already traced, as
``deflated_continuation`` does); then, from the state of ``u = 0``:

* the near-kernel directions (their generalised singular values, and how close the first is to cos(3 pi x));
* for each fit (a fixed 10 Levenberg-Marquardt iterations: the rule before 4f31734; a fixed 100; the default, to
  within ``fit_tol`` = 1 % of the step, at most 500) and each step (0.1, 0.3 RMS): each seed's distance to its
  target ``u +- a phi``, and the solutions a search of the diagram's settings finds from it, the seven others known;
* on the 1-10-10-1 network of ``tests/test_branches.py`` (40 points, its ``u = 0`` fitted from the initialisation of
  seed 0), the Levenberg-Marquardt iterations each of the four seeds (steps 0.1, 0.3) needs to come within 1 % of the
  step of its target, checked every 10 iterations, the damping handed on, at most 1,000.
"""
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
import continuation  # noqa: E402
from benchmarks import branches as B  # noqa: E402
from benchmarks.record import write_json  # noqa: E402
from continuation import deflate, find_solutions, kernel_seeds, near_kernel, rms_distance, trace  # noqa: E402
from continuation.defcon import NO_JUMP_GUARD  # noqa: E402
from models import MLP  # noqa: E402
from pde import ChafeeInfanteNetwork  # noqa: E402

FITS = {"fixed 10 (before 4f31734)": dict(fit_iterations=10, fit_tol=1e-12),
        "fixed 100": dict(fit_iterations=100, fit_tol=1e-12),
        "default (1 % of the step, at most 500)": {}}

problem = ChafeeInfanteNetwork("neumann", model=MLP([1, 20, 20, 1]), n_points=100)
H, out = problem.residual_map, problem.outputs
generator = torch.Generator().manual_seed(1)
guesses = [problem.model.init(seed=0), problem.model.init(generator=generator)]
began = time.perf_counter()
diagram = continuation.deflated_continuation(
    H, guesses, B.EPS_VALUES[:-1], outputs=out, options=B.NETWORK_OPTIONS,
    search_iterations=B.SEARCH_ITERATIONS, search_patience=B.SEARCH_PATIENCE, polish_iterations=B.SEARCH_POLISH,
    search_every=B.SEARCH_EVERY, perturbations=0, symmetries=[problem.mirror],
    kernel_directions=B.KERNEL_DIRECTIONS, kernel_step=B.KERNEL_STEP, seed=0)
before = B.EPS_VALUES[-2]
options = B.NETWORK_OPTIONS.replace(delta_max=max(B.NETWORK_OPTIONS.delta_max, NO_JUMP_GUARD))
known: list[torch.Tensor] = []
for last in diagram.solutions_at(before):
    result = trace(deflate(H, known, normalize=last, outputs=out), last, [before, B.TARGET], options=options)
    if result.success or result.status is continuation.Status.ILL_CONDITIONED:
        known.append(result.theta.detach())
rms = lambda theta: float(out(theta).pow(2).mean().sqrt())  # noqa: E731
zero = min(known, key=rms)
others = [k for k in known if k is not zero]
x = problem.points[:, 0]
directions, values = near_kernel(H, zero, B.TARGET, count=3, outputs=out)
first = torch.func.jvp(out, (zero,), (directions[0],))[1]
record = {
    "problem": "chafee-infante neumann, network u = N(cos pi x), 1-20-20-1, 100 points",
    "command": "python benchmarks/results/branches/kernel-seed-evidence/run_kernel_seeds.py",
    "diagram_to": before, "eps": B.TARGET,
    "known_at_eps": [{"u0": float(out(k)[0]), "rms": rms(k)} for k in known],
    "near_kernel_values": [float(v) for v in values],
    "first_direction_cosine_with_cos3pix": float(torch.nn.functional.cosine_similarity(
        first, torch.cos(3 * math.pi * x), dim=0)),
    "seeds": [],
}
for fit, fit_options in FITS.items():
    for step in (0.1, 0.3):
        u = out(zero).detach()
        phi = torch.func.jvp(out, (zero,), (directions[0],))[1].detach()
        phi = phi * (step / float(rms_distance(u + phi, u)))
        seeds = kernel_seeds(H, zero, B.TARGET, step=step, outputs=out, **fit_options)
        for sign, seed in zip("+-", seeds):
            target = u + phi if sign == "+" else u - phi
            found, failed = find_solutions(H, [seed], B.TARGET, known=known, options=B.NETWORK_OPTIONS,
                                           iterations=B.SEARCH_ITERATIONS, outputs=out,
                                           polish_iterations=B.SEARCH_POLISH, patience=B.SEARCH_PATIENCE)
            row = {"fit": fit, "step": step, "sign": sign,
                   "misfit_rms": float(rms_distance(out(seed), target)),
                   "seed_residual_norm": float(torch.linalg.vector_norm(H(seed, torch.tensor(B.TARGET, dtype=torch.float64)))),
                   "found": [{"u0": float(out(r.theta)[0]), "rms": rms(r.theta), "iterations": r.iterations}
                             for r in found],
                   "failed_iterations": failed}
            print(row, flush=True)
            record["seeds"].append(row)
small = ChafeeInfanteNetwork("neumann", model=MLP([1, 10, 10, 1]), n_points=40)
eps = torch.tensor(B.TARGET, dtype=torch.float64)
theta = continuation.LevenbergMarquardt().correct(continuation.as_residual_map(lambda t, e: small.outputs(t)),
                                                  small.model.init(seed=0), eps, iterations=50, tol=1e-10).theta.detach()
(direction,), _ = near_kernel(small.residual_map, theta, B.TARGET, outputs=small.outputs)
u, phi = (value.detach() for value in torch.func.jvp(small.outputs, (theta,), (direction,)))
record["small_network_fits"] = []
for step in (0.1, 0.3):
    for sign in (1, -1):
        target = u + sign * phi * step / float(rms_distance(u + phi, u))
        misfit = continuation.as_residual_map(lambda t, e: small.outputs(t) - target)
        fitted, state, used = theta, None, 0
        while used < 1000 and float(rms_distance(small.outputs(fitted), target)) > 0.01 * step:
            report = continuation.LevenbergMarquardt().correct(misfit, fitted, eps, iterations=10, tol=0.0, state=state)
            fitted, state, used = report.theta.detach(), report.state, used + report.iterations
        record["small_network_fits"].append({"step": step, "sign": "+" if sign > 0 else "-", "iterations": used,
                                             "misfit_over_step": float(rms_distance(small.outputs(fitted), target)) / step})
print(record["small_network_fits"], flush=True)
record["wall_s"] = time.perf_counter() - began
write_json(Path(__file__).with_name("kernel_seeds.json"), record)
