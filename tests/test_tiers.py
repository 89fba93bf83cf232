import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxbespoke.data import tiers
from jaxbespoke.utils.errors import ConfigError


def test_frequency_order_breaks_ties_by_first_appearance():
    # counts: 3 -> 3, 1 -> 2, 4 -> 2, 0 -> 1; 2 never occurs. 4 appears before 1.
    toks = [4, 3, 1, 3, 4, 0, 3, 1]
    order, counts = tiers.frequency_order(toks, 5)
    assert order.tolist() == [3, 4, 1, 0]
    assert counts.tolist() == [1, 2, 0, 3, 2]


def test_top_bottom_puts_unseen_ids_in_mid_and_takes_last_observed_as_low():
    toks = [5, 5, 5, 5, 2, 2, 2, 7, 7, 0, 1, 1]          # 3,4,6 unseen; 0 least frequent
    t = tiers.top_bottom(toks, 8, n_high=2, n_low=2)
    # order: 5(4), 2(3), 7(2), 1(2)... 7 appears before 1 -> [5, 2, 7, 1, 0]
    assert t.order.tolist() == [5, 2, 7, 1, 0]
    assert t.tier_V.tolist() == [2, 2, 0, 1, 1, 0, 1, 1]  # low = last two observed: 1 and 0
    assert t.sizes == (2, 4, 2)
    assert t.mass() == pytest.approx((7 / 12, 2 / 12, 3 / 12))


def test_top_bottom_rejects_overlap_and_oversize():
    with pytest.raises(ConfigError, match="overlap"):
        tiers.top_bottom([0, 1, 2, 0], 10, n_high=2, n_low=2)
    with pytest.raises(ConfigError, match="exceed vocab_size"):
        tiers.top_bottom([0, 1], 5, n_high=4, n_low=3)
    with pytest.raises(ConfigError, match=r"\[0, 5\)"):
        tiers.top_bottom([0, 7], 5, n_high=1, n_low=1)


def test_cumulative_mass_keeps_crossing_token_in_earlier_tier():
    toks = [0] * 50 + [1] * 30 + [2] * 15 + [3] * 5    # cum_before: 0, .5, .8, .95
    t = tiers.cumulative_mass(toks, 5, cutoffs=(0.6, 0.85))
    assert t.tier_V.tolist() == [0, 0, 1, 2, -1]          # unseen id 4 is in no tier
    assert t.rows_V().tolist()[:4] == [0, 1, 0, 0]


def test_rank_fractions():
    toks = np.repeat(np.arange(10), np.arange(10, 0, -1))  # id 0 most frequent
    t = tiers.rank_fractions(toks, 12, fractions=(0.1, 0.8))
    assert t.tier_V.tolist() == [0] + [1] * 7 + [2] * 2 + [1, 1]
    with pytest.raises(ConfigError):
        tiers.rank_fractions(toks, 12, fractions=(0.8, 0.1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 29), min_size=40, max_size=200), st.integers(1, 5), st.integers(1, 5))
def test_top_bottom_partition_property(toks, n_high, n_low):
    n_obs = len(set(toks))
    if n_high + n_low > n_obs:
        with pytest.raises(ConfigError):
            tiers.top_bottom(toks, 30, n_high, n_low)
        return
    t = tiers.top_bottom(toks, 30, n_high, n_low)
    assert t.sizes[0] == n_high and t.sizes[2] == n_low and sum(t.sizes) == 30
    counts = np.bincount(toks, minlength=30)
    # every high token is at least as frequent as every observed non-high token
    assert counts[t.tier_V == 0].min() >= counts[(t.tier_V != 0) & (counts > 0)].max()
    assert (counts[t.tier_V == 2] > 0).all()
