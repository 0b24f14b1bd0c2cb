"""What a user's first mistakes, and two problems off the catalogue, get from ``trace``.

Usage (from the repository root): ``python benchmarks/results/user-probes/run_input_probes.py`` (a few minutes).

The network is the one of ``run_layer_probes.py`` (a ``torch.nn`` 1-20-20-1 tanh network called through
``torch.func.functional_call``, seed 0), the equation ``eps u'' + u' = 0`` on (0, 1) with ``u = x + x (1 - x)
N(x)`` (boundary values built in), 118 interior points of a uniform grid, the residual scaled by ``1 / sqrt(N)``.

Mistakes (each should be refused before any work with what to do):

- ``float32-points``: points from ``torch.linspace`` without a dtype (float32) in a float64 trace;
- ``column``: the residual returned as an ``(N, 1)`` column;
- ``points-follow-eps``: the points placed inside the residual by a rule in eps (``int(20 / eps)`` of them);
- ``tol-keyword``: ``trace(..., tol=1e-6)`` instead of ``options=Options(tol=1e-6)``.

And ``float32-network``: the same network and points in float32 (torch's default dtype) traced to eps = 0.2
with the defaults: where it ends, and its L2RE (measured in float64 on 5,001 points).

Problems off the catalogue, traced with the defaults:

- ``reduced-problem``: the same layer traced to ``eps = 0`` exactly (the reduced problem ``u' = 0`` at the
  points, solved by a function equal to 1 on the points with its layer squeezed between 0 and the first
  point);
- ``resonance``: ``u'' + u / eps^2 = 1``, ``u(0) = u(1) = 0`` (built in: ``u = x (1 - x) N(x)``), from eps = 1
  to 0.2, through the resonance at ``1 / eps = pi`` where the solution ``eps^2 (1 - cos(x / eps) - tan(1 / (2
  eps)) sin(x / eps))`` is unbounded; its L2RE on 2,001 points at the last four accepted eps.

Writes ``input_probes.json`` here.
"""
import math
import sys
import time
from pathlib import Path

import torch
from torch.func import functional_call, grad, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import record  # noqa: E402

HERE = Path(__file__).resolve().parent
DT = torch.float64


