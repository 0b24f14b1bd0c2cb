"""The generalization suite: every residual vanishes on its solution (no network), and the command runs."""

import json
import math

import pytest
import torch
from torch.func import vmap

from benchmarks import record
from benchmarks.__main__ import main
from benchmarks.generalization import (
    BUDGETS, METHODS, PROBLEMS, Jet, collocation_case, jet, troesch_reference, wrong_solution,
)

COLLOCATION = [name for name, p in PROBLEMS.items() if p.interior is not None and name != "troesch"]


def interior_points(problem, n=41):
    """Points inside the domain, denser towards the edges, where the layers are."""
    a, b = problem.interval
    axis = a + (b - a) * (1 - torch.cos(torch.linspace(0, math.pi, n + 2, dtype=torch.float64)[1:-1])) / 2
    return axis[:, None] if problem.d == 1 else torch.cartesian_prod(axis, axis)


def residual_of_exact(problem, parameter, exact_parameter=None):
    """``interior`` at ``parameter`` of the exact solution at ``exact_parameter``, its jet by autograd of the formula."""
    exact_parameter = parameter if exact_parameter is None else exact_parameter
    x = interior_points(problem)
    p = torch.tensor(parameter, dtype=torch.float64)
    return vmap(lambda y: problem.interior(y, jet(lambda z: problem.exact(z, exact_parameter), y), p))(x)


def parameters(problem):
    return [problem.start, math.sqrt(problem.start * problem.target), problem.target]


@pytest.mark.parametrize("name", COLLOCATION)
def test_exact_solution_has_zero_residual(name):
    problem = PROBLEMS[name]
    for parameter in parameters(problem):
        residual = residual_of_exact(problem, parameter)
        assert float(residual.abs().max()) < 1e-8, (name, parameter, float(residual.abs().max()))


@pytest.mark.parametrize("name", [n for n in COLLOCATION if n != "fit"])
def test_residual_detects_a_wrong_parameter(name):
    """The check has teeth: the solution at one parameter does not solve the problem at another."""
    problem = PROBLEMS[name]
    residual = residual_of_exact(problem, problem.target, exact_parameter=0.8 * problem.target)
    assert float(residual.abs().max()) > 1e-3


@pytest.mark.parametrize("name", COLLOCATION + ["troesch"])
def test_dirichlet_data_match_the_solution(name):
    problem = PROBLEMS[name]
    if problem.dirichlet is None:
        pytest.skip("no boundary block")
    a, b = problem.interval
    edge = torch.tensor([[a], [b]], dtype=torch.float64)
    if problem.d == 2:
        t = torch.linspace(a, b, 7, dtype=torch.float64)
        edge = torch.cat([torch.cartesian_prod(torch.tensor([a, b], dtype=torch.float64), t),
                          torch.cartesian_prod(t, torch.tensor([a, b], dtype=torch.float64))])
    for parameter in parameters(problem):
        expected = problem.exact(edge, parameter)
        assert torch.allclose(problem.dirichlet(edge, parameter), expected, atol=1e-12, rtol=0)


def test_troesch_reference_solves_the_equation():
    """The solve_bvp reference: its jet (spline values and derivatives) makes the residual vanish."""
    problem = PROBLEMS["troesch"]
    solution = troesch_reference(problem.target)
    x = interior_points(problem, 201)[:, 0].numpy()
    (u, du), (_, d2u) = solution.sol(x), solution.sol(x, 1)
    j = Jet(*(torch.as_tensor(v, dtype=torch.float64) for v in (u, du, d2u)))
    residual = problem.interior(torch.as_tensor(x)[None], j, torch.tensor(problem.target, dtype=torch.float64))
    assert float(residual.abs().max()) < 1e-6 * float(j.lap.abs().max())
    assert solution.sol(0.0)[0] == pytest.approx(0.0, abs=1e-12) and solution.sol(1.0)[0] == pytest.approx(1.0)


def test_collocation_case_sizes():
    case = collocation_case(PROBLEMS["rd-two"], BUDGETS["small"])
    eps = torch.tensor(0.1, dtype=torch.float64)
    assert case.residual(case.theta0, eps).shape == (case.info["points"] + 2,)
    assert case.info["weights"] == case.theta0.numel() and case.position is None


def test_wrong_solution_flag():
    assert wrong_solution(True, 0.05) and not wrong_solution(True, 1e-3) and not wrong_solution(False, 0.5)
    assert wrong_solution(True, math.nan)


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A results folder in ``tmp_path`` (``record.cached`` prints paths relative to ``record.RESULTS``)."""
    monkeypatch.setattr(record, "RESULTS", tmp_path / "benchmarks" / "results")
    return tmp_path / "benchmarks" / "results" / "generalization"


KEYS = {
    "problem", "method", "parameter", "start", "target", "l2re", "position_error", "status", "success",
    "wrong_solution", "trace", "wall_s", "budget", "machine", "schedule", "options", "command",
}
TRACE_KEYS = {"accepted", "rejected", "corrector_iterations", "jacobian_evaluations", "eps", "steps"}


@pytest.mark.usefixtures("one_thread")
def test_small_budget_run_writes_json_table_and_plot(results):
    argv = ["generalization", "--problems", "ac-offcentre", "rd-2d", "--budget", "small", "--out", str(results)]
    main(argv)
    files = sorted(results.glob("*.json"))
    assert [f.name for f in files] == [f"{p}_{m}.json" for p in ("ac-offcentre", "rd-2d") for m in sorted(METHODS)]
    for path in files:
        data = json.loads(path.read_text())
        assert KEYS <= set(data), KEYS - set(data)
        assert TRACE_KEYS <= set(data["trace"]), TRACE_KEYS - set(data["trace"])  # TraceResult.summary()
        assert data["budget"] == "small" and math.isfinite(data["l2re"])
        assert data["wrong_solution"] == (data["success"] and data["l2re"] > 1e-2)
    naive = json.loads((results / "ac-offcentre_naive.json").read_text())
    assert naive["schedule"][0] == 0.5 and naive["schedule"][-1] == 0.02
    assert naive["options"]["corrector_iterations"] == BUDGETS["small"].naive.corrector_iterations
    assert math.isfinite(naive["position_error"])
    along = naive["along_path"]
    assert along["parameter"] == naive["trace"]["eps"]
    assert len(along["l2re"]) == len(along["position_error"]) == len(along["parameter"])
    assert along["l2re"][-1] == pytest.approx(naive["l2re"])
    table = (results / "README.md").read_text()
    assert all(f"| {p} | {m} |" in table for p in ("ac-offcentre", "rd-2d") for m in METHODS)
    assert (results / "l2re.png").stat().st_size > 0

    before = (results / "rd-2d_naive.json").read_text()
    main(argv[:2] + ["rd-2d"] + argv[4:] + ["--methods", "naive"])  # an existing record is skipped
    assert (results / "rd-2d_naive.json").read_text() == before


@pytest.mark.parametrize("argv, message", [
    (["--problems", "nope"], "invalid choice: 'nope'"),
    (["--methods", "ours"], "invalid choice: 'ours'"),
    (["--budget", "tiny"], "invalid choice: 'tiny'"),
])
def test_bad_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        main(["generalization", *argv])
    assert message in capsys.readouterr().err


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(SystemExit, match="must be a folder"):
        main(["generalization", "--problems", "fit", "--budget", "small", "--out", str(path)])
