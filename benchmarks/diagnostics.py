"""Diagnostics of why plain training fails: P1 kernel spectra, AD against FD, the Hessian after training.

Parts (``--part``, default all): ``init`` and ``warm`` (this module, below),
``adfd`` (:mod:`benchmarks.diagnostics_adfd`: AD against FD derivatives in the
residual, seed ``ad-vs-fd-truncated-entropy``) and ``hessian``
(:mod:`benchmarks.diagnostics_hessian`: the Hessian at the end of classical
training and exact Newton against LM from there, seed
``exact-hessian-failure``).

``python -m benchmarks diagnostics`` writes one JSON per configuration under
``benchmarks/results/diagnostics/`` (skipped when it exists, ``--force``
reruns), a PNG plot and a markdown table ``README.md``.

Problem: P1, ``pde.AllenCahn1D(eps_min=0.01)`` with its default MLP
1-30-30-30-1 (1,951 weights) and 1,000 interior points, Xavier init with seed
0, float64. The kernel is ``K = J J^T`` (1,002 x 1,002), its eigenvalues by
:func:`continuation.kernel_spectrum` (squared singular values of ``J``).

* ``init-eps-<eps>`` (part ``init``): ``lambda_min`` and ``lambda_max`` of
  ``K`` at the Xavier init for eps in 0.5 ... 0.01. The seed's claim: the
  largest eigenvalue shrinks with eps (the ``eps^2`` Laplacian term loses
  weight), so by Weyl's inequality the upper bound on ``lambda_min``, the
  training rate of gradient descent, shrinks too.
* ``warm-from-<eps_prev>`` (part ``warm``): the seed's Table 2. ``theta`` at
  ``eps_prev`` is ``continuation.trace(problem.residual_map, theta0, [0.5,
  eps_prev])`` with the defaults (for ``eps_prev = 0.5``, where there is no
  path, the trace's own initial correction: LM with
  ``Options().initial_iterations`` at 0.5); then ``lambda_min`` of ``K`` at the
  target eps = 0.01 at that ``theta``. The Xavier row is ``init-eps-0.01``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable, Optional

import torch

import continuation
from continuation import kernel_spectrum, summarize_spectrum, truncated_entropy
from continuation.correctors import corrector_from_options
from pde import AllenCahn1D

from . import diagnostics_adfd, diagnostics_hessian, harness
from .foundation import p1_fields
from .record import cached, read_record

COMMAND = "python -m benchmarks diagnostics"
PARTS = ("init", "warm", "adfd", "hessian")
EPS_TARGET, EPS_START, SEED = 0.01, 0.5, 0
INIT_EPS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
WARM_EPS = (0.5, 0.2, 0.1, 0.05, 0.03, 0.02)
THRESHOLD = 1e-10
"""Relative threshold of the effective rank and cut-off of the truncated entropy."""


def spectrum_record(problem: AllenCahn1D, theta: torch.Tensor, eps: float) -> dict:
    """The kernel spectrum of P1 at ``(theta, eps)`` and its summary."""
    start = time.perf_counter()
    eigenvalues = kernel_spectrum(problem.residual_map, theta, eps)
    wall = time.perf_counter() - start
    summary = summarize_spectrum(eigenvalues, THRESHOLD)
    return {
        "lambda_min": summary.lambda_min,
        "lambda_max": summary.lambda_max,
        "condition": summary.condition,
        "effective_rank": summary.effective_rank,
        "kernel_size": summary.size,
        "threshold": THRESHOLD,
        "truncated_entropy": truncated_entropy(eigenvalues, THRESHOLD),
        "truncated_entropy_normalized": truncated_entropy(eigenvalues, THRESHOLD, normalized=True),
        "spectrum_wall_s": wall,
        "eigenvalues": eigenvalues.tolist(),
    }


def run_init(problem: AllenCahn1D, eps: float, command: str = COMMAND) -> dict:
    """Kernel spectrum at the Xavier init, at ``eps``."""
    theta0 = problem.model.init(seed=SEED)
    record = spectrum_record(problem, theta0, eps)
    return {
        **p1_fields(problem, "kernel spectrum at the xavier init", command, eps),
        **record,
        "wall_s": record["spectrum_wall_s"],
    }


def warm_start(problem: AllenCahn1D, eps_prev: float) -> tuple[torch.Tensor, dict]:
    """``theta`` at ``eps_prev`` as the trace from ``EPS_START`` with the defaults finds it."""
    theta0 = problem.model.init(seed=SEED)
    if eps_prev == EPS_START:
        options = continuation.Options()
        report = corrector_from_options("lm", options).correct(
            problem.residual_map, theta0, torch.tensor(EPS_START, dtype=theta0.dtype),
            iterations=options.initial_iterations, tol=options.tol,
        )
        return report.theta, {
            "how": f"the trace's initial correction: lm, {options.initial_iterations} iterations, tol {options.tol:g}",
            "status": "converged" if report.converged else "not converged",
            "message": report.message,
            "corrector_iterations": report.iterations,
        }
    result = continuation.trace(problem.residual_map, theta0, [EPS_START, eps_prev])
    return result.theta, {
        "how": f"continuation.trace(problem.residual_map, theta0, [{EPS_START:g}, {eps_prev:g}]), defaults",
        "status": result.status.value,
        "message": result.message,
        "trace": result.summary(),
    }


def run_warm(problem: AllenCahn1D, eps_prev: float, command: str = COMMAND) -> dict:
    """The seed's Table 2 entry: kernel ``lambda_min`` at the target eps from the warm start at ``eps_prev``."""
    start = time.perf_counter()
    theta, how = warm_start(problem, eps_prev)
    trace_wall = time.perf_counter() - start
    record = spectrum_record(problem, theta, EPS_TARGET)
    return {
        **p1_fields(problem, f"kernel spectrum at eps = {EPS_TARGET:g} from the solution at eps = {eps_prev:g}",
                    command, EPS_TARGET),
        "eps_prev": eps_prev,
        **how,
        "trace_wall_s": trace_wall,
        "loss_at_eps_prev": problem.loss(theta, eps_prev),
        "l2re_at_eps_prev": problem.l2re(theta, eps_prev),
        "loss_at_target": problem.loss(theta, EPS_TARGET),
        "l2re_at_target": problem.l2re(theta, EPS_TARGET),
        **record,
        "wall_s": trace_wall + record["spectrum_wall_s"],
    }


