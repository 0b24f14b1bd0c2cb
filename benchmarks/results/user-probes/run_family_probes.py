"""Four problems of the family that the catalogue does not hold, written as a user would, traced with the defaults.

Usage (from the repository root): ``python benchmarks/results/user-probes/run_family_probes.py [NAME ...]``
(names: ``corner``, ``system``, ``peclet``, ``eigen``; all by default; a few minutes on one thread).

- ``corner``: 2D convection-diffusion ``-eps Lap u + u_x + u_y = g(x) + g(y)`` on the unit square, zero boundary
  values built in, exact solution ``g(x) g(y)`` with ``g(t) = t - (exp((t - 1) / eps) - exp(-1 / eps)) / (1 -
  exp(-1 / eps))``: outflow layers of width eps along x = 1 and y = 1, meeting in a corner. Grid points, midpoints
  as validation, eps 1 -> 0.05.
- ``system``: a coupled pair, ``-eps^2 u'' + 2 u - v = f``, ``-v'' + v - u = h`` on (0, 1), manufactured from
  ``u = 1 - L``, ``v = x (1 - L)``, ``L = (exp(-x / eps) + exp((x - 1) / eps)) / (1 + exp(-1 / eps))`` (layers of
  width eps at both ends in both components), one network with two outputs, eps 1 -> 0.02.
- ``peclet``: ``u'' = Pe u'``, ``u(0) = 0``, ``u(1) = 1``, traced in the Peclet number from 1 up to 100 (the
  parameter grows, the layer at x = 1 narrows as 1 / Pe).
- ``eigen``: the ground state of ``-u'' + (x / eps)^2 u = lam u`` on (-1, 1), ``u(+-1) = 0``, ``mean(u^2) = 1/2``:
  the weights and the eigenvalue together in theta, eps 1 -> 0.05 (the state narrows to a Gaussian of width
  sqrt(eps)); the reference from a finite-difference eigensolver on 4,001 points.

Each row: status, message, L2RE on a fine test set, steps, wall time. Writes ``family_probes.json`` here
(the rows of the names run, merged into what is there).
"""
import json
import math
import sys
import time
from pathlib import Path

import torch
from torch.func import grad, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
import models  # noqa: E402
from benchmarks import record  # noqa: E402
from pde import calculus, sampling  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "family_probes.json"
DT = torch.float64


def tanh_network(inputs, outputs, width=20):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(inputs, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
                              torch.nn.Tanh(), torch.nn.Linear(width, outputs)).to(DT)
    return models.from_module(net)


def relative_error(approx, exact):
    return float(torch.linalg.norm(approx - exact) / torch.linalg.norm(exact))


def on_unit_interval(interior, points, fresh):
    """``interior`` at ``points`` interior grid points of (0, 1), and the same block at ``fresh`` others (validation)."""
    residual = continuation.PointwiseResidual(interior, sampling.grid([0.0], [1.0], points, interior=True))
    return residual, residual.with_points(sampling.grid([0.0], [1.0], fresh, interior=True))


def run(name, residual, theta0, path, validation=None):
    began = time.perf_counter()
    result = continuation.trace(residual, theta0, path, validation=validation)
    return result, {"probe": name, "path": list(path), "status": result.status.value, "message": result.message,
                    "reached": result.eps[-1], "accepted": result.accepted, "rejected": result.rejected,
                    "corrector_iterations": sum(s.iterations for s in result.steps),
                    "weights": int(theta0.numel()), "wall_s": time.perf_counter() - began}


