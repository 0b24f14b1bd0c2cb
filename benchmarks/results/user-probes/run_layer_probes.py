"""A boundary layer written as a user would write it, for what the library says about it.

Usage (from the repository root): ``python benchmarks/results/user-probes/run_layer_probes.py`` (about a minute).

``eps u'' + u' = 0`` on (0, 1), ``u(0) = 0``, ``u(1) = 1`` (exact solution ``(1 - exp(-x / eps)) / (1 - exp(-1 /
eps))``, a layer of width eps at x = 0), the boundary values built in (``u = x + x (1 - x) N(x)``), a ``torch.nn``
network 1-20-20-1 (tanh, float64, seed 0) called through ``torch.func.functional_call``, N - 2 interior points of
a uniform grid, traced from eps = 1 with the defaults. Probes:

- ``autograd``: ``u'`` and ``u''`` taken as many PINN tutorials do, with ``torch.autograd.grad`` on points that
  ``requires_grad_``: what ``trace`` raises.
- ``fit``: fitting the network to the exact layer at the interior points, the target written with
  ``math.exp(-1 / eps)`` in its denominator (what ``trace`` warns, and where the trace ends), and with
  ``torch.exp``.
- ``func``: the same residual with ``torch.func.grad``, one point at a time (``PointwiseResidual``), to eps =
  0.02 and 0.005 on 120 points, without and with a validation residual (the same block at the midpoints), and
  to 0.005 on 1,000 points.

The L2RE is measured on 5,001 points of [0, 1]. Writes ``layer_probes.json`` here.
"""
import math
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.func import functional_call, grad, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import record  # noqa: E402

HERE = Path(__file__).resolve().parent
DT = torch.float64


def network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 20), torch.nn.Tanh(), torch.nn.Linear(20, 20), torch.nn.Tanh(),
                              torch.nn.Linear(20, 1)).to(DT)
    names = [name for name, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    sizes = [p.numel() for _, p in net.named_parameters()]

    def u(theta, x):  # x: a 0-d tensor
        weights = {n: t.reshape(s) for n, t, s in zip(names, torch.split(theta, sizes), shapes)}
        return x + x * (1 - x) * functional_call(net, weights, (x.reshape(1, 1),)).reshape(())

    return u, torch.cat([p.detach().reshape(-1) for p in net.parameters()])


def exact(x, eps):
    return -torch.expm1(-x / eps) / -math.expm1(-1 / eps)


def l2re(u, theta, eps):
    x = torch.linspace(0, 1, 5001, dtype=DT)
    return float(torch.linalg.norm(vmap(u, in_dims=(None, 0))(theta, x) - exact(x, eps)) / torch.linalg.norm(exact(x, eps)))


def autograd_probe():
    u, theta0 = network()
    x = torch.linspace(0, 1, 120, dtype=DT)[1:-1]

    def residual(theta, eps):
        xx = x.clone().requires_grad_(True)
        uu = vmap(u, in_dims=(None, 0))(theta, xx)
        du = torch.autograd.grad(uu.sum(), xx, create_graph=True)[0]
        d2u = torch.autograd.grad(du.sum(), xx, create_graph=True)[0]
        return eps * d2u + du

    try:
        continuation.trace(residual, theta0, [1.0, 0.02])
    except Exception as exc:
        return {"probe": "autograd", "raised": f"{type(exc).__name__}: {exc}"}
    return {"probe": "autograd", "raised": None}


def math_probe(written_with):
    u, theta0 = network()
    x = torch.linspace(0, 1, 120, dtype=DT)[1:-1]
    exp = math.exp if written_with == "math" else torch.exp

    def residual(theta, eps):
        return vmap(u, in_dims=(None, 0))(theta, x) - (1 - torch.exp(-x / eps)) / (1 - exp(-1 / eps))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = continuation.trace(residual, theta0, [1.0, 0.02])
    return {"probe": f"fit, written with {written_with}.exp", "eps": 0.02, "points": 118, "status": result.status.value,
            "l2re": l2re(u, result.theta, 0.02),
            "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]}


def func_probe(eps_target, points, validate):
    u, theta0 = network()

    def interior(theta, point, eps):
        du = grad(u, argnums=1)
        return eps * grad(du, argnums=1)(theta, point[0]) + du(theta, point[0])

    grid = torch.linspace(0, 1, points, dtype=DT)
    residual = continuation.PointwiseResidual(interior, grid[1:-1, None])
    validation = residual.with_points(((grid[1:] + grid[:-1]) / 2)[:, None]) if validate else None
    began = time.perf_counter()
    result = continuation.trace(residual, theta0, [1.0, eps_target], validation=validation)
    return {"probe": "func", "eps": eps_target, "points": points, "validation": validate,
            "status": result.status.value, "message": result.message, "l2re": l2re(u, result.theta, eps_target),
            "accepted": result.accepted, "rejected": result.rejected, "wall_s": time.perf_counter() - began}


def main():
    rows = [autograd_probe(), math_probe("math"), math_probe("torch"), func_probe(0.02, 120, False), func_probe(0.005, 120, False),
            func_probe(0.005, 120, True), func_probe(0.005, 1000, False)]
    record.write_json(HERE / "layer_probes.json", {
        "command": "python benchmarks/results/user-probes/run_layer_probes.py", "probes": rows,
        "code": record.code_version(), "machine": record.machine(), "torch": torch.__version__})
    for row in rows:
        print({k: (v[:160] + "..." if isinstance(v, str) and len(v) > 160 else v) for k, v in row.items()})


if __name__ == "__main__":
    main()
