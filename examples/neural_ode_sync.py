"""A neural ODE fitted by synchronization homotopy.

Fitting ``du/dt = U_theta(u)`` to a long noisy trajectory by plain
least squares is hard: the misfit is a very irregular function of theta.
Coupling the model to the data,

    du/dt = U_theta(u) - lam k (u - u_hat(t)),

with ``u_hat`` a spline through the observations, synchronizes the model
trajectory with the data for ``lam = 1`` (an easy, nearly convex fit); the
homotopy then lowers ``lam`` to 0, the original problem, following the
minimizer. Data: Lotka-Volterra predator-prey observations with 5% noise.

Run: ``python examples/neural_ode_sync.py`` (``--tiny`` for the quick check).
"""

from __future__ import annotations

import argparse

import torch

import continuation
from dynamics import SynchronizationResidual, make_data, synchronization_schedule
from models import NeuralODE


def main(tiny: bool = False) -> dict:
    data = make_data("lotka-volterra", seed=0)
    observations = 21 if tiny else data.t.shape[0]  # the first 2 time units, or all 6.1
    t, y = data.t[:observations], data.y[:observations]
    model = NeuralODE([2, 16, 2], method="rk4")  # fixed steps on the observation grid: fast, and enough here
    residual = SynchronizationResidual(model, t, y, coupling=10.0)
    theta0 = model.init(seed=0)

    lam_path = synchronization_schedule(steps=6)  # 1.0, 0.566, 0.306, 0.15, 0.056, 0.0
    iterations = 10 if tiny else 40
    options = continuation.Options(initial_iterations=iterations, corrector_iterations=iterations,
                                   final_iterations=iterations)
    # predictor "none": each lam starts from the previous weights, as in the paper (here the
    # Euler predictor's first step, -J^+ dH/dlam over 0.43 in lam, made the solve blow up)
    homotopy = continuation.trace(residual, theta0, lam_path, adaptive=False, predictor="none", options=options)

    zero = torch.tensor(0.0, dtype=torch.float64)
    start_mse, end_mse = (float(residual(theta, zero).square().sum()) for theta in (theta0, homotopy.theta))
    print(homotopy.table())
    print(f"training MSE of the uncoupled model (lam = 0): {start_mse:.2e} at the initial weights, "
          f"{end_mse:.2e} after the homotopy ({homotopy.corrector_iterations} LM iterations)")
    return {"status": homotopy.status.value, "iterations": homotopy.corrector_iterations,
            "initial_mse": start_mse, "final_mse": end_mse, "lam": homotopy.eps}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a small budget (what the test suite runs)")
    main(tiny=parser.parse_args().tiny)