def corner():
    model = tanh_network(2, 1)

    def g(t, eps):
        eps = torch.as_tensor(eps, dtype=DT)
        return t - (torch.exp((t - 1) / eps) - torch.exp(-1 / eps)) / -torch.expm1(-1 / eps)

    def u(theta, p):  # p: (2,)
        return p[0] * (1 - p[0]) * p[1] * (1 - p[1]) * model.apply(theta, p)[0]

    def interior(theta, p, eps):
        first = grad(u, argnums=1)(theta, p)
        return -eps * calculus.laplacian(lambda q: u(theta, q))(p) + first[0] + first[1] - g(p[0], eps) - g(p[1], eps)

    n = 40
    points = sampling.grid([0.0, 0.0], [1.0, 1.0], n, interior=True)
    mid = (torch.arange(n, dtype=DT) + 0.5) / n
    midpoints = torch.cartesian_prod(mid, mid)
    residual = continuation.PointwiseResidual(interior, points)
    result, row = run("corner", residual, model.init(), [1.0, 0.05], validation=residual.with_points(midpoints))
    test = sampling.grid([0.0, 0.0], [1.0, 1.0], 201)
    eps = result.eps[-1]
    row["l2re"] = relative_error(vmap(u, in_dims=(None, 0))(result.theta, test), g(test[:, 0], eps) * g(test[:, 1], eps))
    row["points"] = int(points.shape[0])
    return row


def layer(x, eps):  # torch.exp on eps, also in the denominator: math.exp would cut eps from the autograd graph
    eps = torch.as_tensor(eps, dtype=DT)
    return (torch.exp(-x / eps) + torch.exp((x - 1) / eps)) / (1 + torch.exp(-1 / eps))


def system():
    model = tanh_network(1, 2)

    def exact(x, eps):  # x: 0-d
        return torch.stack([1 - layer(x, eps), x * (1 - layer(x, eps))])

    def net(theta, x):  # both components, zero at both ends
        return x * (1 - x) * model.apply(theta, x.reshape(1))

    def equations(w, x, eps):  # w(x): the pair as a function of a 0-d x
        first = torch.func.jacfwd(w)
        second = torch.func.jacfwd(first)(x)
        values = w(x)
        return torch.stack([-eps ** 2 * second[0] + 2 * values[0] - values[1], -second[1] + values[1] - values[0]])

    def interior(theta, p, eps):
        x = p[0]
        return equations(lambda y: net(theta, y), x, eps) - equations(lambda y: exact(y, eps), x, eps)

    residual, validation = on_unit_interval(interior, 200, 1001)
    result, row = run("system", residual, model.init(), [1.0, 0.02], validation=validation)
    test = torch.linspace(0, 1, 5001, dtype=DT)
    eps = result.eps[-1]
    approx = vmap(net, in_dims=(None, 0))(result.theta, test)
    reference = vmap(exact, in_dims=(0, None))(test, eps)
    row["l2re"] = relative_error(approx, reference)
    row["l2re_u"] = relative_error(approx[:, 0], reference[:, 0])
    row["l2re_v"] = relative_error(approx[:, 1], reference[:, 1])
    row["points"] = int(residual.points.shape[0])
    return row


def peclet():
    model = tanh_network(1, 1)

    def u(theta, x):  # 0-d x; u(0) = 0, u(1) = 1 built in
        return x + x * (1 - x) * model.apply(theta, x.reshape(1))[0]

    def interior(theta, p, pe):
        du = grad(u, argnums=1)
        return grad(du, argnums=1)(theta, p[0]) / pe - du(theta, p[0])

    residual, validation = on_unit_interval(interior, 400, 2001)
    result, row = run("peclet", residual, model.init(), [1.0, 100.0], validation=validation)
    test = torch.linspace(0, 1, 5001, dtype=DT)
    pe = result.eps[-1]
    exact = torch.expm1(pe * (test - 1)) / -math.expm1(-pe) + 1  # (exp(pe x) - 1) / (exp(pe) - 1)
    row["l2re"] = relative_error(vmap(u, in_dims=(None, 0))(result.theta, test), exact)
    row["points"] = int(residual.points.shape[0])
    return row


