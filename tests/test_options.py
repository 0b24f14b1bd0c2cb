import math

import pytest

from continuation import Options
from continuation.options import SWITCHABLE

BAD_VALUES = [
    ("tol", 0.0), ("tol", -1e-3), ("tol", math.nan), ("ds_min", -1.0), ("ds_max", math.inf),
    ("lipschitz_c", 0), ("rcond", 0.0), ("rcond", 1.5), ("lm_mu", -1.0), ("learning_rate", 0.0),
    ("corrector_iterations", -1), ("corrector_iterations", 2.5), ("initial_iterations", True),
    ("final_iterations", -3), ("max_steps", 0), ("residual_growth", 0.5), ("growth_max", 0.9),
    ("residual_growth", True), ("growth_max", "2"), ("step_growth_ratio", math.inf),
    ("ds", 0.0), ("max_arclength", -1.0), ("fold_tol", 0.0), ("gtol", 0.0), ("ftol", math.inf),
    ("step_control", "pid"), ("parametrization", "sqrt"), ("delta_nominal", -0.1), ("kappa_max", math.nan),
    ("alpha_nominal", 0.0), ("lm_mu", 1e9), ("lipschitz_c", -math.inf), ("delta_max", math.nan),
    ("tol", math.inf), ("growth_max", math.inf),
]


@pytest.mark.parametrize("name, value", BAD_VALUES)
def test_bad_value_is_rejected_with_its_name_and_value(name, value):
    with pytest.raises(ValueError, match=rf"options\.{name} .*{value!r}".replace("(", r"\(").replace(")", r"\)")):
        Options(**{name: value})


def test_ds_min_above_ds_max_is_rejected():
    with pytest.raises(ValueError, match="ds_min=0.5"):
        Options(ds_min=0.5, ds_max=0.1)


def test_options_are_frozen_and_replace_validates():
    options = Options()
    with pytest.raises(AttributeError):
        options.tol = 1.0  # type: ignore[misc]
    assert options.replace(tol=1e-3).tol == 1e-3
    with pytest.raises(ValueError, match="options.tol"):
        options.replace(tol=-1.0)


def test_nominal_values_must_not_exceed_their_maxima():
    with pytest.raises(ValueError, match="options.kappa_nominal must not exceed options.kappa_max"):
        Options(kappa_nominal=0.5, kappa_max=0.4)


def test_numpy_scalars_are_accepted_as_python_numbers():
    np = pytest.importorskip("numpy")
    options = Options(tol=np.float64(1e-8), max_steps=np.int64(50), growth_max=np.float32(1.5))
    assert type(options.tol) is float and type(options.max_steps) is int and options.growth_max == 1.5


@pytest.mark.parametrize("name", SWITCHABLE)
def test_a_step_rule_is_switched_off_by_inf(name):
    changes = {name: math.inf}
    if name.endswith("_nominal"):  # a nominal value must not exceed its maximum
        changes[name.replace("_nominal", "_max")] = math.inf
    assert getattr(Options(**changes), name) == math.inf
