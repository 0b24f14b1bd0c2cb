"""AD against FD in the residual (Chen, Yang, Xiang, Hao, J. Sci. Comput. 2025).

Command: ``python -m benchmarks diagnostics --part adfd``.

Problem: ``pde.Poisson1D``, ``u'' = -pi^2 sin(pi x)`` on ``(-1, 1)``,
``u(+-1) = 0``, exact ``u = sin(pi x)``; ``N`` uniform interior points and the
two end points, each block scaled by ``1/sqrt(count)``. ``u''`` by autograd
(AD) or by the central difference with the grid step ``h = 2 / (N + 1)``
(FD: the stencil of a point is its two neighbours).

* ``adfd-rfm-<activation>-M<M>-R<R>``: the random feature model
  ``u = sum_m a_m sigma(w_m x + b_m)``, ``w_m, b_m ~ U(-R, R)`` frozen
  (``models.RandomFeatures``), ``N = M`` interior points. The residual is
  linear in ``a``: its Jacobian is the feature matrix ``A`` (``(M + 2) x M``)
  and its value at ``a = 0`` is ``-f``. Singular values of ``A_AD`` and
  ``A_FD``; truncated entropy ``H_A(1e-12)`` and effective cut-off number
  ``e_A(1e-12)`` (relative cut-off); the relative training error
  ``||A a_k - f|| / ||f||`` of the truncated-SVD solve for every truncation
  position ``k`` (:func:`continuation.truncated_svd_residuals`), and at
  ``k = e_A(1e-12)``.
* ``adfd-net-<derivative>-N<N>``: the two-layer network ``MLP([1, 100, 1])``,
  tanh, Xavier init seed 0, trained by plain gradient descent (fixed
  learning rate) on ``||H||^2 / 2`` with the AD or the FD residual. Kernel
  ``G = J J^T`` at the init and at the end: eigenvalues, ``H_G(1e-5)``,
  ``e_G(1e-5)``; training curves of the relative PDE residual
  ``||u'' - f|| / ||f||`` (``u''`` as that run computes it, and by AD for
  both), the loss ``||H||^2`` and the L2RE.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch.func import grad

from continuation import (
    effective_cutoff_number,
    kernel_spectrum,
    truncated_entropy,
    truncated_svd_residuals,
)
from models import MLP, RandomFeatures
from pde import Poisson1D

from . import harness
from .record import cached, read_record

RFM_CUTOFF = 1e-12
"""The seed's cut-off of the random-feature singular values, ``e_A(1e-12)``."""
KERNEL_CUTOFF = 1e-5
"""The seed's cut-off of the kernel eigenvalues, ``e_G(1e-5)``."""
RFM_SCALE = 10.0
RFM_MAIN = ("sin", 100, RFM_SCALE)
"""The seed's Figure 2(a) setting: sin features, M = N = 100."""
RFM_SETTINGS = (
    *[("sin", m, RFM_SCALE) for m in (25, 50, 100, 200, 400)],
    ("tanh", 300, RFM_SCALE),
    ("sin", 100, 30.0),
)
"""(activation, M = N, R): the M sweep of the seed's Figure 1, its Figure 2(b) (tanh, 300), a wider draw."""
NET_WIDTH, NET_SEED = 100, 0
NET_LR, NET_ITERATIONS, NET_RECORD_EVERY = 1e-2, 20_000, 100
NET_SETTINGS = (("ad", 100), ("fd", 100), ("ad", 25), ("fd", 25))
"""(derivative, N) of the network runs."""
ZERO = torch.tensor(0.0, dtype=torch.float64)


def rfm_name(activation: str, features: int, scale: float) -> str:
    return f"adfd-rfm-{activation}-M{features}-R{scale:g}"


def net_name(derivative: str, n_points: int) -> str:
    return f"adfd-net-{derivative}-N{n_points}"


def _spectrum_entry(values: torch.Tensor, cutoff: float) -> dict:
    return {
        "effective_cutoff_number": effective_cutoff_number(values, cutoff),
        "truncated_entropy": truncated_entropy(values, cutoff),
        "truncated_entropy_normalized": truncated_entropy(values, cutoff, normalized=True),
    }


