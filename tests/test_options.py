import math

import pytest

from continuation import Options

BAD_VALUES = [
    ("tol", 0.0), ("tol", -1e-3), ("tol", math.nan), ("ds_min", -1.0), ("ds_max", math.inf),
    ("lipschitz_c", 0), ("rcond", 0.0), ("rcond", 1.5), ("lm_mu", -1.0), ("learning_rate", 0.0),
    ("corrector_iterations", -1), ("corrector_iterations", 2.5), ("initial_iterations", True),
    ("final_iterations", -3), ("max_steps", 0), ("residual_growth", 0.5), ("growth_max", 0.9),
    ("residual_growth", True), ("growth_max", "2"), ("step_growth_ratio", math.inf),
    ("ds", 0.0), ("max_arclength", -1.0), ("fold_tol", 0.0),
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
