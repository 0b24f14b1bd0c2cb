"""Validated, immutable options of a trace."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Optional

__all__ = ["Options", "STEP_CONTROLS", "PARAMETRIZATIONS", "LINEAR_SOLVERS", "SWITCHABLE"]

STEP_CONTROLS = ("effort", "corrector")
"""The step controls of :class:`Options` (``step_control``)."""

PARAMETRIZATIONS = ("eps", "log")
"""The parametrizations of a natural-parameter path (``parametrization``)."""

LINEAR_SOLVERS = ("dense", "cg", "auto")
"""The linear solvers of the Levenberg-Marquardt step and the Euler predictor (``linear_solver``)."""

SWITCHABLE = ("lipschitz_c", "delta_nominal", "delta_max", "kappa_nominal", "kappa_max", "alpha_nominal",
              "alpha_max")
"""The step-control constants of :class:`Options` that may be ``math.inf``: the rule is then switched off."""


@dataclass(frozen=True)
class Options:
    """Tolerances, budgets and step-control constants of :func:`continuation.trace`.

    Every field is checked when the object is made; a bad value raises
    :class:`ValueError` naming the field and the value.

    Parameters
    ----------
    tol
        The corrector has converged when ``||H|| <= tol``. A trace reports
        success only if its last point meets it.
    gtol, ftol
        The least-squares floor test, as in MINPACK and
        :func:`scipy.optimize.least_squares`: a corrector is stationary when
        ``||J^T H|| <= gtol ||J||_F ||H||`` and its last step lowered ``||H||``
        by a relative amount of at most ``ftol``. A point there is labelled
        ``"floor"``: the model cannot make the residual smaller nearby.
    corrector_iterations
        Corrector budget at each intermediate step of the path.
    initial_iterations
        Corrector budget for the first point, ``eps_path[0]``, usually
        reached from a random initialisation.
    final_iterations
        Corrector budget at the last value of ``eps_path`` (a polish), also
        for the correction after a resample there. The last step of a
        natural-parameter path is judged (``delta``, ``kappa``) after its
        first ``corrector_iterations``, as every step, and then corrected on
        (:func:`continuation.stepping.finish_correction`); a residual above
        the path's bound after those iterations is forgiven only if this
        correction reaches ``tol``. 200 (60 until
        this was measured): on the generalization suite the longer final
        correction changes nothing where 60 reached ``tol`` and lowers the
        L2RE where they did not (``troesch`` 2.2e-4 to 1.5e-5, ``bratu``
        7.0e-6 to 1.9e-6, ``turning-point`` 2.0e-6 to 9.7e-7), at a few
        seconds each (``python -m benchmarks ablation --variants
        effort-final-200``). Where the points do not resolve the solution,
        more iterations fit the points and not the function (P3 in ten
        dimensions); the validation residual says so. A trace that ended
        above ``tol`` with its corrector still going is corrected on by
        resuming it (``trace(..., resume=result.state)``): this many more
        iterations at its last ``eps``.
    catch_up_iterations
        On an adaptive path, a corrector cut by its budget with ``||H||``
        above the previous accepted point's and above ``residual_growth *
        tol``, but within ``residual_growth`` of the previous point's, goes
        on for up to this many more iterations, and stops as soon as
        ``||H||`` is back at or below the previous point's, or when its rate
        says it will not get there (:func:`continuation.stepping.catch_up`;
        not at the last step, whose budget is ``final_iterations``). Without
        it such a point is accepted where the budget ran out, and a residual
        that rises a little at every step is never rejected. A point that
        needed these iterations does not grow the step. ``0`` (the default)
        switches it off: measured with 16 (``docs/generalization.md``), it
        did not hold the path that P4 loses by such a rise at eps = 0.05 (its
        Levenberg-Marquardt corrector stagnates there; it is not short of
        iterations), and it cost 14 % more corrector iterations over the
        generalization suite for no change of verdict. It suits a corrector
        that is short of iterations, such as a fixed-budget ``adam``.
    residual_growth
        A step whose corrector has not converged is still accepted if
        ``||H||`` is at most ``residual_growth`` times the residual at the
        previous accepted point (or ``tol``, if larger); otherwise it is
        rejected and retried with half the step. Natural continuation also
        starts its corrector from the last point instead of the Euler
        prediction when the prediction's residual is more than this factor
        above the last point's at the new ``eps``
        (:func:`continuation.natural.safeguarded_prediction`).
    step_growth_ratio
        A point accepted without converging grows the next step (x1.5) if
        ``||H||`` rose by at most this factor over the previous accepted
        point. ``1`` (default) grows it only when ``||H||`` did not rise;
        ``residual_growth**0.25`` suits a residual that rises in proportion
        to the distance travelled (the start of a time homotopy), at some
        risk for weakly pinned solutions (P1 at eps = 0.01: L2RE 3.8e-3
        against 2.9e-6 with the default).
    ds
        First step in ``eps`` (absolute). ``None``: a tenth of the distance
        from ``eps_path[0]`` to ``eps_path[1]``.
    ds_min, ds_max
        Bounds on ``|deps|``. Below ``ds_min`` the trace stops. ``ds_max =
        None`` (default) is 0.1, or a hundredth of the extent of
        ``eps_path`` (its largest value less its smallest) when that extent
        exceeds 10: a parameter traced from 1 to 100 may step by 0.99, not
        0.1, which made such a trace take 990 steps at least, and one to
        1,000 end at ``max_steps``
        (:func:`continuation.setup.default_ds_max`).
    lipschitz_c
        The constant ``c`` of the Theorem 2 step rule ``|deps| L <= c``,
        ``L`` being the Lipschitz estimate of the predictor's vector field,
        measured on the function (``du/deps`` at the outputs, root-mean-square)
        when the residual map has outputs, else on the weights (natural
        continuation; arclength measures its tangents in ``(theta, eps)``).
        ``math.inf`` switches the rule off (for an ablation: what the cap
        contributes).
    growth_max
        The step grows by at most this factor per accepted step.
    max_steps
        Bound on the number of attempted steps (accepted plus rejected),
        over the whole trace: a trace resumed from one that ended
        ``max_steps`` needs a larger bound to go on.
    rcond
        Relative cut-off of the truncated SVD in the pseudo-inverses.
    function_weight
        Weight of the function in the Euler predictor, when the residual map
        has ``outputs`` (the function a network represents) and the
        predictor is dense: the velocity solves ``min ||J v + dH/deps||^2 +
        w^2 ||U v||^2`` with ``U = du/dtheta`` and ``w = function_weight *
        s_max(J) / s_max(U)`` instead of ``J v = -dH/deps`` alone
        (:class:`~continuation.EulerPredictor`). Directions that move the
        function much and the residual little (an interface that the
        equations pin only weakly) are damped rather than followed, so the
        prediction does not slide along them. ``0`` switches it off (the
        weight-space velocity). It costs the Jacobian of the outputs and a
        least-squares problem with as many more rows as ``U`` has rank, per
        step (measured in ``docs/generalization.md``).
    lm_mu
        Initial Levenberg-Marquardt damping, relative to the mean eigenvalue
        of the Gram matrix (``trace(J^T J) / n``, see
        :class:`~continuation.DampedLeastSquares`).
    lm_mu_min, lm_mu_max
        Bounds on the relative damping; reaching ``lm_mu_max`` ends the
        corrector (no step lowers the loss).
    learning_rate
        Learning rate of the ``adam`` corrector.
    weight_decay
        Decoupled weight decay of the ``adam`` corrector (``0``: Adam; a
        positive value: AdamW).
    step_control
        How the step size is set after a corrected point. ``"effort"``: from
        the corrector's iterations (or the rise of ``||H||`` at a point that
        did not converge), capped by the Lipschitz rule. ``"corrector"``:
        from the corrector's behaviour on the step, as in Allgower and Georg
        (ch. 6) and Deuflhard: ``delta``, the relative distance from the
        prediction to the corrected point, ``kappa``, the contraction of the
        second corrector step against the first, and (arclength) ``alpha``,
        the angle between consecutive tangents. A step whose ``delta`` or
        ``alpha`` exceeds its maximum is rejected, and so is one whose
        ``kappa`` does while the corrector is still on its way; the
        next one is ``ds * min(sqrt(delta_nominal / delta), sqrt(kappa_nominal /
        kappa), alpha_nominal / alpha)`` within ``[1/4, growth_max]``, capped by
        the Lipschitz rule. Distances are measured on the residual map's
        ``outputs`` (the function) when it has them, else on the state.
    delta_nominal, delta_max
        Nominal and largest relative correction (``"corrector"`` control).
        Under ``"effort"``, with known ``outputs``, a step whose correction
        moves the function by more than ``delta_max`` (relative) from the
        prediction is rejected too: the corrector jumped (to another branch,
        say) rather than corrected. Distances are relative to the size of
        the function, so on a branch where it vanishes (``u = 0``) they
        measure rounding noise: trace such a branch with ``delta_max =
        math.inf`` (:func:`continuation.defcon.deflated_continuation` does).
    kappa_nominal, kappa_max
        Nominal and largest contraction of the corrector (``"corrector"`` control).
    alpha_nominal, alpha_max
        Nominal and largest angle (radians) between consecutive arclength
        tangents (``"corrector"`` control).

        Each of these six may be ``math.inf``, which switches its rule off:
        a nominal value of ``inf`` puts no bound on the next step, a maximum
        of ``inf`` rejects no step (``delta_max = inf`` also turns off the
        jump guard of the ``"effort"`` control, and ``delta_nominal = inf``
        lets the judge take any settled point as a floor of the path, see
        :func:`continuation.stepping.judge`). A nominal value must not
        exceed its maximum, so switching a measure off entirely takes both.
    parametrization
        ``"eps"``: steps ``ds`` in ``eps``; ``"log"``: steps in ``log|eps|``
        (relative steps, for singularly perturbed paths; ``eps_path`` must
        then keep one sign and avoid 0). ``ds``, ``ds_min`` and ``ds_max``
        are in the units of the parametrization.
    linear_solver
        How the Levenberg-Marquardt step and the Euler predictor solve their
        least-squares problems: ``"dense"`` forms the Jacobian (Cholesky of
        the smaller Gram matrix; truncated SVD for the predictor); ``"cg"``
        never forms it: conjugate gradients on the normal equations with
        products by ``J`` and ``J^T`` (:meth:`~continuation.ResidualMap.products`),
        preconditioned by a randomized Nystrom sketch of ``J^T J``; the
        predictor's truncation at ``rcond * s_max`` becomes a Tikhonov damping
        ``(rcond * s_max)^2``, whose filter ``s^2 / (s^2 + damping)`` is the
        smooth counterpart of the cut-off. ``"auto"``: ``"cg"`` when the
        Jacobian would take more than 2 GiB, or when a dense iteration is
        estimated at more than 3 times the operations of a matrix-free one
        (counted on one product at the start: a fit of a network's values
        with ``min(M, P)`` above about 900, a PINN with second derivatives
        above about 2,700), else ``"dense"``
        (:func:`continuation.setup.auto_linear_solver`), decided once when
        the trace starts.
    sketch_rank, sketch_rank_max, cg_tol, cg_maxiter
        ``"cg"``: products in the first Nystrom sketch and the largest rank
        a sketch may grow to; relative residual and iteration budget of each
        conjugate-gradient solve. The rank doubles whenever the first solve
        after a sketch takes more iterations than the sketch had products,
        and halves (down to ``sketch_rank``) when the sketch predicts that
        half of it would cost less
        (:class:`continuation.linalg.SketchRank`; the corrector and the
        predictor each keep their own, and the trace's state keeps both, so
        a resumed trace goes on at the ranks it had reached);
        ``sketch_rank_max = sketch_rank`` keeps it fixed.
    conditioning_tol
        The largest first-order bound on the relative error of the solution
        that a success may carry (``None``: not checked). At the end of a
        trace whose last point meets ``tol`` and whose function is known
        (``outputs``), the bound ``kappa_u ||H|| / ||u||`` is measured
        (:mod:`continuation.conditioning`; ``kappa_u`` the function-space
        condition number): above this, the equations do not pin the solution
        (an interface or shock that may slide at no cost in residual) and the
        trace ends ``ILL_CONDITIONED`` instead of a success. The measure
        forms the Jacobian once, also after a matrix-free trace
        (``linear_solver="cg"``), while it fits in the 2 GiB of
        :data:`continuation.setup.AUTO_DENSE_BYTES`; above that the check is
        skipped and the message says so. The default, 1e-3, keeps a factor
        10 below the one per cent that the first-order bound cannot promise:
        P1 at ``eps = 0.001`` on 1,000 uniform points (seed 1) met ``tol``
        with a bound of 9.7e-3 and a relative error of 2.1e-2 (its interface
        a layer width off); every success of the benchmarks had a bound of
        at most 1.1e-4.
    validation_factor
        With a ``validation`` residual (fresh points): a trace whose last
        point meets ``tol`` ends ``UNDER_RESOLVED`` when the validation
        residual exceeds both ``tol`` and this factor times ``||H||``.
    max_arclength
        Stop an arclength trace after this arclength (``None``: no bound).
    fold_tol
        Absolute tolerance on ``eps`` when a fold is refined.

    Examples
    --------
    >>> Options(corrector_iterations=10).corrector_iterations
    10
    >>> Options(ds_min=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: options.ds_min must be a positive finite number, got -1.0
    """

    tol: float = 1e-5
    gtol: float = 1e-8
    ftol: float = 1e-8
    corrector_iterations: int = 8
    initial_iterations: int = 200
    final_iterations: int = 200
    catch_up_iterations: int = 0
    residual_growth: float = 10.0
    step_growth_ratio: float = 1.0
    ds: Optional[float] = None
    ds_min: float = 1e-6
    ds_max: Optional[float] = None
    lipschitz_c: float = 0.5
    growth_max: float = 2.0
    max_steps: int = 1000
    rcond: float = 1e-4
    function_weight: float = 1e-3
    lm_mu: float = 1e-3
    lm_mu_min: float = 1e-15
    lm_mu_max: float = 1e8
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    conditioning_tol: Optional[float] = 1e-3
    validation_factor: float = 10.0
    max_arclength: Optional[float] = None
    fold_tol: float = 1e-10
    step_control: str = "effort"
    delta_nominal: float = 0.02
    delta_max: float = 0.2
    kappa_nominal: float = 0.4
    kappa_max: float = 0.9
    alpha_nominal: float = 0.1
    alpha_max: float = 0.5
    parametrization: str = "eps"
    linear_solver: str = "dense"
    sketch_rank: int = 50
    sketch_rank_max: int = 400
    cg_tol: float = 1e-10
    cg_maxiter: int = 500

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):  # numpy scalars become Python numbers
            value = getattr(self, item.name)
            if isinstance(value, numbers.Integral) and type(value) not in (int, bool):
                object.__setattr__(self, item.name, int(value))
            elif isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and type(value) is not float:
                object.__setattr__(self, item.name, float(value))
        positive = [
            "tol", "gtol", "ftol", "ds_min", "rcond", "lm_mu",
            "lm_mu_min", "lm_mu_max", "learning_rate", "fold_tol", "cg_tol",
        ]
        for name in positive:
            _check_positive(name, getattr(self, name))
        for name in SWITCHABLE:
            _check_positive(name, getattr(self, name), infinite=True)
        for name in ["ds", "ds_max", "max_arclength", "conditioning_tol"]:
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))
        for name in ["corrector_iterations", "initial_iterations", "final_iterations", "catch_up_iterations"]:
            _check_count(name, getattr(self, name), minimum=0)
        _check_count("max_steps", self.max_steps, minimum=1)
        _check_count("sketch_rank", self.sketch_rank, minimum=1)
        _check_count("sketch_rank_max", self.sketch_rank_max, minimum=1)
        if self.sketch_rank_max < self.sketch_rank:
            raise ValueError(f"options.sketch_rank_max must be at least options.sketch_rank, got "
                             f"sketch_rank_max={self.sketch_rank_max!r} < sketch_rank={self.sketch_rank!r}")
        _check_count("cg_maxiter", self.cg_maxiter, minimum=1)
        _check_at_least("weight_decay", self.weight_decay, 0)
        _check_at_least("function_weight", self.function_weight, 0)
        for name in ["residual_growth", "step_growth_ratio", "growth_max", "validation_factor"]:
            _check_at_least(name, getattr(self, name), 1)
        if self.ds_max is not None and self.ds_min > self.ds_max:
            raise ValueError(
                f"options.ds_min must not exceed options.ds_max, got ds_min={self.ds_min!r}, "
                f"ds_max={self.ds_max!r}"
            )
        if self.lm_mu_min > self.lm_mu_max:
            raise ValueError(
                f"options.lm_mu_min must not exceed options.lm_mu_max, got "
                f"lm_mu_min={self.lm_mu_min!r}, lm_mu_max={self.lm_mu_max!r}"
            )
        for name, choices in (("step_control", STEP_CONTROLS), ("parametrization", PARAMETRIZATIONS),
                              ("linear_solver", LINEAR_SOLVERS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"options.{name} must be one of {choices}, got {getattr(self, name)!r}")
        for nominal, largest in (("delta_nominal", "delta_max"), ("kappa_nominal", "kappa_max"),
                                 ("alpha_nominal", "alpha_max")):
            if getattr(self, nominal) > getattr(self, largest):
                raise ValueError(f"options.{nominal} must not exceed options.{largest}, got "
                                 f"{getattr(self, nominal)!r} > {getattr(self, largest)!r}")
        if self.rcond >= 1:
            raise ValueError(f"options.rcond must be below 1, got {self.rcond!r}")
        if not self.lm_mu_min <= self.lm_mu <= self.lm_mu_max:
            raise ValueError(
                f"options.lm_mu must lie in [lm_mu_min, lm_mu_max] = [{self.lm_mu_min!r}, {self.lm_mu_max!r}], "
                f"got {self.lm_mu!r}"
            )

    def replace(self, **changes) -> "Options":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _check_positive(name: str, value: object, infinite: bool = False) -> None:
    """Raise unless ``value`` is a positive number, finite unless ``infinite`` (then ``math.inf`` is allowed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        (math.isfinite(value) or (infinite and value == math.inf)) and value > 0
    ):
        kind = "positive number or inf" if infinite else "positive finite number"
        raise ValueError(f"options.{name} must be a {kind}, got {value!r}")


def _check_at_least(name: str, value: object, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value >= minimum
    ):
        raise ValueError(f"options.{name} must be a finite number >= {minimum:g}, got {value!r}")


def _check_count(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"options.{name} must be an integer >= {minimum}, got {value!r}")