def resolution(record: dict) -> float:
    """The smallest eigenvalue of ``K`` the SVD of ``J`` resolves in float64.

    NumPy's rank tolerance for the singular values, ``s_max max(M, P) eps``
    (``eps`` the machine epsilon), squared: eigenvalues below it are rounding
    noise, not data.

    Examples
    --------
    >>> "%.1e" % resolution({"lambda_max": 1.0, "kernel_size": 1000, "weights": 2000})
    '2.0e-25'
    """
    size = max(record["kernel_size"], record["weights"])
    return record["lambda_max"] * (size * torch.finfo(torch.float64).eps) ** 2


def plot(init: dict, warm: dict, path: Path) -> None:
    """Kernel eigenvalues that float64 resolves; what lies below the resolution is marked, not drawn.

    Left: lambda_max against eps at the init, and lambda_min where resolved (else a
    down-pointing mark at the resolution: lambda_min is at most there). Middle: the leading
    eigenvalues above the resolution, the band below it shaded. Right: the effective rank at
    eps = 0.01 by initialisation (lambda_min is unresolved for every start).
    """
    with harness.figure(path, 1, 3, size=(15, 4.2), dpi=120) as (fig, ((left, middle, right),)):
        if init:
            eps = sorted(init)
            floors = [resolution(init[e]) for e in eps]
            left.loglog(eps, [init[e]["lambda_max"] for e in eps], "o-", label="lambda_max(K)")
            resolved = [(e, init[e]["lambda_min"]) for e in eps if init[e]["lambda_min"] > resolution(init[e])]
            if resolved:
                left.loglog(*zip(*resolved), "s-", label="lambda_min(K)")
            unresolved = [(e, f) for e, f in zip(eps, floors) if init[e]["lambda_min"] <= f]
            if unresolved:
                left.loglog(*zip(*unresolved), "v", mfc="none", color="C3",
                            label="lambda_min below resolution (at most this)")
            left.loglog(eps, floors, ":", color="grey", label="float64 resolution")
            floor = max(floors)
            for e in eps:
                leading = [v for v in sorted(init[e]["eigenvalues"], reverse=True)[:60] if v > resolution(init[e])]
                middle.semilogy(range(1, len(leading) + 1), leading, ".-", ms=3, label=f"eps = {e:g}")
            middle.axhspan(floor * 1e-3, floor, color="grey", alpha=0.25, lw=0,
                           label="below float64 resolution: not drawn")
            middle.axhline(THRESHOLD * max(init[e]["lambda_max"] for e in eps), color="k", ls=":", lw=0.8,
                           label=f"{THRESHOLD:g} lambda_max (effective rank)")
            middle.set_ylim(bottom=floor * 1e-3)
        left.set(xlabel="eps", ylabel="eigenvalue of K = J J^T",
                 title="P1 at the Xavier init (Chen et al. 2025, Fig. 4)")
        left.legend(fontsize=7)
        middle.set(xlabel="index (descending)", ylabel="eigenvalue of K", title="leading 60 eigenvalues at the init")
        middle.legend(fontsize=7, loc="lower left")
        labels, ranks = [], []
        if EPS_TARGET in init:
            labels.append("Xavier")
            ranks.append(init[EPS_TARGET]["effective_rank"])
        for eps_prev in sorted(warm, reverse=True):
            labels.append(f"from {eps_prev:g}")
            ranks.append(warm[eps_prev]["effective_rank"])
        if ranks:
            right.bar(range(len(ranks)), ranks)
            right.set_xticks(range(len(ranks)), labels, rotation=30, fontsize=8)
        right.set(ylabel=f"effective rank of K at eps = {EPS_TARGET:g}",
                  title="warm starts (Chen et al. 2025, Table 2)")
        right.text(0.02, 0.97, "lambda_min is below the float64\nresolution for every start",
                   transform=right.transAxes, va="top", fontsize=8)


