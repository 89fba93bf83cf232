"""Floors and baselines: what the best possible model scores on each original task (nats).

A *floor* is a true lower bound on the expected loss given what the model sees: nothing trained
can beat it except by luck of a finite sample (or by reading a leak, which the floor already
includes). A *baseline* is the loss of a reference predictor that is not optimal given the input,
e.g. the best predictor that ignores the input. Where the target is a function of the input (the
window's mode), the floor is 0 and the input-independent label entropy is only a baseline.
"""

from __future__ import annotations

import math

import numpy as np

from jaxbespoke.data import corpus
from jaxbespoke.utils import stats


def pooled_floor(cfg) -> dict:
    """The 50-epoch task (i.i.d. Zipf tokens, next token from a bag of the window): floor H.
    Also the standard error of the original's estimator (mean over `batch * val_batches` targets)
    for a model at the floor."""
    p = corpus.zipf_probs(cfg.vocab_size, cfg.zipf)
    sd = stats.surprisal_sd(p)
    n = cfg.batch * cfg.val_batches
    H = stats.entropy(p)
    return {"floor": H, "floor_kind": "entropy", "entropy": H, "surprisal_sd": sd,
            "baseline": None, "original_estimator_targets": n,
            "original_estimator_se": sd / math.sqrt(n)}


def preset_floor(run, n_mc: int = 20_000, seed: int = 0) -> dict:
    """Floor (and baseline where useful) of a preset's faithful task, from the generating law:
    the entropy H, the surprisal sd, and what the task's own floor rule adds (presets.tasks:
    each task names one of the rules below)."""
    from jaxbespoke.protocols.presets.tasks import TASKS

    p = (np.full(run.vocab, 1.0 / run.vocab) if run.zipf is None
         else corpus.zipf_probs(run.vocab, run.zipf))
    out = {"entropy": stats.entropy(p), "surprisal_sd": stats.surprisal_sd(p), "baseline": None}
    out.update(TASKS[run.task].floor(run, p, np.random.default_rng(seed), n_mc))
    return out


def next_token_floor(run, p, rng, n_mc: int) -> dict:
    """A next-token target (or any target independent of the input): floor H. Read through a
    leak of an unmasked encoder: 'copy' (with positions) every position but the last reads its
    target, floor H/T; 'bag' (no positions) the Bayes loss given the window's multiset and the
    position's own token, E[-log((c'_y + p_y)/T)], by Monte Carlo (+- ~0.01)."""
    H = stats.entropy(p)
    if run.leak == "copy":
        return dict(floor=H / run.window, copy_floor=H / run.window,
                    floor_kind="H/T (unmasked positions copy their target)")
    if run.leak == "bag":
        b = bag_floor(p, run.window, n_mc, rng)
        return dict(floor=b, bag_floor=b,
                    floor_kind="bag floor (unmasked, no positions; Monte Carlo)")
    return dict(floor=H, floor_kind="entropy H")


def uniform_label_floor(run, p, rng, n_mc: int) -> dict:
    """The label is uniform and independent of the input: floor ln V."""
    return dict(floor=math.log(run.vocab), floor_kind="ln V (label independent of input)")


def mode_label_floor(run, p, rng, n_mc: int) -> dict:
    """The label is the window's mode, a function of the input: floor 0; baseline = the label
    entropy (best input-independent predictor), by Monte Carlo."""
    x = rng.choice(run.vocab, size=(n_mc, run.window), p=p)
    m = np.array([np.bincount(r, minlength=run.vocab).argmax() for r in x])
    q = np.bincount(m, minlength=run.vocab) / n_mc
    le = stats.entropy(q)
    return dict(floor=0.0, floor_kind="0 (the label is a function of the input)",
                label_entropy=le,
                baseline={"name": "label entropy (best input-independent loss)", "value": le})


def bag_floor(p, T: int, n_mc: int, rng) -> float:
    """Best loss of a position that sees the multiset of its window and its own token, but no
    positions: E[-log((c'_y + p_y) / T)], c'_y = count of the target among the window tokens
    other than the position's own. The target (the next token) is in the window except at the
    last position. Monte Carlo over windows and positions."""
    w = rng.choice(p.size, size=(n_mc, T + 1), p=p)
    i = rng.integers(0, T, n_mc)
    y = w[np.arange(n_mc), i + 1]
    c = (w[:, :T] == y[:, None]).sum(1) - (w[np.arange(n_mc), i] == y)
    return float(-np.log((c + p[y]) / T).mean())
