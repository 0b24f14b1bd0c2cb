"""The ``deepxde`` method of ``python -m benchmarks run ac1d``: P1 solved with DeepXDE itself.

The library PINN users reach for, in its standard recipe (Adam, then
L-BFGS), on exactly our problem: the same collocation points (DeepXDE
``anchors``), the same two boundary points, the same loss (mean squared PDE
residual plus mean squared boundary residual, which is our ``||H||^2``) and
the same initial weights (our ``MLP.init`` copied into DeepXDE's ``FNN``,
whose layers store weight and bias in our order). The trained weights are
copied back, so the run is scored by the problem's own ``l2re`` and
``interface``. DeepXDE is an optional dependency (``pip install -e .[bench]``).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np
import torch

__all__ = ["run_deepxde"]


def _import_deepxde():
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    try:
        import deepxde as dde
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("the deepxde method needs DeepXDE: pip install -e .[bench]") from exc
    if dde.backend.backend_name != "pytorch":
        raise RuntimeError(f"the deepxde method needs DeepXDE's pytorch backend, got {dde.backend.backend_name!r}")
    return dde


def _copy_into(net, model, theta: torch.Tensor) -> None:
    with torch.no_grad():
        for linear, (weight, bias) in zip(net.linears, model.unflatten(theta)):
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)


def _flatten(net) -> torch.Tensor:
    return torch.cat(
        [piece.detach().reshape(-1) for linear in net.linears for piece in (linear.weight, linear.bias)]
    ).to(torch.float64)


def run_deepxde(
    problem, theta0: torch.Tensor, eps: float, adam: int, lbfgs: int
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Train P1 at ``eps`` with DeepXDE (Adam lr 1e-3 for ``adam`` iterations, then L-BFGS for ``lbfgs``).

    Returns the trained weights as our flat vector and details for the record.
    """
    previous_dtype = torch.get_default_dtype()
    dde = _import_deepxde()
    dde.config.set_default_float("float64")  # sets torch's default dtype, restored below
    try:
        model = problem.model
        if model.activation is not torch.tanh:
            raise ValueError("the deepxde method reproduces the tanh MLP only")
        scale = math.sqrt(2.0) * eps

        def pde(x, y):
            return eps**2 * dde.grad.hessian(y, x) + y - y**3

        geometry = dde.geometry.Interval(-1.0, 1.0)
        boundary = dde.icbc.DirichletBC(
            geometry, lambda x: np.tanh(x / scale), lambda x, on_boundary: on_boundary
        )
        data = dde.data.PDE(
            geometry, pde, [boundary], num_domain=0, num_boundary=2,
            anchors=problem.points.numpy(), train_distribution="uniform",
        )
        net = dde.nn.FNN(model.widths, "tanh", "Glorot normal")
        _copy_into(net, model, theta0)
        trainer = dde.Model(data, net)
        clock = time.perf_counter()
        trainer.compile("adam", lr=1e-3)
        trainer.train(iterations=adam, display_every=max(adam // 5, 1), verbose=0)
        adam_wall = time.perf_counter() - clock
        theta_adam = _flatten(net)
        dde.optimizers.set_LBFGS_options(maxiter=lbfgs)
        trainer.compile("L-BFGS")
        trainer.train(display_every=max(lbfgs // 5, 1), verbose=0)
        theta = _flatten(net)
    finally:
        torch.set_default_dtype(previous_dtype)
    return theta, {
        "deepxde_version": dde.__version__,
        "deepxde_training_points": int(data.train_x.shape[0]),
        "after_adam": {
            "l2re": problem.l2re(theta_adam, eps), "loss": problem.loss(theta_adam, eps), "wall_s": adam_wall,
        },
        "deepxde_final_loss": float(np.sum(trainer.train_state.loss_train)),
    }
