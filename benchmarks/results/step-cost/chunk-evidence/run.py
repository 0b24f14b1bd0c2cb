"""Peak memory and time of forming P1's dense Jacobian, all points at once against chunks of points.

Usage (from the repository root, one thread): ``python benchmarks/results/step-cost/chunk-evidence/run.py WIDTH
CHUNK`` (``CHUNK``: ``none`` or a number of points), one configuration per process (the peak is the process's
own). P1 (``AllenCahn1D``, 1,000 interior points, eps = 0.05), a 1-WIDTH-WIDTH-WIDTH-1 network at its seed-0
initialisation plus 0.01; ``linearize`` is called twice (the second call is timed again, the first result still
held, as in a trace that keeps the last Jacobian), and the largest difference from the unchunked Jacobian is
recorded. Appends one row to ``rows.json`` here.
"""
import json
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
from benchmarks import record  # noqa: E402
from models import MLP  # noqa: E402
from pde import AllenCahn1D  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(width: int, chunk):
    problem = AllenCahn1D(MLP([1, width, width, width, 1]), eps_min=0.05, n_points=1000)
    theta, eps = problem.model.init(seed=0) + 0.01, torch.tensor(0.05, dtype=torch.float64)
    blocks = [b for b in problem.residual_map.blocks if hasattr(b, "chunk_size")]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    for block in blocks:
        block.chunk_size = chunk
    began = time.perf_counter()
    _, first = problem.residual_map.linearize(theta, eps)
    first_s = time.perf_counter() - began
    began = time.perf_counter()
    _, second = problem.residual_map.linearize(theta, eps)
    second_s = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    for block in blocks:
        block.chunk_size = None
    _, whole = problem.residual_map.linearize(theta, eps)
    row = {"width": width, "weights": int(theta.numel()), "points": 1000, "chunk_size": chunk,
           "jacobian_bytes": first.numel() * first.element_size(), "peak_rss_bytes_before_whole": peak,
           "rss_bytes_at_start": base, "first_s": first_s, "second_s": second_s,
           "largest_difference_from_unchunked": float((second - whole).abs().max()),
           "bitwise_equal": bool(torch.equal(second, whole)), "code": record.code_version(),
           "machine": record.machine(), "torch": torch.__version__,
           "command": f"python benchmarks/results/step-cost/chunk-evidence/run.py {width} {chunk or 'none'}"}
    path = HERE / "rows.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    rows = [r for r in rows if (r["width"], r["chunk_size"]) != (width, chunk)] + [row]
    path.write_text(json.dumps(rows, indent=1))
    print({k: v for k, v in row.items() if k not in ("machine", "code")})


if __name__ == "__main__":
    main(int(sys.argv[1]), None if sys.argv[2] == "none" else int(sys.argv[2]))