def network(boundary, dtype=DT):
    """``u(theta, x)`` for one point ``x`` (a 0-d tensor), with ``boundary(x, N(x))`` building in the boundary
    values, and the initial weights."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 20), torch.nn.Tanh(), torch.nn.Linear(20, 20), torch.nn.Tanh(),
                              torch.nn.Linear(20, 1)).to(dtype)
    names = [name for name, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    sizes = [p.numel() for _, p in net.named_parameters()]

    def u(theta, x):
        weights = {n: t.reshape(s) for n, t, s in zip(names, torch.split(theta, sizes), shapes)}
        return boundary(x, functional_call(net, weights, (x.reshape(1, 1),)).reshape(()))

    return u, torch.nn.utils.parameters_to_vector(net.parameters()).detach()


LAYER = network(lambda x, n: x + x * (1 - x) * n)


def layer_point(theta, x, eps):
    u = LAYER[0]
    du = grad(u, argnums=1)
    return eps * grad(du, argnums=1)(theta, x) + du(theta, x)


def layer_residual(x):
    return lambda theta, eps: vmap(layer_point, in_dims=(None, 0, None))(theta, x, eps) / math.sqrt(x.numel())


def mistake(name, residual, **keywords):
    """What ``trace`` raises for the mistake ``name`` (``None`` if it raised nothing)."""
    began = time.perf_counter()
    try:
        continuation.trace(residual, LAYER[1], [1.0, 0.05], **keywords)
        raised = None
    except Exception as exc:  # the probe records what a user would see
        raised = f"{type(exc).__name__}: {exc}"
    return {"probe": name, "raised": raised, "seconds": time.perf_counter() - began}


def points_by_rule(theta, eps):
    n = int(20 / float(eps)) + 2
    return layer_residual(torch.linspace(0, 1, n, dtype=DT)[1:-1])(theta, eps)


def float32_network():
    u32, theta32 = network(lambda x, n: x + x * (1 - x) * n, torch.float32)
    x = torch.linspace(0, 1, 120)[1:-1]

    def point(theta, y, eps):
        du = grad(u32, argnums=1)
        return eps * grad(du, argnums=1)(theta, y) + du(theta, y)

    began = time.perf_counter()
    result = continuation.trace(
        lambda theta, eps: vmap(point, in_dims=(None, 0, None))(theta, x, eps) / math.sqrt(x.numel()), theta32,
        [1.0, 0.2])
    test = torch.linspace(0, 1, 5001, dtype=DT)
    exact = -torch.expm1(-test / 0.2) / -math.expm1(-1 / 0.2)
    u64 = vmap(LAYER[0], in_dims=(None, 0))(result.theta.to(DT), test)
    return {"probe": "float32-network", "eps": result.eps[-1], "dtype": str(result.theta.dtype),
            "status": result.status.value, "message": result.message, "accepted": result.accepted,
            "wall_s": time.perf_counter() - began,
            "l2re": float(torch.linalg.norm(u64 - exact) / torch.linalg.norm(exact))}


def reduced_problem():
    x = torch.linspace(0, 1, 120, dtype=DT)[1:-1]
    began = time.perf_counter()
    result = continuation.trace(layer_residual(x), LAYER[1], [1.0, 0.0])
    u = LAYER[0]
    values = vmap(u, in_dims=(None, 0))(result.theta, x)
    return {"probe": "reduced-problem", "eps": result.eps[-1], "status": result.status.value,
            "message": result.message, "accepted": result.accepted, "rejected": result.rejected,
            "corrector_iterations": result.corrector_iterations, "wall_s": time.perf_counter() - began,
            "largest |u - 1| at the points": float((values - 1).abs().max())}


def resonance():
    u, theta0 = network(lambda x, n: x * (1 - x) * n)
    x = torch.linspace(0, 1, 102, dtype=DT)[1:-1]

    def point(theta, y, eps):
        return grad(grad(u, argnums=1), argnums=1)(theta, y) + u(theta, y) / eps**2 - 1

    def residual(theta, eps):
        return vmap(point, in_dims=(None, 0, None))(theta, x, eps) / math.sqrt(x.numel())

    def exact(y, eps):
        return eps**2 * (1 - torch.cos(y / eps) - math.tan(1 / (2 * eps)) * torch.sin(y / eps))

    began = time.perf_counter()
    result = continuation.trace(residual, theta0, [1.0, 0.2])
    wall = time.perf_counter() - began
    test = torch.linspace(0, 1, 2001, dtype=DT)
    errors = []
    for eps, theta in list(zip(result.eps, result.thetas))[-4:]:
        truth = exact(test, eps)
        errors.append([eps, float(torch.linalg.norm(vmap(u, in_dims=(None, 0))(theta, test) - truth)
                                  / torch.linalg.norm(truth))])
    near = [s for s in result.steps if 0.3 < s.eps < 0.34]
    return {"probe": "resonance", "status": result.status.value, "message": result.message,
            "accepted": result.accepted, "rejected": result.rejected,
            "corrector_iterations": result.corrector_iterations, "wall_s": wall, "l2re_at_last_eps": errors,
            "attempts between eps 0.30 and 0.34": len(near)}


def main():
    x = torch.linspace(0, 1, 120, dtype=DT)[1:-1]
    rows = [
        mistake("float32-points", layer_residual(torch.linspace(0, 1, 120)[1:-1])),
        mistake("column", lambda theta, eps: layer_residual(x)(theta, eps).reshape(-1, 1)),
        mistake("points-follow-eps", points_by_rule),
        mistake("tol-keyword", layer_residual(x), tol=1e-6),
        float32_network(),
        reduced_problem(),
        resonance(),
    ]
    record.write_json(HERE / "input_probes.json", {
        "command": "python benchmarks/results/user-probes/run_input_probes.py", "probes": rows,
        "code": record.code_version(), "machine": record.machine(), "torch": torch.__version__})
    for row in rows:
        print({k: (v[:200] + "..." if isinstance(v, str) and len(v) > 200 else v) for k, v in row.items()})


if __name__ == "__main__":
    main()
