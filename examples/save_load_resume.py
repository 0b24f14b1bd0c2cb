"""Save a trace, load it, and resume it where it stopped.

A long trace (a small ``eps``, many points, a wide network) may not fit in
one sitting. Its callback stops it (here: after a wall-time budget, or after a
few points with ``--tiny``), ``result.save(path)`` writes it to disk with the
state the engine needs to go on, and ``TraceResult.load(path)`` and
``trace(..., resume=loaded.state)`` continue it, in this process or another:
the path is the same, bit for bit, as one uninterrupted trace's. The network
itself (architecture and weights) is saved with :func:`models.save`.

The problem is P1 of the catalogue (1D Allen-Cahn, ``eps^2 u'' + u - u^3 = 0``).

Run: ``python examples/save_load_resume.py`` (``--tiny`` for the quick check).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import continuation
import models
from pde import AllenCahn1D


def main(tiny: bool = False) -> dict:
    target = 0.1 if tiny else 0.02
    problem = AllenCahn1D(eps_min=target)
    theta0 = problem.model.init(seed=0)
    path = [0.5, target]
    options = continuation.Options(initial_iterations=30, final_iterations=20) if tiny else continuation.Options()
    folder = Path(tempfile.mkdtemp())

    # a first sitting: stop after three accepted points (tiny) or 20 seconds
    deadline = time.perf_counter() + 20.0
    stop = (lambda record, theta: record.step >= 3) if tiny else (lambda record, theta: time.perf_counter() > deadline)
    first = continuation.trace(problem.residual_map, theta0, path, options=options, callback=stop)
    first.save(folder / "trace.pt")
    print(f"first sitting: {first.status.value} at eps = {first.eps[-1]:.4g}, saved to {folder / 'trace.pt'}")

    # a second sitting (another process would do the same): load, resume, save the network
    loaded = continuation.TraceResult.load(folder / "trace.pt")
    rest = continuation.trace(problem.residual_map, loaded.theta, path, options=options, resume=loaded.state)
    models.save(folder / "network.pt", problem.model, rest.theta)
    model, theta = models.load(folder / "network.pt")
    print(f"resumed: {rest.status.value}, {rest.accepted} points in {rest.state.pieces} pieces, "
          f"L2RE {problem.l2re(theta, target):.2e} at eps = {target:g}")

    # the same trace without a break: the resumed path is the same
    whole = continuation.trace(problem.residual_map, theta0, path, options=options)
    same = torch.equal(rest.thetas, whole.thetas)
    print(f"uninterrupted trace: {whole.status.value}; same path bit for bit: {same}")
    return {"first_status": first.status.value, "status": rest.status.value, "pieces": rest.state.pieces,
            "same_path": same, "l2re": problem.l2re(theta, target), "eps": rest.eps[-1],
            "model": type(model).__name__, "weights": int(theta.numel())}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a quick run (small eps range, small budgets)")
    main(tiny=parser.parse_args().tiny)
