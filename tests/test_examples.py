"""Every script in examples/ runs, at the small budget its --tiny flag selects, and does what it says."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


REACHED = ("success", "ill_conditioned", "floor", "not_converged")
"""Statuses of a trace that reached the end of its path (converged to tol, there but weakly pinned by the
equations, at a floor, or not converged)."""


def run(name: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(tiny=True)


def test_every_example_is_tested():
    tested = {"own_pinn", "boundary_layer", "fold_arclength", "neural_ode_sync", "save_load_resume"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} <= tested


def test_own_pinn_from_a_torch_module(one_thread):
    out = run("own_pinn")
    # the target is reached; at this budget the last point may stay a little above tol (not_converged)
    assert out["status"] in REACHED and out["eps"] == pytest.approx(0.01)
    assert out["l2re"] < 1e-3


def test_boundary_layer_with_residual_based_points(one_thread):
    out = run("boundary_layer")
    assert out["status"] in REACHED and out["eps"] == 0.1
    assert out["points"] == 30 + 2 * 20 and out["l2re"] < 1e-3


def test_fold_with_arclength(one_thread):
    out = run("fold_arclength")
    assert out["natural_status"] == "step_too_small" and out["natural_last_eps"] < 3.52
    (fold,) = out["folds"]
    assert fold == pytest.approx(3.5138307, rel=1e-3)  # the 30-point grid's O(h^2) error
    assert out["upper_midpoint"] > 1.5  # past the fold's u(1/2) = 1.19: on the upper branch


def test_neural_ode_by_synchronization(one_thread):
    out = run("neural_ode_sync")
    # noisy data: the misfit has a floor far above tol, so the trace reaches lam = 0 without converging
    assert out["status"] in REACHED and out["lam"][-1] == 0.0 and out["iterations"] == 60
    assert out["final_mse"] < 1e-2 < 10 < out["initial_mse"]


def test_save_load_and_resume_a_trace(one_thread):
    out = run("save_load_resume")
    assert out["first_status"] == "stopped_by_callback" and out["pieces"] == 2
    assert out["same_path"]  # the resumed trace is the uninterrupted one, bit for bit
    assert out["status"] in REACHED and out["eps"] == 0.1 and out["l2re"] < 1e-4
    assert out["model"] == "MLP" and out["weights"] == 1951