def run_rfm(activation: str, features: int, scale: float, command: str) -> dict:
    """Singular values, truncated entropy and truncated-SVD training error of ``A_AD`` and ``A_FD``."""
    start = time.perf_counter()
    model = RandomFeatures(1, features, activation, scale=scale, seed=0)
    record = {
        "problem": "poisson 1d, u'' = -pi^2 sin(pi x), u(+-1) = 0",
        "method": "random feature model, truncated svd",
        "activation": activation,
        "features": features,
        "points": features,
        "boundary_points": 2,
        "feature_scale": scale,
        "feature_distribution": f"w, b ~ U(-{scale:g}, {scale:g}), seed 0",
        "weights": features,
        "cutoff": RFM_CUTOFF,
        "command": command,
    }
    for derivative in ("ad", "fd"):
        problem = Poisson1D(model, n_points=features, derivative=derivative)
        theta = model.init()
        matrix = problem.residual_map.jacobian(theta, ZERO)
        rhs = -problem.residual_map(theta, ZERO)
        singular = torch.linalg.svdvals(matrix)
        residuals = truncated_svd_residuals(matrix, rhs)
        entry = _spectrum_entry(singular, RFM_CUTOFF)
        cut = entry["effective_cutoff_number"]
        u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
        coefficients = vh[:cut].T @ ((u[:, :cut].T @ rhs) / s[:cut])
        record[derivative] = {
            **entry,
            "step": problem.step,
            "training_error_at_cutoff": float(residuals[cut]),
            "l2re_at_cutoff": problem.l2re(coefficients, 0.0),
            "singular_values": singular.tolist(),
            "training_error_by_truncation": residuals.tolist(),
        }
    record["wall_s"] = time.perf_counter() - start
    return record


def gradient_descent(problem: Poisson1D, theta: torch.Tensor, lr: float, iterations: int, every: int):
    """Plain gradient descent on ``||H||^2 / 2``; the curves every ``every`` iterations."""
    def loss(t: torch.Tensor) -> torch.Tensor:
        residual = problem.residual_map(t, ZERO)
        return 0.5 * torch.dot(residual, residual)

    loss_gradient = grad(loss)
    exact_problem = problem if problem.derivative == "ad" else Poisson1D(problem.model, problem.points.shape[0])
    curves = {"iteration": [], "loss": [], "pde_residual": [], "pde_residual_ad": [], "l2re": []}
    for iteration in range(iterations + 1):
        if iteration % every == 0 or iteration == iterations:
            curves["iteration"].append(iteration)
            curves["loss"].append(problem.loss(theta, 0.0))
            curves["pde_residual"].append(problem.pde_residual_norm(theta))
            curves["pde_residual_ad"].append(exact_problem.pde_residual_norm(theta))
            curves["l2re"].append(problem.l2re(theta, 0.0))
            if not math.isfinite(curves["loss"][-1]):
                break
        if iteration < iterations:
            theta = theta - lr * loss_gradient(theta)
    return theta, curves


def run_network(derivative: str, n_points: int, command: str,
                iterations: int = NET_ITERATIONS, width: int = NET_WIDTH) -> dict:
    """Kernel spectra and gradient-descent training curves of the two-layer network."""
    start = time.perf_counter()
    model = MLP([1, width, 1], activation="tanh")
    problem = Poisson1D(model, n_points=n_points, derivative=derivative)
    theta0 = model.init(seed=NET_SEED)
    kernel0 = kernel_spectrum(problem.residual_map, theta0, ZERO)
    theta, curves = gradient_descent(problem, theta0, NET_LR, iterations, NET_RECORD_EVERY)
    train_wall = time.perf_counter() - start
    kernel1 = kernel_spectrum(problem.residual_map, theta, ZERO)
    return {
        "problem": "poisson 1d, u'' = -pi^2 sin(pi x), u(+-1) = 0",
        "method": f"two-layer network, gradient descent, {derivative} residual",
        "derivative": derivative,
        "step": problem.step,
        "network": model.widths,
        "activation": "tanh",
        "weights": model.num_weights,
        "points": n_points,
        "boundary_points": 2,
        "seed": NET_SEED,
        "learning_rate": NET_LR,
        "iterations": iterations,
        "kernel_cutoff": KERNEL_CUTOFF,
        "kernel_init": {**_spectrum_entry(kernel0, KERNEL_CUTOFF), "eigenvalues": kernel0.tolist()},
        "kernel_end": {**_spectrum_entry(kernel1, KERNEL_CUTOFF), "eigenvalues": kernel1.tolist()},
        "loss": curves["loss"][-1],
        "pde_residual": curves["pde_residual"][-1],
        "l2re": curves["l2re"][-1],
        "curves": curves,
        "train_wall_s": train_wall,
        "wall_s": time.perf_counter() - start,
        "command": command,
    }


def run(out: Path, command: str, force: bool = False) -> None:
    """Every configuration of the part (cached one JSON each)."""
    for activation, features, scale in RFM_SETTINGS:
        cached(out / f"{rfm_name(activation, features, scale)}.json",
               lambda: run_rfm(activation, features, scale, command), force=force)
    for derivative, n_points in NET_SETTINGS:
        cached(out / f"{net_name(derivative, n_points)}.json",
               lambda: run_network(derivative, n_points, command), force=force)


