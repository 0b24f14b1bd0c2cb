"""The step-control ablation: each variant switches off what it says, and the command runs."""

import json
import math

import pytest

from benchmarks import record
from benchmarks.__main__ import main
from benchmarks.ablation import ABLATION, SWEEP, VARIANTS
from continuation import Options


def test_every_variant_is_valid_options_of_a_generalization_method():
    for variant in VARIANTS.values():
        assert variant.method in ("defaults", "corrector")
        Options(**variant.changes)  # validated, inf included
    assert VARIANTS["effort-no-jump"].changes == {"delta_max": math.inf}
    assert VARIANTS["corrector-no-lipschitz"].changes == {"lipschitz_c": math.inf}
    assert VARIANTS["corrector-delta-x2"].changes == {"delta_nominal": 2 * Options().delta_nominal}
    assert set(ABLATION) | set(SWEEP) == set(VARIANTS) and set(ABLATION) & set(SWEEP) == {"corrector-full"}


@pytest.mark.usefixtures("one_thread")
def test_small_budget_run_writes_json_and_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "RESULTS", tmp_path / "benchmarks" / "results")
    out = tmp_path / "ablation"
    variants = ["effort-no-jump", "corrector-no-delta", "corrector-kappa-x2"]
    main(["ablation", "--problems", "fit", "--variants", *variants, "--budget", "small", "--out", str(out)])
    assert sorted(p.name for p in out.glob("*.json")) == sorted(f"fit_{v}.json" for v in variants)
    data = json.loads((out / "fit_corrector-no-delta.json").read_text())
    assert data["variant"] == "corrector-no-delta" and data["method"] == "corrector"
    assert data["changes"] == {"delta_nominal": "inf", "delta_max": "inf"}
    assert data["options"]["delta_max"] is None and data["options"]["step_control"] == "corrector"  # inf: null
    assert "delta_max=math.inf" in data["method_detail"]
    assert all(step["accepted"] or "delta = " not in step["reason"] for step in data["trace"]["steps"])
    table = (out / "README.md").read_text()
    assert "| fit | effort-no-jump | delta_max=inf |" in table and "| fit | corrector-kappa-x2 |" in table
