"""Frequency analysis and the tiering rules of the original experiments.

A tiering is an int array `tier_V` (tier index per token id, 0 = most frequent tier, -1 = no tier)
plus the frequency order it came from. All rules start from the original's observed list: tokens
that occur, sorted by count descending with Python's stable sort, so tied counts keep the order in
which each token first appears in the corpus. Rules run on the host in numpy: they are per-corpus
bookkeeping, and their errors (empty or overlapping tiers) must be raised before jitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from jaxbespoke.utils.errors import ConfigError, check_ids

NAMES3 = ("high", "mid", "low")


@dataclass(frozen=True)
class Tiers:
    """A tiering of a vocabulary: tier per id, tier names, and the corpus frequencies behind it."""

    tier_V: np.ndarray        # (V,) int32 tier per id; -1 = in no tier
    names: tuple[str, ...]
    order: np.ndarray         # observed ids, most frequent first (stable on ties)
    counts_V: np.ndarray      # (V,) occurrence counts

    @property
    def vocab_size(self) -> int:
        return int(self.tier_V.shape[0])

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(int((self.tier_V == t).sum()) for t in range(len(self.names)))

    def mass(self) -> tuple[float, ...]:
        """Fraction of corpus occurrences that fall in each tier."""
        total = self.counts_V.sum()
        return tuple(float(self.counts_V[self.tier_V == t].sum() / total)
                     for t in range(len(self.names)))

    def rows_V(self) -> np.ndarray:
        """Row of each id inside its own tier's compact table (rank within sorted(tier ids))."""
        return compact_rows(self.tier_V, len(self.names))


def compact_rows(tier_V: ArrayLike, n_tiers: int) -> np.ndarray:
    """(V,) row of each id inside its own tier's compact table: its rank among the sorted ids of
    its tier (0 for ids in no tier)."""
    tier_V = np.asarray(tier_V)
    rows = np.zeros(tier_V.shape[0], np.int32)
    for t in range(n_tiers):
        ids = np.flatnonzero(tier_V == t)
        rows[ids] = np.arange(ids.size)
    return rows


def cutoff_bands(vocab_size: int, cutoffs: Sequence[int]) -> np.ndarray:
    """fairseq AdaptiveInput's contiguous bands as a tier map (V,): ids [0, c0) -> 0, [c0, c1)
    -> 1, ..., [c_last, V) -> the last band. Cutoffs must increase inside (0, V]; a last cutoff
    equal to V adds no band (fairseq appends V when it is missing). The bands are meaningful
    only if ids are sorted by frequency, most frequent first."""
    cutoffs = [int(c) for c in cutoffs]
    if vocab_size < 1:
        raise ConfigError(f"vocab_size must be >= 1, got {vocab_size}")
    if not cutoffs or any(not 0 < c <= vocab_size for c in cutoffs) or \
            any(a >= b for a, b in zip(cutoffs, cutoffs[1:])):
        raise ConfigError(f"cutoffs must increase inside (0, {vocab_size}], got {cutoffs}")
    inner = cutoffs[:-1] if cutoffs[-1] == vocab_size else cutoffs
    return np.searchsorted(np.asarray(inner), np.arange(vocab_size), side="right").astype(np.int32)


