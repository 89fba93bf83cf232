"""Floors, confidence intervals and paired comparisons.

The original printed "p < 0.001", "Cohen's d > 0.8" and "95% CI" without computing any of them;
everything here is computed from per-seed values.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps


def entropy(p) -> float:
    """Shannon entropy in nats: the best expected loss of any predictor of i.i.d. tokens."""
    p = np.asarray(p, np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def surprisal_sd(p) -> float:
    """Standard deviation of -log p(x) for x ~ p: the per-target noise of a loss at the floor."""
    p = np.asarray(p, np.float64)
    p = p[p > 0]
    s = -np.log(p)
    return float(math.sqrt((p * (s - (p * s).sum()) ** 2).sum()))


def mean_ci(values, level: float = 0.95) -> dict:
    """Mean with a Student-t confidence interval over independent seeds."""
    v = np.asarray(values, np.float64).ravel()
    n = v.size
    mean = float(v.mean()) if n else float("nan")
    if n < 2:
        return {"mean": mean, "ci95": [float("nan"), float("nan")], "sd": float("nan"), "n": n}
    sd = float(v.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n))
    return {"mean": mean, "ci95": [mean - half, mean + half], "sd": sd, "n": n}


def prediction_interval(values, level: float = 0.95) -> list[float]:
    """Where one more independent draw falls with probability `level` (t-based): the right yardstick
    for a figure that was a single unseeded draw."""
    v = np.asarray(values, np.float64).ravel()
    n = v.size
    sd = v.std(ddof=1)
    half = sps.t.ppf(0.5 + level / 2, n - 1) * sd * math.sqrt(1 + 1 / n)
    return [float(v.mean() - half), float(v.mean() + half)]


def paired_difference(a, b, level: float = 0.95) -> dict:
    """b - a per seed: mean, CI, paired t-test p-value and Cohen's d_z."""
    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    out = mean_ci(d, level)
    if d.size >= 2 and out["sd"] > 0:
        t = out["mean"] / (out["sd"] / math.sqrt(d.size))
        out["t"] = float(t)
        out["p_value"] = float(2 * sps.t.sf(abs(t), d.size - 1))
        out["cohens_dz"] = float(out["mean"] / out["sd"])
    else:
        out.update(t=float("nan"), p_value=float("nan"), cohens_dz=float("nan"))
    return out


def verdict_exact(reported, measured) -> str:
    return "replicated" if reported == measured else "contradicted"


def verdict_single_draw(reported: float, values) -> str:
    """A reported single draw vs. the distribution of the same estimator over our seeds."""
    lo, hi = prediction_interval(values)
    return "within noise" if lo <= reported <= hi else "contradicted"


def verdict_difference(reported_diff: float, diff: dict) -> str:
    """A reported difference vs. our paired difference's CI."""
    lo, hi = diff["ci95"]
    if lo <= 0 <= hi:
        return "within noise"
    same_sign = (reported_diff > 0) == (diff["mean"] > 0)
    return "replicated" if same_sign else "contradicted"
