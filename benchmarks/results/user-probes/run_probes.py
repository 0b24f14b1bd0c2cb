"""Problems written as a user would write them, for what the library says about them.

Usage (from the repository root): ``python benchmarks/results/user-probes/run_probes.py`` (about a minute).

Reaction-diffusion ``-eps u'' + u = 1`` on (0, 1), ``u(0) = u(1) = 0`` (exact solution
``1 - cosh((x - 1/2) / sqrt(eps)) / cosh(1 / (2 sqrt(eps)))``), traced from eps = 1 as ``docs/guide.md`` does,
with ``torch.nn`` networks 1-20-20-1 (seed 0) and 100 interior grid points:

- ``relu``: a ReLU network in float64 with a Dirichlet block, to eps = 1e-3. Its second derivative is zero, so
  the residual does not depend on eps; the record keeps the warnings ``trace`` gave, its status and the L2RE.
- ``float32``: a tanh network in float32 with the boundary values built in (``u = x (1 - x) N(x)``) and
  ``Options(tol=1e-4)``, to eps = 1e-2: the residual has Python floats in it (``u - 1.0``), whose forward-mode
  tangent torch promotes to float64 (pytorch/pytorch#90065).

Writes ``probes.json`` in this folder.
"""
import importlib.util
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
import models  # noqa: E402
from benchmarks import record  # noqa: E402
from pde import boundary, calculus, sampling  # noqa: E402

HERE = Path(__file__).resolve().parent


def guide_example():
    """``examples/own_pinn.py``, the guide's script for the same problem (its exact solution)."""
    spec = importlib.util.spec_from_file_location("own_pinn", HERE.parents[2] / "examples" / "own_pinn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def network(activation, dtype):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 20), activation(), torch.nn.Linear(20, 20), activation(),
                              torch.nn.Linear(20, 1)).to(dtype)
    return models.from_module(net)


def probe(name, activation, dtype, eps_target, hard, options=None):
    model = network(activation, dtype)
    if hard:
        def u(theta, x):
            return x[0] * (1.0 - x[0]) * model.apply(theta, x)[0]
    else:
        def u(theta, x):
            return model.apply(theta, x)[0]

    def interior(theta, x, eps):
        return -eps * calculus.laplacian(lambda y: u(theta, y))(x) + u(theta, x) - 1.0

    points = sampling.grid([0.0], [1.0], 100, interior=True).to(dtype)
    blocks = [continuation.PointwiseResidual(interior, points)]
    if not hard:
        blocks.append(boundary.dirichlet(u, 0.0, sampling.box_boundary([0.0], [1.0], 2).to(dtype)))
    residual = continuation.StackedResidual(blocks)
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = continuation.trace(residual, model.init(), [1.0, eps_target], options=options)
        except Exception as exc:  # what a user would see
            return {"probe": name, "raised": f"{type(exc).__name__}: {exc}"}
    test = sampling.grid([0.0], [1.0], 1001).to(dtype)
    with torch.no_grad():
        predicted = torch.vmap(lambda x: u(result.theta, x))(test)
    reference = guide_example().exact(test, eps_target)
    return {"probe": name, "eps": eps_target, "dtype": str(dtype), "status": result.status.value,
            "message": result.message, "thetas_dtype": str(result.thetas.dtype),
            "l2re": float(torch.linalg.norm(predicted - reference) / torch.linalg.norm(reference)),
            "accepted": result.accepted, "wall_s": time.perf_counter() - began,
            "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]}


def main():
    rows = [probe("relu", torch.nn.ReLU, torch.float64, 1e-3, hard=False),
            probe("float32", torch.nn.Tanh, torch.float32, 1e-2, hard=True, options=continuation.Options(tol=1e-4))]
    record.write_json(HERE / "probes.json", {"command": "python benchmarks/results/user-probes/run_probes.py",
                                             "probes": rows, "code": record.code_version(),
                                             "machine": record.machine()})
    for row in rows:
        print({k: row[k] for k in row if k != "message"})


if __name__ == "__main__":
    main()
