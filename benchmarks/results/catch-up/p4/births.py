"""Where and when does P4's residual rise? Crest births at the ends of the interval.

Usage (from the repository root): ``python benchmarks/results/catch-up/p4/births.py`` (seconds). Reads the
committed checkpoint of the P4 damping run (``damping-run/``, the default trace to eps = 0.02, lost near 0.049)
and writes ``births.json`` here with

- every local peak of ``||H||`` along the accepted points (above 3e-3) with ``1 / eps`` there: as eps falls,
  ``sin(pi x / eps)`` gains one extremum at each end of ``[-1, 1]`` each time ``1 / eps`` passes ``k + 1/2``;
- the RMS error of the network in twenty bins of ``[-1, 1]`` at accepted points across the final rise.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root: benchmarks is not installed
import continuation  # noqa: E402
from benchmarks import harness, record  # noqa: E402
from pde import HighFrequencyFit  # noqa: E402

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "damping-run" / "fit_eps0.02_ours_seed0.checkpoint.pt"
BINS = 20


def main() -> None:
    saved = continuation.TraceResult.load(CHECKPOINT)
    norms, eps = saved.residual_norms, saved.eps
    peaks = [{"eps": eps[i], "inverse_eps": 1.0 / eps[i], "residual_norm": norms[i]}
             for i in range(1, len(norms) - 1) if norms[i - 1] < norms[i] >= norms[i + 1] and norms[i] > 3e-3]
    problem = HighFrequencyFit()
    x = problem.test_points[:, 0]
    edges = [-1.0 + 2.0 * b / BINS for b in range(BINS + 1)]
    profiles = []
    for want in (0.0520, 0.05145, 0.0509, 0.0506, 0.0503, 0.0500, 0.0497, 0.0494, 0.0491):
        i = min(range(len(eps)), key=lambda k: abs(eps[k] - want))
        error = problem.model.apply(saved.thetas[i], problem.test_points).reshape(-1) - problem.exact(
            problem.test_points, eps[i])
        rms = [float(error[(x >= lo) & ((x < hi) | (hi == 1.0))].pow(2).mean().sqrt())
               for lo, hi in zip(edges, edges[1:])]
        profiles.append({"eps": eps[i], "residual_norm": norms[i], "rms_error_by_bin": rms,
                         "end_bins_share": (rms[0] ** 2 + rms[-1] ** 2) / sum(r * r for r in rms)})
        print(f"eps {eps[i]:.5f} ||H|| {norms[i]:.2e} error in the two end bins: "
              f"{100 * profiles[-1]['end_bins_share']:.0f} %")
    for p in peaks:
        print(f"peak at eps {p['eps']:.5f}, 1/eps {p['inverse_eps']:.2f}: ||H|| {p['residual_norm']:.2e}")
    record.write_json(HERE / "births.json", harness.make_record(
        {"command": "python benchmarks/results/catch-up/p4/births.py", "problem": "P4 fit",
         "checkpoint": CHECKPOINT.relative_to(record.ROOT).as_posix()},
        {"accepted_points": len(norms), "last_eps": eps[-1]}, peaks=peaks, bin_edges=edges, profiles=profiles))


if __name__ == "__main__":
    main()
