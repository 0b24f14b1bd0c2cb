"""Fault injection: what the engine does with bad input, broken problems, failing user code and interrupts.

Every case is a row of :data:`CASES`, by category, with the outcome it must
have: a clean error before any work (``Raises``), or a result whose status
names what happened, with the accepted path kept (``Ends``). The table of
docs/reliability.md is made from these rows (``test_reliability_page_lists_every_case``):
add a case here, then rerun ``python tests/test_faults.py`` to print the table.
Each case runs on a tiny problem in well under a second or two.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import continuation
from continuation import LevenbergMarquardt, Options, Status, TraceResult
from continuation.correctors import CorrectorResult, Stop

DT = torch.float64


def square(theta, eps):
    """``theta^2 = eps``: theta(eps) = sqrt(eps); no real root below 0 (a fold at 0)."""
    return theta**2 - eps


def near(value: float, dtype=DT) -> torch.Tensor:
    return torch.tensor([value], dtype=dtype)


def _triple_root(theta, lam):
    """A root where both derivatives vanish: no tangent there."""
    return (theta - lam) ** 3


def s_curve(theta, lam):
    """Folds at lam = +-sqrt(0.5)."""
    return (theta - 0.3) ** 3 - 1.5 * (theta - 0.3) + lam


def misfit_problem():
    rng = np.random.default_rng(3)
    a, b, y = (torch.from_numpy(v) for v in (rng.standard_normal((8, 4)), rng.standard_normal((4, 4)),
                                             rng.standard_normal(8)))
    return (lambda theta, eps: a @ torch.tanh(b @ theta) - eps * y), torch.from_numpy(rng.standard_normal(4))


@dataclass
class Raises:
    error: type
    match: str


@dataclass
class Ends:
    status: Status
    check: Optional[Callable[[TraceResult], bool]] = None


@dataclass
class Case:
    category: str
    name: str
    run: Callable[[], Any]
    expect: Any


def _trace(*args, **kwargs):
    return lambda: continuation.trace(*args, **kwargs)


def _after(n: int, fn: Callable, fault: Callable):
    """``fn`` that calls ``fault`` instead from its ``n``-th call on."""
    calls = [0]

    def wrapped(*args, **kwargs):
        calls[0] += 1
        return fault(*args, **kwargs) if calls[0] >= n else fn(*args, **kwargs)

    return wrapped


def _raise(exc: BaseException):
    def fault(*args, **kwargs):
        raise exc

    return fault


class _BrokenCorrector:
    """LM until a chosen call, then a fault."""

    def __init__(self, n: int, fault: Callable):
        self.inner, self.calls, self.n, self.fault = LevenbergMarquardt(), 0, n, fault

    def correct(self, problem, theta, eps, *, iterations, tol, state=None):
        self.calls += 1
        report = self.inner.correct(problem, theta, eps, iterations=iterations, tol=tol, state=state)
        return self.fault(report) if self.calls >= self.n else report


class _BrokenPredictor:
    def __init__(self, fault: Callable):
        self.fault = fault

    def velocity(self, problem, theta, eps, previous):
        return self.fault(theta)


class _Eps64(continuation.ResidualMap):
    """A float32 residual whose eps-derivative comes back float64."""

    def __call__(self, theta, eps):
        return theta**2 - eps

    def eps_derivative(self, theta, eps):
        return -torch.ones(1, dtype=torch.float64)


def _weakly_pinned(theta, eps):
    """``theta_0 + theta_1 = eps``, and ``theta_0 - theta_1 = 1`` only through a term of weight 1e-7."""
    return torch.stack([theta[0] + theta[1] - eps, 1e-7 * (theta[0] - theta[1] - 1.0)])


def _detached_below_half(theta, eps):
    return (theta**2 - eps).detach() if float(eps) < 0.5 else theta**2 - eps


def _path_kept(result: TraceResult) -> bool:
    return len(result.eps) == len(result.thetas) == result.accepted >= 1 and not result.success


def _resumed_equals_whole(method: str, cut: Callable[[int], dict], path, residual=None, theta0=None,
                          options=None) -> Callable[[], TraceResult]:
    """Trace once whole; trace again cut by ``cut`` (extra trace arguments), resume; compare the paths."""

    def run():
        res, th = (residual, theta0) if residual is not None else (square, near(1.0))
        whole = continuation.trace(res, th, path, method=method, options=options)
        first = continuation.trace(res, th, path, method=method, options=options, **cut(whole.accepted))
        rest = continuation.trace(res, first.theta, path, method=method, options=options, resume=first.state)
        assert torch.equal(rest.thetas, whole.thetas) and rest.eps == whole.eps, "resumed path differs"
        assert [s.residual_norm for s in rest.steps] == [s.residual_norm for s in whole.steps]
        return first

    return run


def _interrupt_then_resume() -> TraceResult:
    whole = continuation.trace(square, near(1.0), [1.0, 0.1], options=Options(tol=1e-12))
    first = continuation.trace(_after(30, square, _raise(KeyboardInterrupt())), near(1.0), [1.0, 0.1],
                               options=Options(tol=1e-12))
    assert first.status is Status.INTERRUPTED
    rest = continuation.trace(square, first.theta, [1.0, 0.1], options=Options(tol=1e-12), resume=first.state)
    assert torch.equal(rest.thetas, whole.thetas)
    return first


def _max_steps_then_more() -> TraceResult:
    whole = continuation.trace(square, near(1.0), [1.0, 0.1])
    first = continuation.trace(square, near(1.0), [1.0, 0.1], options=Options(max_steps=3))
    assert first.status is Status.MAX_STEPS
    rest = continuation.trace(square, first.theta, [1.0, 0.1], resume=first.state)
    assert rest.success and torch.equal(rest.thetas, whole.thetas)
    return first


def _saved_and_resumed(tmp: Path) -> TraceResult:
    whole = continuation.trace(square, near(1.0), [1.0, 0.1])
    first = continuation.trace(square, near(1.0), [1.0, 0.1], callback=lambda record, theta: record.eps < 0.5)
    first.save(tmp / "trace.pt")
    loaded = TraceResult.load(tmp / "trace.pt")
    rest = continuation.trace(square, loaded.theta, [1.0, 0.1], resume=loaded.state)
    assert torch.equal(rest.thetas, whole.thetas) and rest.success
    return first


def _damaged_file(tmp: Path) -> None:
    path = tmp / "damaged.pt"
    path.write_bytes(b"not a trace")
    TraceResult.load(path)


def _floored(theta, eps):
    """3 x 2 least squares: minimum theta_i = (1 + 2 eps) / 3, floor |1 - eps| / sqrt(3)."""
    return torch.stack([theta[0] - eps, theta[1] - eps, theta[0] + theta[1] - 1.0 - eps])


def _lm_hands_on_its_last_good_damping() -> TraceResult:
    """At a floor no step lowers the loss: LM stops and hands on its last good damping, not mu_max."""
    lm, eps = LevenbergMarquardt(), torch.tensor(0.5, dtype=DT)
    at_floor = torch.full((2,), 2 / 3, dtype=DT)
    stalled = lm.correct(continuation.as_residual_map(_floored), at_floor, eps, iterations=50, tol=1e-12)
    assert stalled.stop in (Stop.STATIONARY, Stop.STALLED) and stalled.state <= lm.mu, stalled
    result = continuation.trace(_floored, torch.zeros(2, dtype=DT), [0.0, 0.9], options=Options(tol=1e-12))
    assert result.corrector_state < lm.mu_max
    return result


def _callbacks_at_every_point(method: str, path) -> Callable[[], TraceResult]:
    def run():
        seen = []
        result = continuation.trace(s_curve if method == "arclength" else square,
                                    near(2.0 if method == "arclength" else 1.0), path, method=method,
                                    callback=lambda record, theta: seen.append(record.eps))
        assert seen == result.eps, (seen, result.eps)
        return result

    return run


def _strict_json() -> TraceResult:
    result = continuation.trace(_after(12, square, lambda t, e: torch.full_like(t, math.nan)), near(1.0),
                                [1.0, 0.1], options=Options(ds_min=1e-3))
    json.dumps(result.summary(), allow_nan=False)
    return result


def _float32_end_to_end() -> TraceResult:
    result = continuation.trace(square, near(0.9, torch.float32), [1.0, 0.25], options=Options(tol=1e-5))
    assert result.thetas.dtype == torch.float32
    return result


def _fold_refined_to_fold_tol() -> TraceResult:
    result = continuation.trace(s_curve, near(2.0), [-2.0, 2.0], method="arclength",
                                options=Options(tol=1e-12, ds_max=0.2, fold_tol=1e-10))
    assert [abs(abs(e.eps) - math.sqrt(0.5)) < 1e-10 for e in result.events] == [True, True]
    return result


def _fold_refinement_fails() -> TraceResult:
    class FailsOnTightTol(LevenbergMarquardt):
        def correct(self, problem, theta, eps, *, iterations, tol, state=None):
            if tol < 1e-12:
                raise RuntimeError("refinement exploded")
            return super().correct(problem, theta, eps, iterations=iterations, tol=tol, state=state)

    return continuation.trace(s_curve, near(2.0), [-2.0, 2.0], method="arclength", corrector=FailsOnTightTol(),
                              options=Options(tol=1e-12, ds_max=0.2, fold_tol=1e-13))


def _landing_fails() -> TraceResult:
    class FailsAtTheBoundary(LevenbergMarquardt):
        def correct(self, problem, theta, eps, *, iterations, tol, state=None):
            if theta.numel() == 1 and float(eps) == 2.0:  # the landing corrects theta alone at the boundary
                raise RuntimeError("no landing")
            return super().correct(problem, theta, eps, iterations=iterations, tol=tol, state=state)

    return continuation.trace(s_curve, near(2.0), [-2.0, 2.0], method="arclength", corrector=FailsAtTheBoundary(),
                              options=Options(tol=1e-12, ds_max=0.2))


def _within(seconds: float, run: Callable[[], TraceResult]) -> Callable[[], TraceResult]:
    def timed():
        start = time.perf_counter()
        result = run()
        assert time.perf_counter() - start < seconds, f"took {time.perf_counter() - start:.1f} s"
        return result

    return timed


_nan = lambda *args, **kwargs: torch.full((1,), math.nan, dtype=DT)  # noqa: E731
_misfit, _misfit_theta0 = misfit_problem()

CASES = [
    # ------------------------------------------------------------------ bad input: errors before any work
    Case("bad input", "eps_path is a set", _trace(square, near(1.0), {1.0, 0.5}),
         Raises(TypeError, "eps_path must be an ordered sequence .* got set")),
    Case("bad input", "eps_path is a dict", _trace(square, near(1.0), {1.0: 0, 0.5: 1}),
         Raises(TypeError, "eps_path must be an ordered sequence .* got dict")),
    Case("bad input", "eps_path is a generator", _trace(square, near(1.0), (v for v in [1.0, 0.5])),
         Raises(TypeError, "eps_path must be an ordered sequence")),
    Case("bad input", "theta0 has a NaN", _trace(square, near(math.nan), [1.0, 0.5]),
         Raises(ValueError, "theta0 must be finite")),
    Case("bad input", "eps-derivative of a float32 residual is float64",
         _trace(_Eps64(), near(0.9, torch.float32), [1.0, 0.5]),
         Raises(TypeError, "eps-derivative .* returned dtype torch.float64, but theta0 has dtype torch.float32")),
    Case("bad input", "float32 points in a float64 residual",
         _trace(lambda t, e: torch.ones(1, 1) @ (t - e).reshape(1, 1), near(1.0), [1.0, 0.5]),
         Raises(TypeError, r"residual\(theta0, eps_path\[0\]=1\) fails: .*dtype.*; theta0 is torch.float64 on cpu"
                           r".*\.to\(theta0\)")),
    Case("bad input", "a shape error inside the residual", _trace(lambda t, e: torch.ones(2, dtype=DT) @ (t - e),
                                                                  near(1.0), [1.0, 0.5]),
         Raises(RuntimeError, "inconsistent|size|shape")),
    Case("bad input", "the residual's length follows eps",
         _trace(lambda t, e: (t - e).repeat(1 if float(e) > 0.7 else 2), near(1.0), [1.0, 0.5]),
         Raises(ValueError, r"residual returns 1 value at eps_path\[0\]=1 but 2 at eps_path\[-1\]=0.5: .*resample")),
    Case("bad input", "an option passed to trace as a keyword", _trace(square, near(1.0), [1.0, 0.5], tol=1e-6),
         Raises(TypeError, r"unexpected keyword argument 'tol': it is an option, pass "
                           r"options=continuation.Options\(tol=1e-06\)")),
    Case("bad input", "a misspelt keyword of trace", _trace(square, near(1.0), [1.0, 0.5], adaptiv=False),
         Raises(TypeError, "unexpected keyword argument 'adaptiv'; did you mean adaptive")),
    Case("bad input", "LM corrector_state is negative", _trace(square, near(1.0), [1.0, 0.5], corrector_state=-1.0),
         Raises(ValueError, "corrector_state of Levenberg-Marquardt must be a damping")),
    Case("bad input", "LM corrector_state is NaN", _trace(square, near(1.0), [1.0, 0.5], corrector_state=math.nan),
         Raises(ValueError, "corrector_state of Levenberg-Marquardt .* got nan")),
    Case("bad input", "LM corrector_state above mu_max", _trace(square, near(1.0), [1.0, 0.5], corrector_state=1e9),
         Raises(ValueError, "corrector_state of Levenberg-Marquardt")),
    Case("bad input", "LevenbergMarquardt(mu=0)", lambda: LevenbergMarquardt(mu=0.0),
         Raises(ValueError, "mu must be a positive finite number, got 0.0")),
    Case("bad input", "LevenbergMarquardt(mu_max=inf)", lambda: LevenbergMarquardt(mu_max=math.inf),
         Raises(ValueError, "mu_max must be a positive finite number, got inf")),
    Case("bad input", "LevenbergMarquardt(mu outside its bounds)", lambda: LevenbergMarquardt(mu=1.0, mu_max=0.5),
         Raises(ValueError, r"mu must lie in \[mu_min, mu_max\]")),
    Case("bad input", "Options(lm_mu outside its bounds)", lambda: Options(lm_mu=1e9),
         Raises(ValueError, "options.lm_mu must lie in")),
    Case("bad input", "inner_product with two arguments",
         _trace(square, near(1.0), [1.0, 0.5], method="arclength", inner_product=lambda a, b: a @ b),
         Raises(TypeError, r"inner_product must be a function inner_product\(theta, a, b\)")),
    Case("bad input", "resume with another eps_path",
         lambda: continuation.trace(square, near(1.0), [1.0, 0.2],
                                    resume=continuation.trace(square, near(1.0), [1.0, 0.5]).state),
         Raises(ValueError, "eps_path must be that of the resumed trace")),
    Case("bad input", "resume from another theta",
         lambda: continuation.trace(square, near(0.3), [1.0, 0.5],
                                    resume=continuation.trace(square, near(1.0), [1.0, 0.5]).state),
         Raises(ValueError, "theta0 must be the last accepted point of the resumed trace")),
    Case("bad input", "a damaged result file", lambda: _damaged_file(Path(__import__("tempfile").mkdtemp())),
         Raises(ValueError, "cannot load a trace result from .*damaged.pt")),
    Case("bad input", "numpy scalars in Options are accepted",
         _trace(square, near(1.0), [1.0, 0.5], options=Options(tol=np.float64(1e-8), max_steps=np.int64(50))),
         Ends(Status.SUCCESS)),
    # ------------------------------------------------------------------ honest status: no success off the path
    Case("honest status", "residual cut from the graph below eps = 0.5",
         _within(10, _trace(_detached_below_half, near(0.9), [1.0, 0.45])),
         Ends(Status.STEP_TOO_SMALL, lambda r: "degenerate jacobian" in r.message and r.eps[-1] > 0.45)),
    Case("honest status", "no real root (theta^2 = -0.01), warm start",
         _trace(square, near(1.0), [1.0, -0.01], predictor="none"), Ends(Status.NOT_CONVERGED)),
    Case("honest status", "no real root on a fixed schedule",
         _trace(square, near(1.0), [1.0, -1.0], adaptive=False), Ends(Status.CORRECTOR_FAILED, _path_kept)),
    Case("honest status", "no corrector (pure Euler) ends off tol",
         _trace(square, near(1.0), [1.0, 0.2], corrector="none", adaptive=False, options=Options(tol=1e-12)),
         Ends(Status.NOT_CONVERGED, lambda r: r.eps[-1] == 0.2)),
    Case("honest status", "a least-squares floor is not a success",
         _trace(_floored, torch.zeros(2, dtype=DT), [0.0, 0.5]), Ends(Status.FLOOR, lambda r: "stationary at ||H||" in r.message)),
    Case("honest status", "a weakly pinned solution off the exact one is not a success",
         _trace(continuation.FunctionResidual(_weakly_pinned, outputs=lambda t: t[:1] - t[1:]),
                torch.tensor([0.5, 0.5], dtype=DT), [1.0, 0.5], adaptive=False),
         Ends(Status.ILL_CONDITIONED, lambda r: r.conditioning["bound"] > 1 and _path_kept(r))),
    # ------------------------------------------------------------------ non-finite values
    Case("non-finite", "NaN residual below eps = 0.3",
         _trace(lambda t, e: torch.where(e < 0.3, torch.full_like(t, math.nan), t**2 - e), near(1.0), [1.0, 0.1],
                options=Options(ds_min=1e-3)), Ends(Status.STEP_TOO_SMALL, lambda r: r.eps[-1] >= 0.3)),
    Case("non-finite", "Inf residual from the 12th evaluation",
         _trace(_after(12, square, lambda t, e: torch.full_like(t, math.inf)), near(1.0), [1.0, 0.1],
                options=Options(ds_min=1e-3)), Ends(Status.STEP_TOO_SMALL, _path_kept)),
    Case("non-finite", "NaN velocity from the predictor",
         _trace(square, near(1.0), [1.0, 0.1], predictor=_BrokenPredictor(lambda t: torch.full_like(t, math.nan)),
                options=Options(ds_min=1e-3)), Ends(Status.STEP_TOO_SMALL, _path_kept)),
    Case("non-finite", "NaN from the corrector at its 3rd call",
         _trace(square, near(1.0), [1.0, 0.1], corrector=_BrokenCorrector(
             3, lambda r: CorrectorResult(r.theta, 1, math.nan, False, "nan", None, Stop.NON_FINITE)),
                options=Options(ds_min=1e-3)), Ends(Status.STEP_TOO_SMALL, _path_kept)),
    Case("non-finite", "NaN at the initial point", _trace(_after(2, square, _nan), near(1.0), [1.0, 0.1]),
         Ends(Status.INITIAL_CORRECTION_FAILED, lambda r: r.eps == [])),
    Case("non-finite", "NaN on a fixed schedule", _trace(_after(8, square, _nan), near(1.0), [1.0, 0.5, 0.2],
                                                        adaptive=False),
         Ends(Status.CORRECTOR_FAILED, _path_kept)),
    # ------------------------------------------------------------------ exceptions in user code
    Case("exceptions", "the residual raises below eps = 0.5",
         _trace(lambda t, e: (_ for _ in ()).throw(RuntimeError("solver exploded")) if float(e) < 0.5 else t**2 - e,
                near(1.0), [1.0, 0.1], options=Options(ds_min=1e-3)),
         Ends(Status.STEP_TOO_SMALL, lambda r: "solver exploded" in r.message and min(r.eps) >= 0.5)),
    Case("exceptions", "the corrector raises at its 3rd call",
         _trace(square, near(1.0), [1.0, 0.1], corrector=_BrokenCorrector(3, _raise(FloatingPointError("diverged"))),
                options=Options(ds_min=1e-3)), Ends(Status.STEP_TOO_SMALL, _path_kept)),
    Case("exceptions", "the corrector raises at the initial point",
         _trace(square, near(1.0), [1.0, 0.1], corrector=_BrokenCorrector(1, _raise(FloatingPointError("diverged")))),
         Ends(Status.INITIAL_CORRECTION_FAILED, lambda r: "diverged" in r.message)),
    Case("exceptions", "the predictor raises",
         _trace(square, near(1.0), [1.0, 0.1], predictor=_BrokenPredictor(_raise(RuntimeError("no velocity"))),
                options=Options(ds_min=1e-3)), Ends(Status.STEP_TOO_SMALL, lambda r: "no velocity" in r.message)),
    Case("exceptions", "the callback raises at the 3rd point",
         _trace(square, near(1.0), [1.0, 0.1], callback=_after(3, lambda r, t: False, _raise(RuntimeError("boom")))),
         Ends(Status.CALLBACK_FAILED, lambda r: len(r.eps) == 3 and "boom" in r.message)),
    Case("exceptions", "a diagnostic raises at the 2nd point",
         _trace(square, near(1.0), [1.0, 0.1], diagnostics={"x": _after(2, lambda p, t, e: 1.0, lambda *a: 1 / 0)}),
         Ends(Status.DIAGNOSTIC_FAILED, lambda r: len(r.eps) == 2 and "ZeroDivisionError" in r.message)),
    Case("exceptions", "the fold refinement raises", _fold_refinement_fails,
         Ends(Status.LEFT_RANGE, lambda r: [e.refined for e in r.events] == [False, False])),
    Case("exceptions", "the landing on the range boundary raises", _landing_fails,
         Ends(Status.LANDING_FAILED, lambda r: len(r.events) == 2 and "no landing" in r.message)),
    # ------------------------------------------------------------------ wrong shapes, dtypes
    Case("invalid state", "the predictor's velocity has the wrong shape",
         _trace(square, near(1.0), [1.0, 0.1], predictor=_BrokenPredictor(lambda t: torch.ones(2, dtype=DT))),
         Ends(Status.INVALID_STATE, lambda r: "velocity has shape (2,)" in r.message)),
    Case("invalid state", "the corrector returns a longer theta",
         _trace(square, near(1.0), [1.0, 0.1], corrector=_BrokenCorrector(
             2, lambda r: CorrectorResult(torch.cat([r.theta, r.theta]), 1, 0.0, True, "ok"))),
         Ends(Status.INVALID_STATE, lambda r: "corrected state has shape (2,)" in r.message and len(r.eps) == 1)),
    Case("invalid state", "the corrector returns float32",
         _trace(square, near(1.0), [1.0, 0.1], corrector=_BrokenCorrector(
             2, lambda r: CorrectorResult(r.theta.float(), 1, 0.0, True, "ok"))),
         Ends(Status.INVALID_STATE, lambda r: "dtype torch.float32" in r.message)),
    Case("invalid state", "the corrector returns a wrong shape at the initial point",
         _trace(square, near(1.0), [1.0, 0.1], corrector=_BrokenCorrector(
             1, lambda r: CorrectorResult(r.theta[None], 1, 0.0, True, "ok"))),
         Ends(Status.INITIAL_CORRECTION_FAILED, lambda r: "shape (1, 1)" in r.message)),
    # ------------------------------------------------------------------ interrupts
    Case("interrupts", "KeyboardInterrupt in the residual, then resume", _interrupt_then_resume,
         Ends(Status.INTERRUPTED, _path_kept)),
    Case("interrupts", "KeyboardInterrupt in the callback",
         _trace(square, near(1.0), [1.0, 0.1], callback=_after(4, lambda r, t: False, _raise(KeyboardInterrupt()))),
         Ends(Status.INTERRUPTED, lambda r: len(r.eps) == 4)),
    Case("interrupts", "KeyboardInterrupt in an arclength step",
         _trace(_after(40, s_curve, _raise(KeyboardInterrupt())), near(2.0), [-2.0, 2.0], method="arclength"),
         Ends(Status.INTERRUPTED, _path_kept)),
    # ------------------------------------------------------------------ resume
    Case("resume", "natural, adaptive, cut by the callback",
         _resumed_equals_whole("natural", lambda n: {"callback": lambda r, t: r.step >= n // 2}, [1.0, 0.2],
                               _misfit, _misfit_theta0, Options(corrector_iterations=3)),
         Ends(Status.STOPPED_BY_CALLBACK)),
    Case("resume", "arclength round two folds, cut by the callback",
         _resumed_equals_whole("arclength", lambda n: {"callback": lambda r, t: r.step >= n // 2}, [-2.0, 2.0],
                               s_curve, near(2.0), Options(tol=1e-12, ds_max=0.2)),
         Ends(Status.STOPPED_BY_CALLBACK)),
    Case("resume", "after MAX_STEPS, with more steps", _max_steps_then_more, Ends(Status.MAX_STEPS)),
    Case("resume", "saved, loaded and resumed",
         lambda: _saved_and_resumed(Path(__import__("tempfile").mkdtemp())), Ends(Status.STOPPED_BY_CALLBACK)),
    Case("resume", "arclength with no tangent at its start, resumed: the same end, not a crash",
         lambda: (lambda r: continuation.trace(_triple_root, r.theta, [-2.0, 2.0], method="arclength",
                                               resume=r.state))(
             continuation.trace(_triple_root, near(-2.0), [-2.0, 2.0], method="arclength")),
         Ends(Status.STEP_TOO_SMALL, lambda r: "no tangent at the start" in r.message and r.eps == [-2.0])),
    Case("resume", "a trace that ended solved, resumed, does nothing",
         lambda: (lambda r: continuation.trace(square, r.theta, [1.0, 0.5], resume=r.state))(
             continuation.trace(square, near(1.0), [1.0, 0.5])),
         Ends(Status.SUCCESS, lambda r: "already reached its end" in r.message)),
    # ------------------------------------------------------------------ no hangs, small defects
    Case("no hangs", "LM after a stall keeps its last good damping", _within(10, _lm_hands_on_its_last_good_damping),
         Ends(Status.FLOOR)),
    Case("no hangs", "progress bar over [1e308, -1e308]",
         _trace(square, near(1.0), [1e308, -1e308], progress=True, options=Options(max_steps=3)),
         Ends(Status.MAX_STEPS)),
    Case("small defects", "callback at every point, the last included (natural)",
         _callbacks_at_every_point("natural", [1.0, 0.2]), Ends(Status.SUCCESS)),
    Case("small defects", "callback at every point, the last included (arclength)",
         _callbacks_at_every_point("arclength", [-2.0, 2.0]), Ends(Status.LEFT_RANGE)),
    Case("small defects", "folds located to fold_tol", _fold_refined_to_fold_tol, Ends(Status.LEFT_RANGE)),
    Case("small defects", "first arclength step within ds_max",
         _trace(s_curve, near(2.0), [-2.0, 2.0], method="arclength", options=Options(ds=5.0, ds_max=0.1,
                                                                                      max_steps=2)),
         Ends(Status.MAX_STEPS, lambda r: r.steps[1].ds == 0.1)),
    Case("small defects", "summary is strict JSON with NaN rows", _strict_json, Ends(Status.STEP_TOO_SMALL)),
    Case("small defects", "float32 end to end", _float32_end_to_end, Ends(Status.SUCCESS)),
]


def outcome(expect) -> str:
    """The outcome column of the reliability table."""
    if isinstance(expect, Raises):
        return f"clean error ({expect.error.__name__})"
    if expect.status in (Status.SUCCESS, Status.LEFT_RANGE, Status.MAX_ARCLENGTH):
        return f"result ({expect.status.value})"
    return f"clean status ({expect.status.value})"


def reliability_table() -> str:
    """The markdown table of docs/reliability.md: one row per case, by category."""
    counts = Counter(case.category for case in CASES)
    rows = ["| category | case | outcome |", "| --- | --- | --- |"]
    rows += [f"| {case.category} | {case.name} | {outcome(case.expect)} |" for case in CASES]
    summary = ", ".join(f"{category}: {count}" for category, count in counts.items())
    return f"{len(CASES)} cases ({summary}).\n\n" + "\n".join(rows)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}: {c.name}" for c in CASES])
def test_fault_case(case: Case):
    if isinstance(case.expect, Raises):
        with pytest.raises(case.expect.error, match=case.expect.match):
            case.run()
        return
    result = case.run()
    assert result.status is case.expect.status, result.message
    assert result.message
    assert len(result.eps) == len(result.thetas) == result.accepted
    if case.expect.check is not None:
        assert case.expect.check(result), result.message


def test_reliability_page_lists_every_case():
    page = (Path(__file__).parents[1] / "docs" / "reliability.md").read_text()
    assert reliability_table() in page, "docs/reliability.md is stale: run python tests/test_faults.py"


@st.composite
def random_problems(draw):
    """Small random least-squares paths, some solvable, some with a floor (more equations than unknowns)."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    m, p = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    a, b, y, c = (torch.from_numpy(v) for v in (rng.standard_normal((m, p)), rng.standard_normal((p, p)),
                                                 rng.standard_normal(m), rng.standard_normal(m)))
    return (lambda theta, eps: a @ torch.tanh(b @ theta) - eps * y - c * eps**2), torch.from_numpy(
        rng.standard_normal(p))


@settings(max_examples=40, deadline=None)
@given(random_problems(), st.sampled_from(["lm", "gauss-newton", "none"]), st.booleans(),
       st.sampled_from(["natural", "arclength"]))
def test_success_is_a_promise(problem, corrector, adaptive, method):
    """Whatever the problem, ``result.success`` implies ``||H(result.theta)|| <= tol``, and every status says why."""
    residual, theta0 = problem
    options = Options(max_steps=60, tol=1e-8)
    result = continuation.trace(residual, theta0, [1.0, 0.2], corrector=corrector, adaptive=adaptive,
                                method=method, options=options)
    assert result.message
    if result.success:
        eps = torch.tensor(result.eps[-1], dtype=DT)
        assert float(torch.linalg.vector_norm(residual(result.theta, eps))) <= options.tol
    if result.status in (Status.FLOOR, Status.NOT_CONVERGED):
        assert "tol" in result.message or "stationary" in result.message


if __name__ == "__main__":
    print(reliability_table())