def frequency_order(tokens: ArrayLike, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(observed ids sorted by count desc, ties by first appearance; counts per id)."""
    tokens = np.asarray(tokens).ravel()
    check_ids(tokens, vocab_size)
    counts = np.bincount(tokens, minlength=vocab_size)
    ids, first = np.unique(tokens, return_index=True)
    order = ids[np.lexsort((first, -counts[ids]))]
    return order.astype(np.int32), counts


def _increasing_inside(bounds, last_closed: bool = False) -> bool:
    """0 = b0 < b1 < ... < 1 (the last inner bound may equal 1 when last_closed)."""
    inner = bounds[1:-1]
    if not inner:
        return False
    ok = all(a < b for a, b in zip(bounds[:-2], inner))
    return ok and (inner[-1] <= 1.0 if last_closed else inner[-1] < 1.0)


def _check_disjoint_nonempty(tier_V: np.ndarray, names, allow_empty=()) -> None:
    for t, name in enumerate(names):
        if name not in allow_empty and not (tier_V == t).any():
            raise ConfigError(f"tier {name!r} is empty")


def top_bottom(tokens: ArrayLike, vocab_size: int, n_high: int, n_low: int) -> Tiers:
    """The 50-epoch rule: high = top n_high observed, low = the last n_low observed, mid = the
    rest of range(V), never-seen ids included."""
    if n_high < 0 or n_low < 0:
        raise ConfigError(f"tier sizes must be >= 0, got high={n_high}, low={n_low}")
    if n_high + n_low > vocab_size:
        raise ConfigError(f"tier sizes high={n_high} + low={n_low} exceed vocab_size={vocab_size}")
    order, counts = frequency_order(tokens, vocab_size)
    if n_high + n_low > order.size:
        raise ConfigError(f"high={n_high} and low={n_low} overlap: only {order.size} token types "
                          f"occur in the corpus (need at least {n_high + n_low})")
    tier_V = np.ones(vocab_size, np.int32)
    tier_V[order[:n_high]] = 0
    tier_V[order[order.size - n_low:]] = 2
    _check_disjoint_nonempty(tier_V, NAMES3, allow_empty=[n for n, k in
                                                          (("high", n_high), ("low", n_low)) if k == 0])
    return Tiers(tier_V, NAMES3, order, counts)


def cumulative_mass(tokens: ArrayLike, vocab_size: int,
                    cutoffs: Sequence[float] = (0.6, 0.85)) -> Tiers:
    """Tier by the summed mass of the tokens ranked before each token: < cutoffs[0] -> high, ...,
    else the last tier. Never-seen ids belong to no tier (-1), as in the original."""
    cutoffs = tuple(float(c) for c in cutoffs)
    if not _increasing_inside((0.0,) + cutoffs + (1.0,), last_closed=True):
        raise ConfigError(f"cumulative cutoffs must increase inside (0, 1], got {cutoffs}")
    order, counts = frequency_order(tokens, vocab_size)
    before = np.concatenate([[0], np.cumsum(counts[order])[:-1]]) / counts.sum()
    tier_V = np.full(vocab_size, -1, np.int32)
    tier_V[order] = np.searchsorted(np.asarray(cutoffs), before, side="right")
    names = NAMES3 if len(cutoffs) == 2 else tuple(f"tier{i}" for i in range(len(cutoffs) + 1))
    _check_disjoint_nonempty(tier_V, names)
    return Tiers(tier_V, names, order, counts)


def rank_fractions(tokens: ArrayLike, vocab_size: int, fractions: Sequence[float] = (0.1, 0.8),
                   unseen: int = 1) -> Tiers:
    """Tier by rank among the n observed types: rank < int(f0 n) -> high, < int(f1 n) -> mid, else
    low. Never-seen ids go to tier `unseen` (mid in the original's rank rules)."""
    fractions = tuple(float(f) for f in fractions)
    if not _increasing_inside((0.0,) + fractions + (1.0,)):
        raise ConfigError(f"rank fractions must increase inside (0, 1), got {fractions}")
    order, counts = frequency_order(tokens, vocab_size)
    bounds = np.array([int(f * order.size) for f in fractions])
    tier_V = np.full(vocab_size, unseen, np.int32)
    tier_V[order] = np.searchsorted(bounds, np.arange(order.size), side="right")
    names = NAMES3 if len(fractions) == 2 else tuple(f"tier{i}" for i in range(len(fractions) + 1))
    _check_disjoint_nonempty(tier_V, names)
    return Tiers(tier_V, names, order, counts)


# --------------------------------------------------------------------------- the original's buggy rules
def top_bottom_overlapping(tokens, vocab_size: int, n_high: int, n_low: int,
                           winner: str) -> Tiers:
    """high = the top n_high observed, low = the LAST n_low observed, which may overlap high when
    fewer than n_high + n_low types occur; mid = ids in neither (never-seen ids included).

    winner='low' is scaling_test's bug: the forward writes high outputs, then overwrites them with
    low outputs, so a token in both sets takes the low path (on a 1k corpus every occurring token
    does). winner='high' is working_bespoke's rule: the high test comes first. Mid may be empty.
    """
    if winner not in ("low", "high"):
        raise ConfigError(f"unknown overlap winner {winner!r}; expected 'low' or 'high'")
    if n_high < 1 or n_low < 1:
        raise ConfigError(f"tier sizes must be >= 1, got high={n_high}, low={n_low}")
    order, counts = frequency_order(tokens, vocab_size)
    tier_V = np.ones(vocab_size, np.int32)
    high, low = order[:n_high], order[max(order.size - n_low, 0):]
    first, second = ((high, 0), (low, 2)) if winner == "low" else ((low, 2), (high, 0))
    tier_V[first[0]] = first[1]
    tier_V[second[0]] = second[1]
    return Tiers(tier_V, NAMES3, order, counts)


NAMES4 = ("high", "mid", "low", "special")


def rank_with_special(tokens, vocab_size: int, fractions=(0.2, 0.8), special_below: int = 10) -> Tiers:
    """bespoke_token_dimension_test's rule, by rank i among the n observed types: i < int(f0 n) ->
    high; i >= int(f1 n) -> low; otherwise id < special_below -> 'special', else mid. Never-seen ids
    are mid. Ids below 10 are always top-ranked on a Zipf corpus, so 'special' is empty in practice."""
    f0, f1 = (float(f) for f in fractions)
    if not 0 < f0 < f1 < 1:
        raise ConfigError(f"rank fractions must increase inside (0, 1), got {fractions}")
    order, counts = frequency_order(tokens, vocab_size)
    n = order.size
    rank = np.arange(n)
    tier_o = np.where(rank < int(f0 * n), 0, np.where(rank >= int(f1 * n), 2,
                                                      np.where(order < special_below, 3, 1)))
    tier_V = np.ones(vocab_size, np.int32)
    tier_V[order] = tier_o
    return Tiers(tier_V, NAMES4, order, counts)