def load(out: Path) -> tuple[dict, dict]:
    rfm = {key: read_record(p) for key in RFM_SETTINGS if (p := out / f"{rfm_name(*key)}.json").exists()}
    net = {key: read_record(p) for key in NET_SETTINGS if (p := out / f"{net_name(*key)}.json").exists()}
    return rfm, net


COLORS = {"ad": "C0", "fd": "C3"}


def plot_rfm(rfm: dict, path: Path) -> None:
    """Singular values and training error by truncation of the main setting; the M sweep."""
    with harness.figure(path, 1, 3, size=(15, 4), legend=7, grid=True) as (fig, (axes,)):
        main = rfm.get(RFM_MAIN)
        if main is not None:
            for derivative in ("ad", "fd"):
                entry = main[derivative]
                s = entry["singular_values"]
                cut = entry["effective_cutoff_number"]
                axes[0].semilogy(range(1, len(s) + 1), s, ".-", ms=3, color=COLORS[derivative],
                                 label=f"{derivative.upper()}: e = {cut}, H = {entry['truncated_entropy']:.3f}")
                axes[0].plot([cut], [s[cut - 1]], "o", color="g")
                r = entry["training_error_by_truncation"]
                axes[1].semilogy(range(len(r)), [max(v, 1e-300) for v in r], ".-", ms=3, color=COLORS[derivative],
                                 label=derivative.upper())
                axes[1].axvline(cut, color=COLORS[derivative], ls="--", lw=0.8)
            axes[0].axhline(RFM_CUTOFF * main["ad"]["singular_values"][0], color="k", ls=":", lw=0.8,
                            label=f"{RFM_CUTOFF:g} s_1")
        title = f"random features, sin, M = N = {RFM_MAIN[1]}, R = {RFM_MAIN[2]:g}"
        axes[0].set(xlabel="index", ylabel="singular value of A", title=title)
        axes[1].set(xlabel="truncation position k", ylabel="||A a_k - f|| / ||f||",
                    title="training error of the truncated SVD (dashed: e_A(1e-12))")
        sweep = sorted(key for key in rfm if key[0] == "sin" and key[2] == RFM_SCALE)
        ms = [key[1] for key in sweep]
        for derivative in ("ad", "fd"):
            axes[2].loglog(ms, [rfm[key][derivative]["training_error_at_cutoff"] for key in sweep], "o-",
                           color=COLORS[derivative], label=f"{derivative.upper()} training error at e_A(1e-12)")
            axes[2].loglog(ms, [rfm[key][derivative]["l2re_at_cutoff"] for key in sweep], "s--",
                           color=COLORS[derivative], label=f"{derivative.upper()} L2RE of u at e_A(1e-12)")
        axes[2].set_xticks(ms, [str(m) for m in ms])
        axes[2].minorticks_off()
        axes[2].set(xlabel="M = N", ylabel="relative error", title=f"sin features, R = {RFM_SCALE:g}: the M sweep")


def plot_network(net: dict, path: Path) -> None:
    """Kernel eigenvalues at the init; curves of the relative PDE residual and the loss."""
    with harness.figure(path, 1, 3, size=(15, 4), legend=7, grid=True) as (fig, (axes,)):
        styles = {100: "-", 25: "--"}
        for (derivative, n_points), r in sorted(net.items()):
            label = f"{derivative.upper()}, N = {n_points}"
            ev = sorted(r["kernel_init"]["eigenvalues"], reverse=True)
            axes[0].semilogy(range(1, len(ev) + 1), [max(v, 1e-300) for v in ev], ".", ms=3,
                             color=COLORS[derivative], ls=styles.get(n_points, ":"),
                             label=f"{label}: e_G = {r['kernel_init']['effective_cutoff_number']}, "
                                   f"H = {r['kernel_init']['truncated_entropy']:.3f}")
            c = r["curves"]
            axes[1].semilogy(c["iteration"], c["pde_residual"], color=COLORS[derivative], ls=styles.get(n_points, ":"),
                             label=label)
            axes[2].semilogy(c["iteration"], c["loss"], color=COLORS[derivative], ls=styles.get(n_points, ":"),
                             label=label)
        if net:
            top = max(max(r["kernel_init"]["eigenvalues"]) for r in net.values())
            axes[0].axhline(KERNEL_CUTOFF * top, color="k", ls=":", lw=0.8, label=f"{KERNEL_CUTOFF:g} lambda_max")
        axes[0].set(xlabel="index", ylabel="eigenvalue of G = J J^T at the init",
                    title=f"two-layer network 1-{NET_WIDTH}-1 tanh")
        axes[1].set(xlabel="gradient descent iteration", ylabel="||u'' - f|| / ||f||",
                    title=f"relative PDE residual (lr {NET_LR:g})")
        axes[2].set(xlabel="gradient descent iteration", ylabel="loss ||H||^2", title="loss")


