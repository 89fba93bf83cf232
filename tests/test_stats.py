import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxbespoke import stats


def test_mean_ci_known_values():
    s = stats.mean_ci([1.0, 2.0, 3.0, 4.0])
    assert s["mean"] == 2.5 and s["n"] == 4
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2   # t(0.975, 3)
    assert s["ci95"] == pytest.approx([2.5 - half, 2.5 + half])


def test_ci_coverage_is_about_95_percent():
    rng = np.random.default_rng(0)
    hits = sum(lo <= 0 <= hi for lo, hi in
               (stats.mean_ci(rng.normal(0, 1, 8))["ci95"] for _ in range(2000)))
    assert 0.93 < hits / 2000 < 0.97


def test_paired_difference_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(1)
    a = rng.normal(3, 0.2, 16)
    shifted = stats.paired_difference(a, a + 0.02 + rng.normal(0, 0.005, 16))
    assert shifted["p_value"] < 1e-6 and shifted["ci95"][0] > 0
    null = stats.paired_difference(a, a + rng.normal(0, 0.005, 16))
    assert stats.verdict_difference(0.016, null) in ("within noise", "contradicted")
    assert stats.verdict_difference(0.016, shifted) == "replicated"
    assert stats.verdict_difference(-0.016, shifted) == "contradicted"


def test_single_draw_verdict():
    rng = np.random.default_rng(2)
    vals = rng.normal(3.0, 0.2, 16)
    assert stats.verdict_single_draw(3.1, vals) == "within noise"
    assert stats.verdict_single_draw(5.0, vals) == "contradicted"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(1e-3, 1.0), min_size=2, max_size=50))
def test_entropy_bounds(w):
    p = np.asarray(w) / np.sum(w)
    h = stats.entropy(p)
    assert -1e-12 <= h <= np.log(len(p)) + 1e-9
