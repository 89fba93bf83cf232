"""Statistics over seeds: intervals that fit their quantity, paired tests, Holm, TOST.

Every interval here respects the range of what it describes: a loss or an accuracy (a *level*,
>= 0) gets a bootstrap percentile interval of the mean, which cannot leave [min, max] of the
values; a *ratio* (> 0) gets a t interval on the log scale (geometric mean); a *fraction* stays
in [0, 1]; only a *difference* (any sign) gets a plain t interval. With fewer than 4 values no
interval is given: the values themselves are shown. With fewer than 2 nothing is judged.

`single_draw` answers a different question from `summarize`: not "where is the mean", but
"where does ONE more draw of this estimator fall" (a 95% prediction interval). That is the
yardstick for a figure the original reported from one unseeded run.

The original printed "p < 0.001", "Cohen's d > 0.8" and "95% CI" without computing any of them;
everything here is computed from per-seed values.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import special as _special


class _StudentT:
    """Student's t cdf, sf and ppf: the scipy.special functions scipy.stats.t evaluates (same
    numbers), without importing scipy.stats (about 1 s of a short run's start-up)."""

    @staticmethod
    def cdf(x, df):
        return _special.stdtr(df, x)

    @staticmethod
    def sf(x, df):
        return _special.stdtr(df, -np.asarray(x))

    @staticmethod
    def ppf(q, df):
        return _special.stdtrit(df, q)


_t = _StudentT

Domain = Literal["level", "ratio", "difference", "fraction"]
DOMAINS: tuple[str, ...] = ("level", "ratio", "difference", "fraction")
LEVEL = 0.95
MIN_INTERVAL_N = 4      # below this, show the values instead of an interval
MIN_VERDICT_N = 2       # below this, no verdict at all
N_BOOT = 10_000


# --------------------------------------------------------------------------- floors' building blocks
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


# --------------------------------------------------------------------------- helpers
def _values(values) -> np.ndarray:
    v = np.asarray(values, np.float64).ravel()
    if v.size and not np.all(np.isfinite(v)):
        raise ValueError(f"non-finite value among {v.tolist()}")
    return v


def _check_domain(v: np.ndarray, domain: str) -> None:
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}")
    if domain == "level" and np.any(v < 0):
        raise ValueError(f"a level must be >= 0, got {v.min()}")
    if domain == "ratio" and np.any(v <= 0):
        raise ValueError(f"a ratio must be > 0, got {v.min()}")
    if domain == "fraction" and (np.any(v < 0) or np.any(v > 1)):
        raise ValueError(f"a fraction must lie in [0, 1], got {v.min()}..{v.max()}")


def _tq(n: int, level: float = LEVEL) -> float:
    return float(_t.ppf(0.5 + level / 2, n - 1))


def bootstrap_mean_interval(values, level: float = LEVEL, n_boot: int = N_BOOT,
                            seed: int = 0) -> list[float]:
    """Percentile bootstrap interval of the mean (resampling seeds). Always inside [min, max]."""
    v = _values(values)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, (n_boot, v.size))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return [float(max(lo, v.min())), float(min(hi, v.max()))]


# --------------------------------------------------------------------------- summaries
def summarize(values, domain: Domain) -> dict:
    """Center and 95% interval of a quantity measured once per seed.

    level: mean, bootstrap percentile interval; ratio: geometric mean, t interval of the mean
    log; difference: mean, t interval; fraction: mean, bootstrap percentile interval. With
    n < 4 the interval is None (the values are the summary); n = 0 is an error."""
    v = _values(values)
    _check_domain(v, domain)
    n = v.size
    if n == 0:
        raise ValueError("no values to summarize")
    if domain == "ratio":
        lv = np.log(v)
        center, kind = float(np.exp(lv.mean())), "geometric mean"
    else:
        center, kind = float(v.mean()), "mean"
    out = {"values": v.tolist(), "n": n, "center": center, "center_kind": kind,
           "interval": None, "method": f"n={n}: values shown, no interval"}
    if n < MIN_INTERVAL_N or np.ptp(v) == 0:
        if n >= MIN_INTERVAL_N:
            out.update(interval=[center, center], method=f"all {n} values equal")
        return out
    if domain == "ratio":
        half = _tq(n) * lv.std(ddof=1) / math.sqrt(n)
        out.update(interval=[float(np.exp(lv.mean() - half)), float(np.exp(lv.mean() + half))],
                   method=f"t interval of the mean log (n={n}), back-transformed")
    elif domain == "difference":
        half = _tq(n) * v.std(ddof=1) / math.sqrt(n)
        out.update(interval=[center - half, center + half], method=f"t interval (n={n})")
    else:
        out.update(interval=bootstrap_mean_interval(v),
                   method=f"bootstrap percentile interval of the mean (n={n}, {N_BOOT:,} resamples)")
    return out