def _pair(value: Callable[[dict], Any], spec: str) -> Callable[[dict], str]:
    """A cell ``AD / FD`` of ``value`` on each part of a random-feature record."""
    return lambda r: f"{format(value(r['ad']), spec)} / {format(value(r['fd']), spec)}"


def _rfm_columns() -> list[harness.Column]:
    Column = harness.Column
    return [
        Column("features", lambda r: r["key"][0]), Column("M = N", lambda r: r["key"][1], "d"),
        Column("R", lambda r: r["key"][2], "g"), Column("e_A AD / FD", _pair(lambda e: e["effective_cutoff_number"], "d")),
        Column("H_A AD / FD", lambda r: " / ".join(f"{e['truncated_entropy']:.3f} ({e['truncated_entropy_normalized']:.3f})"
                                                   for e in (r["ad"], r["fd"]))),
        Column("training error at e_A, AD / FD", _pair(lambda e: e["training_error_at_cutoff"], ".2e")),
        Column("L2RE of u at e_A, AD / FD", _pair(lambda e: e["l2re_at_cutoff"], ".2e")),
        Column("s_min/s_1 AD / FD", _pair(lambda e: e["singular_values"][-1] / e["singular_values"][0], ".1e")),
        Column("wall s", lambda r: r["wall_s"], ".1f"),
    ]


def _net_columns() -> list[harness.Column]:
    Column = harness.Column

    def kernel(name: str) -> Callable[[dict], str]:
        return lambda r: f"{r[name]['effective_cutoff_number']} / {r[name]['truncated_entropy']:.3f}"

    return [
        Column("derivative", lambda r: r["key"][0]), Column("N", lambda r: r["key"][1], "d"),
        Column("h", lambda r: r["step"], ".3g"), Column("e_G / H_G at init", kernel("kernel_init")),
        Column("e_G / H_G at end", kernel("kernel_end")),
        Column("lambda_max(G) init", lambda r: max(r["kernel_init"]["eigenvalues"]), ".3e"),
        Column("PDE residual", lambda r: r["pde_residual"], ".3e"),
        Column("PDE residual (u'' by AD)", lambda r: r["curves"]["pde_residual_ad"][-1], ".3e"),
        Column("loss", lambda r: r["loss"], ".3e"), Column("L2RE", lambda r: r["l2re"], ".3e"),
        Column("wall s", lambda r: r["wall_s"], ".0f"),
    ]


def readme_lines(rfm: dict, net: dict) -> list[str]:
    """The README section of the part."""
    lines = [
        "## (d) AD against FD in the residual (Chen et al., J. Sci. Comput. 2025)",
        "",
        "`u'' = -pi^2 sin(pi x)` on (-1, 1), `u(+-1) = 0`, exact `u = sin(pi x)` (`pde.Poisson1D`); N uniform "
        "interior points + 2 boundary points, blocks scaled by 1/sqrt(count). AD: `u''` by autograd; FD: "
        "`(u(x+h) - 2u(x) + u(x-h)) / h^2` with the grid step h = 2/(N+1). Cut-offs relative to the largest "
        "value; H is the entropy (natural log) of the kept values normalised by their sum, H/log e in brackets.",
        "",
        f"### Random feature model, M features = N points, `w, b ~ U(-R, R)` (cut-off {RFM_CUTOFF:g})",
        "",
        *harness.table([{**rfm[key], "key": key} for key in RFM_SETTINGS if key in rfm], _rfm_columns(),
                       not_run=[(key[0], str(key[1]), f"{key[2]:g}") for key in RFM_SETTINGS if key not in rfm]),
        "",
        f"### Two-layer network 1-{NET_WIDTH}-1 tanh, gradient descent (lr {NET_LR:g}, {NET_ITERATIONS} iterations), "
        f"kernel cut-off {KERNEL_CUTOFF:g}",
        "",
        *harness.table([{**net[key], "key": key} for key in NET_SETTINGS if key in net], _net_columns(),
                       not_run=[(key[0], str(key[1])) for key in NET_SETTINGS if key not in net]),
    ]
    lines += ["", "Figures: `adfd_random_features.png`, `adfd_network.png`.", ""]
    return lines


def report(out: Path) -> list[str]:
    """Plots and README lines from every record present."""
    rfm, net = load(out)
    if rfm:
        plot_rfm(rfm, out / "adfd_random_features.png")
    if net:
        plot_network(net, out / "adfd_network.png")
    return readme_lines(rfm, net)
