"""Multiple solutions: deflation with every corrector, branch points at the discrete values, switching, defcon."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import jacrev

import continuation
from continuation import (BranchPointTest, CorrectorResult, Options, Status, deflate, deflated_continuation,
                          find_solutions, kernel_seeds, near_kernel, polish_solutions, switch_branch)
from pde import BratuFD, ChafeeInfanteFD, branch_point, solution_count

DT = torch.float64
ROOTS = [(1.0, 0.0), (-0.5, math.sqrt(3) / 2), (-0.5, -math.sqrt(3) / 2)]


def cube_roots(theta, eps):
    """z^3 = 1 for z = x + i y: three roots, the cube roots of unity."""
    x, y = theta[0], theta[1]
    return torch.stack([x**3 - 3 * x * y**2 - 1, 3 * x**2 * y - y**3])


def nearest_root(theta):
    return min(range(3), key=lambda i: math.dist(ROOTS[i], theta.tolist()))


# a start from which each corrector converges (Newton on the loss, without a line search, needs one near a root)
STARTS = {"lm": [0.3, 0.2], "gauss-newton": [0.3, 0.2], "lbfgs": [0.3, 0.2], "adam": [0.3, 0.2],
          "newton": [2.0, 0.5]}


@pytest.mark.parametrize("corrector", sorted(STARTS))
def test_deflation_from_the_same_start_finds_a_second_distinct_root_with_every_corrector(corrector):
    tol, budget = (1e-8, 1500) if corrector == "adam" else (1e-10, 200)
    solver = continuation.correctors.corrector_from_options(corrector, Options(learning_rate=0.02))
    start, eps = torch.tensor(STARTS[corrector], dtype=DT), torch.tensor(0.0, dtype=DT)
    first = solver.correct(continuation.as_residual_map(cube_roots), start, eps, iterations=budget, tol=tol)
    second = solver.correct(deflate(cube_roots, [first.theta]), start, eps, iterations=budget, tol=tol)
    assert first.converged and second.converged
    assert float(torch.linalg.vector_norm(cube_roots(second.theta, eps))) <= tol
    assert nearest_root(first.theta) != nearest_root(second.theta)


def test_find_solutions_finds_every_root_once_and_the_search_then_fails():
    found, failed = find_solutions(cube_roots, [torch.tensor([0.3, 0.2], dtype=DT)], 0.0, options=Options(tol=1e-12))
    assert sorted(nearest_root(r.theta) for r in found) == [0, 1, 2]
    assert failed > 0  # the fourth solve, with all three deflated, finds nothing


def two_close_roots(theta, eps):
    """(t - 1)(t - 1.1): two roots 0.1 apart."""
    return (theta - 1) * (theta - 1.1)


def test_an_undeflated_polish_merges_two_solutions_and_the_deflated_one_keeps_them_apart():
    one, second = torch.tensor([1.0], dtype=DT), torch.tensor([1.04], dtype=DT)
    lm, eps = continuation.LevenbergMarquardt(), torch.tensor(0.0, dtype=DT)
    alone = lm.correct(continuation.as_residual_map(two_close_roots), second, eps, iterations=50, tol=1e-12)
    assert float(alone.theta) == pytest.approx(1.0, abs=1e-10)  # onto the other solution: two results, one root
    first, other = polish_solutions(two_close_roots, [one, second], 0.0, options=Options(tol=1e-12), iterations=50)
    assert float(first.theta) == 1.0 and float(other.theta) == pytest.approx(1.1, abs=1e-10)
    assert first.converged and other.converged and other.residual_norm <= 1e-12


def test_polish_solutions_keeps_the_state_when_its_correction_lands_on_another_solution():
    class OntoOne:  # a corrector that merges: every correction lands on 1
        def correct(self, problem, theta, eps, *, iterations, tol, state=None):
            return CorrectorResult(torch.ones_like(theta), 1, 0.0, True, "converged")

    states = [torch.tensor([1.0], dtype=DT), torch.tensor([1.04], dtype=DT)]
    first, other = polish_solutions(two_close_roots, states, 0.0, corrector=OntoOne())
    assert float(first.theta) == 1.0 and first.converged
    assert float(other.theta) == 1.04 and not other.converged and "from another solution" in other.message


def test_the_polish_of_a_search_stays_deflated_and_finds_the_new_solution():
    known, guess = [torch.tensor([1.0], dtype=DT)], torch.tensor([1.01], dtype=DT)
    lm, eps = continuation.LevenbergMarquardt(), torch.tensor(0.0, dtype=DT)
    short = lm.correct(deflate(two_close_roots, known), guess, eps, iterations=1, tol=1e-12)  # one step, not there
    undeflated = lm.correct(continuation.as_residual_map(two_close_roots), short.theta, eps, iterations=50, tol=1e-12)
    assert float(undeflated.theta) == pytest.approx(1.0, abs=1e-10)  # back onto the known solution: lost
    found, _ = find_solutions(two_close_roots, [guess], 0.0, known=known, iterations=1, polish_iterations=50,
                              options=Options(tol=1e-12))
    assert [round(float(r.theta), 9) for r in found] == [1.1]


def test_patience_cuts_a_solve_that_leads_nowhere_and_not_one_that_converges():
    # t^2 + 1 has no root: Adam creeps down towards the floor at t = 0 and never halves the residual again
    creeping = dict(corrector="adam", options=Options(learning_rate=0.01), iterations=200)
    start = [torch.tensor([3.0], dtype=DT)]
    assert find_solutions(lambda t, e: t**2 + 1, start, 0.0, **creeping) == ([], 200)
    assert find_solutions(lambda t, e: t**2 + 1, start, 0.0, patience=20, **creeping) == ([], 20)
    found, failed = find_solutions(cube_roots, [torch.tensor([0.3, 0.2], dtype=DT)], 0.0, iterations=200, patience=5,
                                   options=Options(tol=1e-12))
    assert sorted(nearest_root(r.theta) for r in found) == [0, 1, 2] and failed == 5


@given(x=st.floats(-2, 2), y=st.floats(-2, 2), power=st.sampled_from([1.0, 2.0, 3.0]), shift=st.floats(0, 2))
@settings(max_examples=15)
def test_the_deflated_jacobian_is_the_derivative_of_the_deflated_residual(x, y, power, shift):
    theta, eps = torch.tensor([x, y], dtype=DT), torch.tensor(0.0, dtype=DT)
    known = [torch.tensor(r, dtype=DT) for r in ROOTS[:2]]
    deflated = deflate(cube_roots, known, power=power, shift=shift)
    if min(math.dist((x, y), r) for r in ROOTS[:2]) < 1e-2:
        return
    value, jacobian = deflated.linearize(theta, eps)
    assert torch.allclose(value, deflated(theta, eps))
    assert torch.allclose(jacobian, jacrev(deflated.__call__)(theta, eps), rtol=1e-9, atol=1e-9)


def test_with_shift_at_least_one_the_deflated_residual_bounds_the_original():
    theta, eps = torch.tensor([0.7, -0.4], dtype=DT), torch.tensor(0.0, dtype=DT)
    deflated = deflate(cube_roots, [torch.tensor(ROOTS[0], dtype=DT)])
    assert float(deflated(theta, eps).norm()) >= float(cube_roots(theta, eps).norm())


def test_the_distance_is_measured_on_the_outputs_not_the_state():
    # two states with the same outputs are the same solution: deflating one deflates the other
    outputs = lambda theta: theta[:1] + theta[1:]  # noqa: E731
    deflated = deflate(lambda t, e: t - 1, [torch.tensor([1.0, 0.0], dtype=DT)], outputs=outputs)
    assert not math.isfinite(float(deflated.factor(torch.tensor([0.0, 1.0], dtype=DT))))


@pytest.mark.parametrize("kwargs, match", [
    ({"power": 0}, "power must be positive"),
    ({"power": float("nan")}, "power must be a finite number"),
    ({"shift": -1.0}, "shift must be >= 0"),
    ({"outputs": 3}, "outputs must be callable"),
    ({"distance": "l2"}, "distance must be callable"),
])
def test_bad_deflation_arguments_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        deflate(cube_roots, [], **kwargs)


def test_known_must_be_a_list_of_states():
    with pytest.raises(TypeError, match="known must be a sequence"):
        deflate(cube_roots, torch.zeros(2))
    with pytest.raises(TypeError, match=r"known\[0\] must be a 1-D floating tensor"):
        deflate(cube_roots, [torch.zeros(2, 2)])


@pytest.mark.parametrize("boundary", ["neumann", "dirichlet"])
def test_branch_points_of_the_fd_problem_are_found_at_the_discrete_values(boundary):
    problem = ChafeeInfanteFD(30, boundary)
    result = continuation.trace(problem, torch.zeros(30, dtype=DT), [0.5, 0.1], method="arclength",
                                event_tests=[BranchPointTest()], options=Options(ds_max=0.02))
    assert result.success, result.message
    found = [e.eps for e in result.events if e.kind == "branch_point"]
    assert found == pytest.approx(problem.branch_points(3), rel=1e-8)
    # the grid's own error, against 1 / (k pi), is larger than the location error
    assert all(abs(f * k * math.pi - 1) > 1e-5 for k, f in enumerate(found, start=1))
    assert "3 branch_point(s)" in result.message


@given(n=st.integers(12, 40))
@settings(max_examples=5)
def test_the_discrete_branch_points_are_found_on_any_grid(n):
    problem = ChafeeInfanteFD(n, "dirichlet")
    result = continuation.trace(problem, torch.zeros(n, dtype=DT), [0.4, 0.14], method="arclength",
                                event_tests=[BranchPointTest()], options=Options(ds_max=0.03))
    found = [e.eps for e in result.events]
    assert found == pytest.approx(problem.branch_points(2), rel=1e-8)


def test_a_fold_is_not_a_branch_point():
    result = continuation.trace(BratuFD(30), torch.zeros(30, dtype=DT), [0.5, 4.0], method="arclength",
                                event_tests=[BranchPointTest()], options=Options(ds_max=0.5, tol=1e-9))
    assert [e.kind for e in result.events] == ["fold"]


def test_a_resumed_trace_finds_the_same_branch_points():
    problem = ChafeeInfanteFD(20, "neumann")
    kwargs = dict(method="arclength", event_tests=[BranchPointTest()], options=Options(ds_max=0.02))
    whole = continuation.trace(problem, torch.zeros(20, dtype=DT), [0.5, 0.1], **kwargs)
    first = continuation.trace(problem, torch.zeros(20, dtype=DT), [0.5, 0.1],
                               callback=lambda record, theta: record.eps < 0.2, **kwargs)
    assert first.status is Status.STOPPED_BY_CALLBACK and len(first.events) == 1
    rest = continuation.trace(problem, first.theta, [0.5, 0.1], resume=first.state, **kwargs)
    assert [e.eps for e in rest.events] == [e.eps for e in whole.events]


def test_event_tests_are_checked_before_any_work():
    with pytest.raises(ValueError, match="BranchPointTest needs a square problem"):
        continuation.trace(lambda t, e: torch.cat([t, t]) - e, torch.zeros(2, dtype=DT), [0.0, 1.0],
                           method="arclength", event_tests=[BranchPointTest()])
    with pytest.raises(ValueError, match="arclength traces only"):
        continuation.trace(lambda t, e: t - e, torch.zeros(2, dtype=DT), [0.0, 1.0], event_tests=[BranchPointTest()])
    with pytest.raises(TypeError, match=r"event_tests\[0\] must be an event test"):
        continuation.trace(lambda t, e: t - e, torch.zeros(2, dtype=DT), [0.0, 1.0], method="arclength",
                           event_tests=["branch_point"])


def test_switching_at_each_branch_point_enters_both_halves_of_the_bifurcating_branch():
    problem = ChafeeInfanteFD(30, "dirichlet")
    result = continuation.trace(problem, torch.zeros(30, dtype=DT), [0.5, 0.2], method="arclength",
                                event_tests=[BranchPointTest()], options=Options(ds_max=0.02))
    event = result.events[0]
    plus, eps_plus = switch_branch(problem, result, event, direction=1, step=0.5)
    minus, eps_minus = switch_branch(problem, result, event, direction=-1, step=0.5)
    assert eps_plus < event.eps and eps_minus < event.eps  # supercritical: the new branch lives below eps_1
    assert torch.allclose(plus, -minus, atol=1e-8)  # the symmetry u -> -u
    mode = torch.sin(math.pi * problem.x)
    assert abs(float(plus @ mode) / float(plus.norm() * mode.norm())) > 0.999  # along sin(pi x)


def test_switch_branch_rejects_an_event_that_is_not_a_branch_point():
    result = continuation.trace(lambda t, e: t**2 + e**2 - 1, torch.tensor([1.0], dtype=DT), [0.0, -2.0, 2.0],
                                method="arclength", options=Options(max_arclength=5.0, tol=1e-10))
    with pytest.raises(ValueError, match="event must be a branch_point Event"):
        switch_branch(lambda t, e: t**2 + e**2 - 1, result, result.events[0])


def test_deflated_continuation_of_the_fd_problem_finds_the_solutions_of_each_interval():
    problem = ChafeeInfanteFD(24, "dirichlet")
    eps_values = [0.4, 0.3, 0.2, 0.14]
    modes = torch.sin(math.pi * torch.arange(1, 4, dtype=DT)[:, None] * problem.x[None, :])

    def smooth(theta, generator):
        return theta + 0.5 * torch.randn(3, generator=generator, dtype=DT) @ modes

    diagram = deflated_continuation(problem, [torch.zeros(24, dtype=DT)], eps_values, options=Options(tol=1e-9),
                                    perturbation=smooth, perturbations=3, search_iterations=60)
    assert [len(diagram.solutions_at(e)) for e in eps_values] == [solution_count(e, "dirichlet") for e in eps_values]
    assert diagram.corrector_iterations >= sum(b.corrector_iterations for b in diagram.branches)
    summary = diagram.summary()
    assert summary["solutions_at_last_eps"] == 5 and len(summary["branches"]) == 5


def test_the_problem_counts_its_solutions():
    assert [solution_count(e) for e in (0.5, 0.3, 0.15, 0.1)] == [3, 5, 7, 9]
    assert branch_point(2) == pytest.approx(1 / (2 * math.pi))
    with pytest.raises(ValueError, match="boundary must be one of"):
        ChafeeInfanteFD(10, "robin")
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        branch_point(0)


def test_the_near_kernel_of_u_0_below_a_branch_point_is_the_bifurcating_mode():
    problem = ChafeeInfanteFD(30, "dirichlet")
    eps = 0.98 * problem.branch_points(1)[0]  # J = eps^2 D2 + I: eigenvalues 1 - (eps / eps_k)^2
    mode = torch.sin(math.pi * problem.x)
    directions, values = near_kernel(problem, torch.zeros(30, dtype=DT), eps)
    assert abs(float(directions[0] @ mode)) / float(directions[0].norm() * mode.norm()) == pytest.approx(1, abs=1e-12)
    assert float(values[0]) == pytest.approx(1 - 0.98**2, rel=1e-10)
    # two more weights that leave the solution unchanged: their exact kernel is not a direction of the solution
    padded = lambda theta, eps: problem(theta[:30], eps)  # noqa: E731
    state = torch.zeros(32, dtype=DT)
    assert near_kernel(padded, state, eps, count=2)[1].tolist() == [0.0, 0.0]
    directions, values = near_kernel(padded, state, eps, outputs=lambda theta: theta[:30])
    assert float(directions[0, 30:].abs().max()) == 0.0
    assert abs(float(directions[0, :30] @ mode)) / float(mode.norm()) == pytest.approx(1, abs=1e-12)
    assert float(values[0]) == pytest.approx(1 - 0.98**2, rel=1e-10)


def test_kernel_seeds_step_the_solution_both_ways_by_step():
    problem = ChafeeInfanteFD(30, "dirichlet")
    eps, zero = 0.98 * problem.branch_points(1)[0], torch.zeros(32, dtype=DT)
    padded = lambda theta, eps: problem(theta[:30], eps)  # noqa: E731
    plus, minus = kernel_seeds(padded, zero, eps, step=0.2, outputs=lambda theta: theta[:30])
    for seed in (plus, minus):
        assert float(continuation.rms_distance(seed[:30], zero[:30])) == pytest.approx(0.2, rel=1e-6)
    assert torch.allclose(plus[:30], -minus[:30], atol=1e-8)


def test_kernel_seeding_finds_the_mirror_half_that_perturbed_starts_miss():
    problem = ChafeeInfanteFD(24, "dirichlet")  # the pair +-v_1 leaves u = 0 at eps_1 = 0.318
    modes = torch.sin(math.pi * torch.arange(1, 4, dtype=DT)[:, None] * problem.x[None, :])

    def smooth(theta, generator):
        return theta + 0.5 * torch.randn(3, generator=generator, dtype=DT) @ modes

    common = dict(options=Options(tol=1e-9), search_iterations=60, seed=0)
    zero = [torch.zeros(24, dtype=DT)]
    perturbed = deflated_continuation(problem, zero, [0.4, 0.3], perturbation=smooth, perturbations=1, **common)
    assert len(perturbed.solutions_at(0.3)) == 2  # u = 0 and one half of the pair
    seeded = deflated_continuation(problem, zero, [0.4, 0.3], perturbations=0, kernel_directions=1, **common)
    minus, zero_, plus = sorted(seeded.solutions_at(0.3), key=lambda s: float(s.sum()))
    assert float(zero_.abs().max()) < 1e-9 and float(plus.abs().max()) > 0.3
    assert torch.allclose(plus, -minus, atol=1e-8)  # both halves
    ladder = deflated_continuation(problem, zero, [0.4, 0.3], perturbations=0, kernel_directions=1,
                                   kernel_step=(0.1, 0.3), **common)
    found = sorted(ladder.solutions_at(0.3), key=lambda s: float(s.sum()))
    assert len(found) == 3 and all(torch.allclose(a, b, atol=1e-8) for a, b in zip(found, (minus, zero_, plus)))
    assert ladder.searches > seeded.searches  # each size gives its own starts


def test_the_trivial_branch_is_followed_through_with_known_outputs():
    # the jump guard, relative to the size of the function, would reject every step of u = 0 (it ended at -0.25)
    diagram = deflated_continuation(lambda t, e: t**3 - e * t, [torch.tensor([0.5], dtype=DT)],
                                    [-0.5, -0.25, 0.25, 0.5], options=Options(tol=1e-10), outputs=lambda t: t)
    trivial = diagram.branches[0]
    assert trivial.success and (trivial.eps[0], trivial.eps[-1]) == (-0.5, 0.5) and len(diagram.branches) == 3


def test_the_images_of_a_new_solution_under_the_symmetries_are_tried_too():
    problem = ChafeeInfanteFD(24, "dirichlet")  # H(-u) = -H(u): u -> -u maps solutions to solutions
    modes = torch.sin(math.pi * torch.arange(1, 4, dtype=DT)[:, None] * problem.x[None, :])

    def smooth(theta, generator):
        return theta + 0.5 * torch.randn(3, generator=generator, dtype=DT) @ modes

    common = dict(options=Options(tol=1e-9), search_iterations=60, seed=0, perturbation=smooth, perturbations=1)
    zero = [torch.zeros(24, dtype=DT)]
    assert len(deflated_continuation(problem, zero, [0.4, 0.3], **common).solutions_at(0.3)) == 2  # one half
    diagram = deflated_continuation(problem, zero, [0.4, 0.3], symmetries=[torch.neg], **common)
    minus, zero_, plus = sorted(diagram.solutions_at(0.3), key=lambda s: float(s.sum()))
    assert float(zero_.abs().max()) < 1e-9 and torch.allclose(plus, -minus, atol=1e-8)
    with pytest.raises(TypeError, match="symmetries must be a sequence of functions"):
        deflated_continuation(problem, zero, [0.4, 0.3], symmetries=[1.0], **common)


@pytest.mark.parametrize("kwargs, match", [
    (dict(perturbations=0), "perturbations and kernel_directions are both 0"),
    (dict(kernel_directions=-1), "kernel_directions must be an integer >= 0"),
    (dict(kernel_directions=1, kernel_step=0.0), "kernel_step must be a finite number > 0"),
    (dict(kernel_directions=1, kernel_step=()), "or a non-empty sequence of them, got \\(\\)"),
    (dict(kernel_directions=1, kernel_step=(0.1, -0.3)), "kernel_step must be a finite number > 0"),
    (dict(kernel_directions=1, kernel_step="0.1"), "kernel_step must be a finite number > 0"),
])
def test_bad_seeding_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        deflated_continuation(lambda t, e: t**3 - e * t, [torch.ones(1, dtype=DT)], [0.5, 0.4], **kwargs)
    with pytest.raises(ValueError, match="count must be at most 1"):
        near_kernel(lambda t, e: t**3 - e * t, torch.ones(1, dtype=DT), 0.5, count=2)
    with pytest.raises(ValueError, match=r"step must be a finite number > 0 .*got \(0.1, nan\)"):
        kernel_seeds(lambda t, e: t**3 - e * t, torch.ones(1, dtype=DT), 0.5, step=(0.1, math.nan))


def test_the_kernel_seeds_of_a_network_are_the_functions_they_aim_at():
    # u = 0 at eps = 0.1 on a network: the near-kernel function is cos(3 pi x); a seed is fitted to u +- a phi,
    # for each size of a ladder (the directions computed once)
    from models import MLP
    from pde import ChafeeInfanteNetwork

    problem = ChafeeInfanteNetwork("neumann", model=MLP([1, 10, 10, 1]), n_points=40)
    theta = problem.model.init(seed=0)
    theta = continuation.LevenbergMarquardt().correct(
        continuation.as_residual_map(lambda t, e: problem.outputs(t)), theta, torch.tensor(0.1, dtype=DT),
        iterations=50, tol=1e-10).theta.detach()  # the network's u = 0
    (direction,), _ = near_kernel(problem.residual_map, theta, 0.1, outputs=problem.outputs)
    u, phi = torch.func.jvp(problem.outputs, (theta,), (direction,))
    x = problem.points[:, 0]
    assert abs(float(torch.nn.functional.cosine_similarity(phi, torch.cos(3 * math.pi * x), dim=0))) > 0.99
    steps = (0.1, 0.3)
    seeds = kernel_seeds(problem.residual_map, theta, 0.1, step=steps, outputs=problem.outputs)
    assert len(seeds) == 4
    for (plus, minus), step in zip((seeds[:2], seeds[2:]), steps):
        scaled = phi * step / float(continuation.rms_distance(u + phi, u))
        for seed, target in ((plus, u + scaled), (minus, u - scaled)):
            assert float(continuation.rms_distance(problem.outputs(seed), target)) <= 0.01 * step