def single_draw(values, domain: Domain, level: float = LEVEL) -> dict:
    """Where one more independent draw of the same estimator falls with probability `level`.

    Positive quantities (level, ratio) use a t prediction interval on the log scale, so it
    stays positive and follows their right skew; a difference uses a t prediction interval; a
    fraction one on the logit scale. Needs n >= 2 (else interval None)."""
    v = _values(values)
    _check_domain(v, domain)
    n = v.size
    if n < MIN_VERDICT_N:
        return {"interval": None, "n": n, "method": f"n={n}: no interval"}
    if np.ptp(v) == 0:
        return {"interval": [float(v[0])] * 2, "n": n, "method": f"all {n} values equal"}
    k = _tq(n, level) * math.sqrt(1 + 1 / n)
    if domain in ("level", "ratio"):
        lv = np.log(np.maximum(v, 1e-12))
        lo, hi = lv.mean() - k * lv.std(ddof=1), lv.mean() + k * lv.std(ddof=1)
        return {"interval": [float(np.exp(lo)), float(np.exp(hi))], "n": n,
                "method": f"t prediction interval on the log scale (n={n})"}
    if domain == "fraction":
        c = np.clip(v, 1e-6, 1 - 1e-6)
        lv = np.log(c / (1 - c))
        lo, hi = lv.mean() - k * lv.std(ddof=1), lv.mean() + k * lv.std(ddof=1)
        return {"interval": [float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))],
                "n": n, "method": f"t prediction interval on the logit scale (n={n})"}
    half = k * v.std(ddof=1)
    return {"interval": [float(v.mean() - half), float(v.mean() + half)], "n": n,
            "method": f"t prediction interval (n={n})"}


def unpaired_single_draw(a, b, level: float = LEVEL) -> dict:
    """One draw of b - a when the two are independent draws (the original trained its models one
    after the other on different batches): mean difference +- t * sqrt(var a + var b) *
    sqrt(1 + 1/n). Built from the two marginal samples, so it holds even when our own runs of a
    and b were paired (their correlation is discarded, as the original's design discards it)."""
    a, b = _values(a), _values(b)
    n = min(a.size, b.size)
    if n < MIN_VERDICT_N:
        return {"interval": None, "n": n, "method": f"n={n}: no interval"}
    sd = math.sqrt(a.var(ddof=1) + b.var(ddof=1))
    half = _tq(n, level) * sd * math.sqrt(1 + 1 / n)
    m = float(b.mean() - a.mean())
    return {"interval": [m - half, m + half], "n": n, "sd": sd,
            "method": f"unpaired t prediction interval, sd = sqrt(var a + var b) (n={n})"}


# --------------------------------------------------------------------------- tests
def paired_test(a, b, level: float = LEVEL) -> dict:
    """b - a per seed: mean, t interval, two-sided paired t-test p-value, Cohen's d_z."""
    d = _values(b) - _values(a)
    n = d.size
    out = {"mean": float(d.mean()) if n else float("nan"), "values": d.tolist(), "n": n,
           "interval": None, "p_value": None, "dz": None}
    if n < MIN_VERDICT_N:
        return out
    sd = float(d.std(ddof=1))
    if sd == 0:
        out.update(interval=[out["mean"]] * 2, p_value=0.0 if out["mean"] != 0 else 1.0)
        return out
    half = _tq(n, level) * sd / math.sqrt(n)
    t = out["mean"] / (sd / math.sqrt(n))
    out.update(interval=[out["mean"] - half, out["mean"] + half],
               p_value=float(2 * _t.sf(abs(t), n - 1)), dz=out["mean"] / sd, t=float(t))
    return out


def holm(p_values) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error control), in the input order."""
    p = np.asarray(p_values, np.float64)
    m = p.size
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj.tolist()


def tost(diff_values, margin: float, alpha: float = 0.05) -> dict:
    """Two one-sided paired t-tests: is the mean difference inside (-margin, +margin)?
    `equivalent` is True when both one-sided nulls are rejected at `alpha` (the 90% CI of the
    mean lies inside the margin)."""
    d = _values(diff_values)
    n = d.size
    if margin <= 0:
        raise ValueError(f"the equivalence margin must be > 0, got {margin}")
    if n < MIN_VERDICT_N:
        return {"p_value": None, "equivalent": None, "margin": margin, "n": n}
    se = d.std(ddof=1) / math.sqrt(n)
    if se == 0:
        p = 0.0 if abs(d.mean()) < margin else 1.0
    else:
        p_lo = _t.sf((d.mean() + margin) / se, n - 1)
        p_hi = _t.cdf((d.mean() - margin) / se, n - 1)
        p = float(max(p_lo, p_hi))
    return {"p_value": p, "equivalent": p < alpha, "margin": margin, "n": n}


# --------------------------------------------------------------------------- kept for other studies
def mean_ci(values, level: float = LEVEL) -> dict:
    """Mean with a Student-t interval over independent seeds (unbounded quantities only; the
    replication rows use `summarize`)."""
    v = np.asarray(values, np.float64).ravel()
    n = v.size
    mean = float(v.mean()) if n else float("nan")
    if n < 2:
        return {"mean": mean, "ci95": [float("nan"), float("nan")], "sd": float("nan"), "n": n}
    sd = float(v.std(ddof=1))
    half = float(_tq(n, level) * sd / math.sqrt(n))
    return {"mean": mean, "ci95": [mean - half, mean + half], "sd": sd, "n": n}


def paired_difference(a, b, level: float = LEVEL) -> dict:
    """b - a per seed in the older dict layout (mean, ci95, sd, n, t, p_value, cohens_dz)."""
    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    out = mean_ci(d, level)
    if d.size >= 2 and out["sd"] > 0:
        t = out["mean"] / (out["sd"] / math.sqrt(d.size))
        out.update(t=float(t), p_value=float(2 * _t.sf(abs(t), d.size - 1)),
                   cohens_dz=float(out["mean"] / out["sd"]))
    else:
        out.update(t=float("nan"), p_value=float("nan"), cohens_dz=float("nan"))
    return out
