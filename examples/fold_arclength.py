"""Round a fold with pseudo-arclength continuation (``method="arclength"``).

The Bratu problem ``u'' + lam e^u = 0`` on (0, 1), ``u(0) = u(1) = 0``, on a
finite-difference grid: solutions exist for ``lam`` up to the fold
``lam_c = 3.5138307...`` and there the lower branch turns back into the
upper one. Continuation in ``lam`` (``method="natural"``) stalls at the fold;
pseudo-arclength continuation steps along the curve of ``(u, lam)``, goes
round it, and reports where the fold is in ``result.events``.

The residual is a plain function of the state and the parameter; its
Jacobians come from :mod:`torch.func`.

Run: ``python examples/fold_arclength.py`` (``--tiny`` for the quick check).
"""

from __future__ import annotations

import argparse

import torch

import continuation
from pde import LAMBDA_CRITICAL


def main(tiny: bool = False) -> dict:
    n = 30 if tiny else 200
    h = 1.0 / (n + 1)

    def bratu(u, lam):  # second differences with u = 0 at both ends, plus lam e^u
        padded = torch.nn.functional.pad(u, (1, 1))
        return (padded[:-2] - 2 * padded[1:-1] + padded[2:]) / h**2 + lam * torch.exp(u)

    u0 = torch.zeros(n, dtype=torch.float64)
    options = continuation.Options(rcond=1e-12, tol=1e-9, ds_max=0.5, max_arclength=8.0)

    natural = continuation.trace(bratu, u0, [0.5, 4.0], options=options)
    print(f"natural:   {natural.status.value} at lam = {natural.eps[-1]:.4f} ({natural.message})")

    arclength = continuation.trace(bratu, u0, [0.5, 4.0], method="arclength", options=options)
    folds = [event.eps for event in arclength.events if event.kind == "fold"]
    midpoint = [float(theta[n // 2]) for theta in arclength.thetas]
    print(f"arclength: {arclength.status.value} ({arclength.message}); {arclength.accepted} steps")
    print(f"fold at lam = {folds[0]:.7f}, exact {LAMBDA_CRITICAL:.7f} "
          f"(relative error {abs(folds[0] - LAMBDA_CRITICAL) / LAMBDA_CRITICAL:.1e}, the grid's O(h^2))")
    print(f"u(1/2) went from {midpoint[0]:.3f} to {max(midpoint):.3f} and the path ended at lam = "
          f"{arclength.eps[-1]:.3f} on the upper branch")
    return {"natural_status": natural.status.value, "natural_last_eps": natural.eps[-1], "folds": folds,
            "upper_midpoint": max(midpoint), "arclength_last_eps": arclength.eps[-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a small budget (what the test suite runs)")
    main(tiny=parser.parse_args().tiny)