def write_readme(init: dict, warm: dict, problem: AllenCahn1D, out: Path, sections: Iterable[str] = ()) -> str:
    """``out/README.md``: the kernel-spectrum tables (a), (b), then the lines of the other parts."""
    lines = [
        "# Diagnostics: kernel spectra, the Hessian after plain training, AD against FD",
        "",
        f"Command: `{COMMAND}` (or one part: `--part init`, `warm`, `hessian`, `adfd`). Wall times were "
        "taken on a shared 2-core machine (one thread; the load average is in each JSON). Figures: "
        "`kernel_spectra.png` (a, b), `hessian_newton.png` (c), `adfd_random_features.png` and "
        "`adfd_network.png` (d), in this folder.",
        "",
        "P1 (1D Allen-Cahn), MLP "
        f"{'-'.join(map(str, problem.model.widths))} tanh ({problem.model.num_weights} weights), "
        f"{problem.points.shape[0]} interior points + 2 boundary points, "
        f"Xavier init seed {SEED}, float64. K = J J^T ({problem.points.shape[0] + 2} x "
        f"{problem.points.shape[0] + 2}), eigenvalues as squared singular values of J. Effective rank: "
        f"eigenvalues > {THRESHOLD:g} lambda_max; truncated entropy H with the same relative cut-off "
        "(natural log, p_i = lambda_i / sum of the kept ones). One JSON per row.",
        "",
        "## (a) The kernel at the Xavier init against eps (Chen et al. 2025, Figure 4 and Theorem 4.1)",
        "",
        "| eps | lambda_min(K) | lambda_max(K) | condition | effective rank / size | H | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for eps in INIT_EPS:
        if eps in init:
            r = init[eps]
            lines.append(f"| {eps:g} | {r['lambda_min']:.3e} | {r['lambda_max']:.3e} | {r['condition']:.2e} "
                         f"| {r['effective_rank']} / {r['kernel_size']} | {r['truncated_entropy']:.3f} "
                         f"| {r['wall_s']:.1f} |")
        else:
            lines.append(f"| {eps:g} | not run | | | | | |")
    lines += [
        "",
        f"## (b) lambda_min(K) at eps = {EPS_TARGET:g} from warm starts (Chen et al. 2025, Table 2)",
        "",
        f"theta at eps_prev from `continuation.trace(problem.residual_map, theta0, [{EPS_START:g}, eps_prev])` "
        f"with the defaults (eps_prev = {EPS_START:g}: the trace's initial correction), then the kernel at "
        f"eps = {EPS_TARGET:g} at that theta. The paper (column headers lost in the text we have) reports "
        "7.38e-8 at the Xavier init, rising to 1.48e-2 for its closest warm start.",
        "",
        f"| initialisation | trace status | lambda_min(K) at {EPS_TARGET:g} | lambda_max(K) | condition "
        f"| effective rank / size | H | loss at eps_prev | loss at {EPS_TARGET:g} | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if EPS_TARGET in init:
        r = init[EPS_TARGET]
        lines.append(f"| Xavier | - | {r['lambda_min']:.3e} | {r['lambda_max']:.3e} | {r['condition']:.2e} "
                     f"| {r['effective_rank']} / {r['kernel_size']} | {r['truncated_entropy']:.3f} "
                     f"| - | {problem.loss(problem.model.init(seed=SEED), EPS_TARGET):.2e} | {r['wall_s']:.1f} |")
    for eps_prev in WARM_EPS:
        if eps_prev in warm:
            r = warm[eps_prev]
            lines.append(f"| from eps = {eps_prev:g} | {r['status']} | {r['lambda_min']:.3e} | {r['lambda_max']:.3e} "
                         f"| {r['condition']:.2e} | {r['effective_rank']} / {r['kernel_size']} "
                         f"| {r['truncated_entropy']:.3f} | {r['loss_at_eps_prev']:.2e} | {r['loss_at_target']:.2e} "
                         f"| {r['wall_s']:.1f} |")
        else:
            lines.append(f"| from eps = {eps_prev:g} | not run | | | | | | | | |")
    singular = [r for r in [*init.values(), *warm.values()] if r["lambda_min"] <= resolution(r)]
    if singular:
        lowest = min(r["lambda_min"] for r in singular)
        floor = min(resolution(r) for r in singular)
        lines += [
            "",
            f"In {len(singular)} of {len(init) + len(warm)} rows lambda_min (down to {lowest:.1e}) lies below what "
            f"the SVD of J resolves in float64 (at least {floor:.0e}: NumPy's rank tolerance s_max max(M, P) eps, "
            "squared), so lambda_min and the condition number there are rounding, not conditioning. The effective "
            "rank, the truncated entropy H and the resolved part of the spectra (plot, and the `eigenvalues` of "
            "each JSON) are the comparable quantities.",
        ]
    lines.append("")
    lines += list(sections)
    text = "\n".join(lines)
    (out / "README.md").write_text(text)
    return text


def run_all(
    problem: AllenCahn1D,
    out: Path,
    *,
    force: bool = False,
    parts: Iterable[str] = PARTS,
    init_eps: Iterable[float] = INIT_EPS,
    warm_eps: Iterable[float] = WARM_EPS,
    command: str = COMMAND,
) -> tuple[dict, dict]:
    """Compute (or load) the records of ``parts``, then the plots and the README from every record present."""
    parts = set(parts)
    init_eps, warm_eps = list(init_eps), list(warm_eps)
    if "init" in parts:
        for eps in init_eps:
            cached(out / f"init-eps-{eps:g}.json", lambda: run_init(problem, eps, command), force=force)
    if "warm" in parts:
        for eps_prev in warm_eps:
            cached(out / f"warm-from-{eps_prev:g}.json", lambda: run_warm(problem, eps_prev, command), force=force)
    if "hessian" in parts:
        diagnostics_hessian.run(out, command, force=force)
    if "adfd" in parts:
        diagnostics_adfd.run(out, command, force=force)
    init = _load(out, "init-eps", init_eps)
    warm = _load(out, "warm-from", warm_eps)
    plot(init, warm, out / "kernel_spectra.png")
    sections = [*diagnostics_hessian.report(out), *diagnostics_adfd.report(out)]
    print(write_readme(init, warm, problem, out, sections))
    return init, warm


def _load(out: Path, prefix: str, values: list[float]) -> dict:
    records = {}
    for value in values:
        path = out / f"{prefix}-{value:g}.json"
        if path.exists():
            records[value] = read_record(path)
    return records


def add_arguments(parser) -> None:
    """The options of ``python -m benchmarks diagnostics`` (``--force``, ``--out``: :mod:`benchmarks.__main__`)."""
    parser.add_argument("--part", choices=("all", *PARTS), default="all",
                        help="init: eps sweep at the Xavier init (light); warm: the warm starts (traces); "
                        "hessian: Hessian after classical training, Newton against LM; adfd: AD against FD")


def main(args) -> None:
    """Compute (or load) the records of ``--part``, then the plots and the README from every record present."""
    torch.set_num_threads(1)  # the CPU is shared: one thread, recorded in every JSON
    out = harness.out_folder(args, "diagnostics")
    out.mkdir(parents=True, exist_ok=True)
    parts: Optional[str] = getattr(args, "part", "all")
    run_all(
        AllenCahn1D(eps_min=EPS_TARGET),
        out,
        force=args.force,
        parts=PARTS if parts in (None, "all") else (parts,),
        command=COMMAND if parts in (None, "all") else f"{COMMAND} --part {parts}",
    )
