"""Sparse attention: the pre-declared family of paired comparisons per task, Holm-corrected.

Input everywhere: the experiment's per-seed results of one task,
`res[mode][variant][metric] -> [value per seed]` (experiments/sparse_attention.py writes them to
its JSON under "results"/<task>). Seeds are paired across variants and modes: every variant of a
seed replaces the same head of the same trained GPT and is scored on the same batches.

The family (`FAMILY`) is fixed before looking at the data and is the same for both tasks; each
task is one family, corrected with Holm. Difference tests say "higher"/"lower" only when the
Holm-adjusted p is below ALPHA, otherwise "no difference detected" (never "no better than").
Equivalence ("as good as", "no better than") is claimed only by a TOST with a stated margin,
inside the same Holm family.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxbespoke.utils import stats

ALPHA = 0.05
# equivalence margins, declared with the family: 2 points of top-1 accuracy; for a KL, 10% of
# what deleting the head costs (the zero-head KL of the same mode and task, mean over seeds)
ACC_MARGIN = 0.02
KL_MARGIN_FRACTION = 0.10

# the domain of each per-seed metric, for stats.summarize / single_draw
DOMAIN = {"logits_rel_err": "level", "kl": "level", "ce": "level", "head_rel_err": "level",
          "selector_top1_acc": "fraction", "selector_topk_acc": "fraction",
          "topk_overlap": "fraction", "future_key_fraction": "fraction",
          "train_batch_loss": "level", "loss": "level", "acc": "fraction", "mse": "level",
          "rel_err": "level"}


@dataclass(frozen=True)
class Comparison:
    """b - a per seed, a and b = (mode, variant, metric). kind 'difference' (two-sided paired
    t-test) or 'equivalence' (TOST with margin from `margin`: 'acc' or 'kl')."""

    key: str
    question: str
    a: tuple[str, str, str]
    b: tuple[str, str, str]
    kind: str = "difference"
    margin: str | None = None


def _pair(key, question, mode, a, b, metric, **kw):
    return Comparison(key, question, (mode, a, metric), (mode, b, metric), **kw)


FAMILY: tuple[Comparison, ...] = tuple(
    c for mode in ("faithful", "fixed") for c in (
        _pair(f"{mode}/hybrid-zero_head/kl", "is the hybrid better than deleting the head?",
              mode, "zero_head", "hybrid", "kl"),
        _pair(f"{mode}/hybrid-mean_head/kl", "is the hybrid better than the head's mean output?",
              mode, "mean_head", "hybrid", "kl"),
        _pair(f"{mode}/hybrid-zero_head/logits_rel_err",
              "the original's metric: is the hybrid closer to the full logits than no head?",
              mode, "zero_head", "hybrid", "logits_rel_err"),
        _pair(f"{mode}/hybrid-oracle_approximator/kl",
              "what do the selector's keys cost against the teacher's keys?",
              mode, "oracle_approximator", "hybrid", "kl"),
        _pair(f"{mode}/selector-positional/top1",
              "does the selector beat a position lookup (teacher top-1)?",
              mode, "positional_selector", "hybrid", "selector_top1_acc"),
        _pair(f"{mode}/selector-positional/top1/tost",
              f"is the selector within +-{ACC_MARGIN:.0%} top-1 accuracy of a position lookup?",
              mode, "positional_selector", "hybrid", "selector_top1_acc",
              kind="equivalence", margin="acc"),
        _pair(f"{mode}/oracle_approximator-zero_head/kl",
              "with the teacher's keys, does the approximator beat deleting the head?",
              mode, "zero_head", "oracle_approximator", "kl"),
    )) + (
    Comparison("hybrid/faithful-fixed/kl", "does fixing the two bugs change the hybrid?",
               ("faithful", "hybrid", "kl"), ("fixed", "hybrid", "kl")),
    Comparison("oracle_approximator/faithful-fixed/kl",
               "does training on the right keys change the approximator (teacher's keys)?",
               ("faithful", "oracle_approximator", "kl"), ("fixed", "oracle_approximator", "kl")),
    _pair("fixed/oracle_approximator-oracle_exact_topk/kl/tost",
          f"fixed: is the approximator within +-{KL_MARGIN_FRACTION:.0%} of the zero-head KL of "
          "exact attention over the same keys?",
          "fixed", "oracle_exact_topk", "oracle_approximator", "kl", kind="equivalence",
          margin="kl"),
)


def values(res: dict, mode: str, variant: str, metric: str):
    """Per-seed values or None when that mode/variant/metric was not run."""
    v = res.get(mode, {}).get(variant, {}).get(metric)
    return None if v is None else np.asarray(v, np.float64)


def margin_of(c: Comparison, res: dict) -> float | None:
    if c.margin == "acc":
        return ACC_MARGIN
    if c.margin == "kl":
        z = values(res, c.a[0], "zero_head", "kl")
        return None if z is None else float(KL_MARGIN_FRACTION * z.mean())
    return None


def run_family(res: dict, family=FAMILY) -> list[dict]:
    """Every comparison of `family` whose inputs exist in `res`, with Holm-adjusted p-values
    (over the comparisons that have a p-value) and a statement at the strength they allow."""
    out = []
    for c in family:
        a, b = values(res, *c.a), values(res, *c.b)
        if a is None or b is None:
            continue
        t = stats.paired_test(a, b)
        r = {"key": c.key, "question": c.question, "kind": c.kind, "a": list(c.a),
             "b": list(c.b), "n": t["n"], "mean": t["mean"], "interval": t["interval"],
             "dz": t["dz"], "p_value": t["p_value"], "margin": None, "p_holm": None}
        if c.kind == "equivalence":
            m = margin_of(c, res)
            r["margin"] = m
            r["p_value"] = None if m is None else stats.tost(b - a, m)["p_value"]
        out.append(r)
    have = [r for r in out if r["p_value"] is not None]
    for r, p in zip(have, stats.holm([r["p_value"] for r in have]) if have else []):
        r["p_holm"] = p
    for r in out:
        r["finding"] = finding(r)
    return out


def _label(side) -> str:
    mode, variant, metric = side
    return f"{variant} ({mode})"


def finding(r: dict) -> str:
    """One sentence at the strength the Holm-adjusted p allows."""
    a, b, metric = _label(r["a"]), _label(r["b"]), r["a"][2]
    if r["p_holm"] is None:
        return f"n/a (n = {r['n']}: no test)"
    sig = r["p_holm"] < ALPHA
    if r["kind"] == "equivalence":
        return (f"{metric} of {b} is within +-{r['margin']:.3g} of {a} (TOST)" if sig else
                f"equivalence of {b} and {a} within +-{r['margin']:.3g} ({metric}) is not shown")
    if not sig:
        return (f"no difference in {metric} detected between {b} and {a} at n = {r['n']} "
                "(not evidence that they are equal)")
    return f"{metric} of {b} is {'higher' if r['mean'] > 0 else 'lower'} than {a}"


def get(tests: list[dict], key: str) -> dict | None:
    for t in tests:
        if t["key"] == key:
            return t
    return None


def significant(t: dict | None, sign: int) -> bool | None:
    """True when t is Holm-significant in direction `sign` (+1: b > a), False when not, None
    when the test is absent."""
    if t is None or t["p_holm"] is None:
        return None
    return bool(t["p_holm"] < ALPHA and np.sign(t["mean"]) == sign)