def ground_state(eps, n=4001):
    """The finite-difference ground state on ``n`` points of [-1, 1] (ends included), and its eigenvalue."""
    x = torch.linspace(-1, 1, n, dtype=DT)
    h = float(x[1] - x[0])
    inner = x[1:-1]
    matrix = (torch.diag(2 / h ** 2 + (inner / eps) ** 2) - torch.diag(torch.full((n - 3,), 1 / h ** 2, dtype=DT), 1)
              - torch.diag(torch.full((n - 3,), 1 / h ** 2, dtype=DT), -1))
    values, vectors = torch.linalg.eigh(matrix)
    state = torch.cat([torch.zeros(1, dtype=DT), vectors[:, 0], torch.zeros(1, dtype=DT)])
    state = state * torch.sign(state[n // 2]) / torch.sqrt(torch.mean(state ** 2) * 2 * (n - 1) / n)
    return x, state, float(values[0])


def eigen():
    model = tanh_network(1, 1)
    size = model.num_weights

    def u(theta, x):  # 0-d x; u(+-1) = 0 built in
        return (1 - x ** 2) * model.apply(theta[:size], x.reshape(1))[0]

    def interior(theta, p, eps):
        x = p[0]
        second = grad(grad(u, argnums=1), argnums=1)(theta, x)
        return -second + (x / eps) ** 2 * u(theta, x) - theta[size] * u(theta, x)

    points = sampling.grid([-1.0], [1.0], 300, interior=True)
    quadrature = sampling.grid([-1.0], [1.0], 301)

    def normalisation(theta, eps):  # mean of u^2 on [-1, 1] (trapezoid) = 1 / 2: one row
        values = vmap(u, in_dims=(None, 0))(theta, quadrature[:, 0]) ** 2
        return (torch.trapezoid(values, quadrature[:, 0]) / 2 - 0.5).reshape(1)

    pointwise = continuation.PointwiseResidual(interior, points)
    residual = continuation.StackedResidual([pointwise, normalisation])
    # A start the corrector can reach: the net fitted to the eps = 1 ground state, lam from its Rayleigh quotient.
    x_ref, state, lam1 = ground_state(1.0)
    weights = model.init()
    misfit = continuation.FunctionResidual(
        lambda th, eps: vmap(u, in_dims=(None, 0))(torch.cat([th, torch.zeros(1, dtype=DT)]), x_ref[::20]) - state[::20])
    fit = continuation.LevenbergMarquardt().correct(misfit, weights, torch.tensor(1.0, dtype=DT), iterations=200, tol=1e-6)
    theta0 = torch.cat([fit.theta, torch.tensor([lam1 * 0.9], dtype=DT)])  # lam off by 10 %: the corrector finds it
    fresh = sampling.grid([-1.0], [1.0], 1501, interior=True)
    validation = continuation.StackedResidual([pointwise.with_points(fresh), normalisation])
    result, row = run("eigen", residual, theta0, [1.0, 0.05], validation=validation)
    eps = result.eps[-1]
    x_ref, state, lam = ground_state(eps)
    approx = vmap(u, in_dims=(None, 0))(result.theta, x_ref)
    row["l2re"] = relative_error(approx, state)
    row["eigenvalue"] = float(result.theta[size])
    row["eigenvalue_reference"] = lam
    row["eigenvalue_relative_error"] = abs(float(result.theta[size]) - lam) / lam
    row["points"] = int(points.shape[0])
    return row


PROBES = {"corner": corner, "system": system, "peclet": peclet, "eigen": eigen}


def main(names):
    rows = json.loads(OUT.read_text())["probes"] if OUT.exists() else []
    for name in names:
        row = PROBES[name]()
        row["code"] = record.code_version()
        rows = [r for r in rows if r["probe"] != name] + [row]
        print({k: (v[:300] + "..." if isinstance(v, str) and len(v) > 300 else v) for k, v in row.items()}, flush=True)
        record.write_json(OUT, {"command": "python benchmarks/results/user-probes/run_family_probes.py", "probes": rows,
                                "machine": record.machine(), "torch": torch.__version__})


if __name__ == "__main__":
    main(sys.argv[1:] or list(PROBES))
