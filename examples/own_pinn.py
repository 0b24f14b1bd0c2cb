"""Your own PINN: a ``torch.nn.Module`` traced by homotopy in ``eps``.

Reaction-diffusion with boundary layers at both ends,

    -eps u'' + u = 1 on (0, 1),   u(0) = u(1) = 0,

exact solution u = 1 - cosh((x - 1/2) / sqrt(eps)) / cosh(1 / (2 sqrt(eps))),
layers of width sqrt(eps). At eps = 1 the problem is easy; the trace follows
the solution down to the target eps.

Run: ``python examples/own_pinn.py`` (``--tiny`` for the quick check the test
suite runs).
"""

from __future__ import annotations

import argparse
import math

import torch

import continuation
import models
from pde import boundary, calculus, sampling


def exact(x: torch.Tensor, eps: float) -> torch.Tensor:
    """The exact solution at points ``(N, 1)``."""
    return 1 - torch.cosh((x[:, 0] - 0.5) / math.sqrt(eps)) / math.cosh(0.5 / math.sqrt(eps))


def main(tiny: bool = False) -> dict:
    eps_target = 1e-2 if tiny else 1e-3

    # 1. Any network, written the usual way (float64: the corrector needs the precision).
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, 20), torch.nn.Tanh(),
        torch.nn.Linear(20, 20), torch.nn.Tanh(),
        torch.nn.Linear(20, 1),
    ).double()

    # 2. Its weights as one flat vector theta, and the network as a function of theta.
    model = models.from_module(net)
    theta0 = model.init()

    def u(theta, x):  # the network at one point x of shape (1,): a scalar
        return model.apply(theta, x)[0]

    # 3. The residual of one collocation point; PointwiseResidual vmaps it and its Jacobian.
    def interior(theta, x, eps):
        u_xx = calculus.laplacian(lambda y: u(theta, y))(x)
        return -eps * u_xx + u(theta, x) - 1.0

    points = sampling.grid([0.0], [1.0], 40 if tiny else 200, interior=True)
    ends = sampling.box_boundary([0.0], [1.0], 2)
    residual = continuation.StackedResidual([
        continuation.PointwiseResidual(interior, points),
        boundary.dirichlet(u, 0.0, ends),  # u(0) = u(1) = 0, weight 1 (see the guide on boundary weights)
    ])

    # 4. Follow the path from the easy problem to the target.
    result = continuation.trace(residual, theta0, [1.0, eps_target])
    test = sampling.grid([0.0], [1.0], 1001)
    with torch.no_grad():
        error = float(torch.linalg.norm(model.apply(result.theta, test)[:, 0] - exact(test, eps_target))
                      / torch.linalg.norm(exact(test, eps_target)))
    print(result.table())
    print(f"{result.status.value}: {result.message}\nrelative L2 error at eps = {eps_target:g}: {error:.2e}")
    return {"status": result.status.value, "eps": result.eps[-1], "l2re": error, "steps": result.accepted}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a small budget (what the test suite runs)")
    main(tiny=parser.parse_args().tiny)
