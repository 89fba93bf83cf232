"""Rows of the sparse-attention and attention-cost figures: complete, in the vocabulary, and able to
fail (a synthetic run where the hybrid wins gets a different verdict than one where it loses)."""

from dataclasses import replace

import numpy as np
import pytest

from jaxbespoke.replication import sparse_rows as S
from jaxbespoke.replication import sparse_tests as ST
from jaxbespoke.replication import verdicts as V
from jaxbespoke.replication.figures import by_experiment, figure

N = 8


def _around(center, sd, rng, n=N, lo=1e-6, hi=None):
    v = center + sd * rng.standard_normal(n)
    return np.clip(v, lo, hi).tolist()


def synthetic(hybrid_wins: bool, n: int = N, seed: int = 0) -> dict:
    """A results dict in the experiment's layout for the random task, both modes. The printed
    single draws of the original sit in the middle of our spread either way; only whether the
    hybrid beats the baselines changes."""
    rng = np.random.default_rng(seed)
    zero_kl, hyb_kl = (0.05, 0.01) if hybrid_wins else (0.01, 0.05)
    zero_rel, hyb_rel = (0.95, 0.57) if hybrid_wins else (0.40, 0.57)
    res = {}
    for mode in ("faithful", "fixed"):
        res[mode] = {
            "full": {"ce": _around(4.10, 0.003, rng, n),
                     "train_batch_loss": _around(4.105, 0.01, rng, n)},
            "hybrid": {"kl": _around(hyb_kl, 0.001, rng, n),
                       "logits_rel_err": _around(hyb_rel, 0.02, rng, n),
                       "selector_top1_acc": _around(0.09 if hybrid_wins else 0.08, 0.003, rng,
                                                    n, hi=1)},
            "zero_head": {"kl": _around(zero_kl, 0.001, rng, n),
                          "logits_rel_err": _around(zero_rel, 0.02, rng, n)},
            "mean_head": {"kl": _around(zero_kl, 0.001, rng, n),
                          "logits_rel_err": _around(zero_rel, 0.02, rng, n)},
            "oracle_approximator": {"kl": _around(0.005, 0.0005, rng, n)},
            "oracle_exact_topk": {"kl": _around(0.005, 0.0005, rng, n)},
            "positional_selector": {"selector_top1_acc": _around(0.08 if hybrid_wins else 0.09,
                                                                 0.003, rng, n, hi=1)},
            "selector_train": {"loss": _around(3.474, 0.05, rng, n),
                               "acc": _around(0.097, 0.005, rng, n, hi=1)},
            "approximator_train": {"mse": _around(0.389, 0.02, rng, n),
                                   "rel_err": _around(0.847, 0.01, rng, n)},
        }
    per_batch = {m: {"hybrid": {"selector_top1_acc": [[a] * 3 for a in _around(
        0.092, 0.01, rng, n, hi=1)]}} for m in res}
    return {"results": {"random": res}, "per_batch": {"random": per_batch}}


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_every_registry_figure_gets_one_row_with_a_verdict():
    rows = S.sparse_rows(synthetic(True)) + S.cost_rows()
    keys = [r["key"] for r in rows]
    want = [f.key for e in ("sparse", "attention_cost") for f in by_experiment(e)]
    assert sorted(keys) == sorted(want)
    for r in rows:
        assert r["verdict"] in V.VOCABULARY, r["key"]
        assert r["number"], r["key"]


def test_the_rule_can_fail_the_hybrid_winning_or_losing_changes_the_verdicts():
    win, lose = by_key(S.sparse_rows(synthetic(True))), by_key(S.sparse_rows(synthetic(False)))
    # same number (0.57 inside both spreads); the claim decides
    assert win["sparse.logits_rel_error"]["verdict"] == V.REPLICATED
    assert lose["sparse.logits_rel_error"]["verdict"] == V.WITHIN_NOISE
    assert win["sparse.maintains_quality"]["verdict"] == V.REPLICATED
    assert lose["sparse.maintains_quality"]["verdict"] == V.NOT_REPLICATED
    # a printed number outside what the estimator produces is not replicated
    assert win["sparse.baseline_loss"]["verdict"] == V.REPLICATED
    far = synthetic(True)
    far["results"]["random"]["faithful"]["full"]["train_batch_loss"] = [3.0 + 0.01 * i
                                                                         for i in range(N)]
    assert by_key(S.sparse_rows(far))["sparse.baseline_loss"]["verdict"] == V.NOT_REPLICATED


def test_one_seed_gives_no_verdict():
    rows = S.sparse_rows(synthetic(True, n=1))
    assert {r["verdict"] for r in rows} == {V.NA}


def test_missing_runs_give_na_rows_not_errors():
    rows = S.sparse_rows({"results": {}, "per_batch": {}})
    assert {r["verdict"] for r in rows} == {V.NA}


def test_family_is_holm_corrected_and_equivalence_needs_tost():
    tests = ST.run_family(synthetic(True)["results"]["random"])
    have = [t for t in tests if t["p_value"] is not None]
    assert all(t["p_holm"] >= t["p_value"] for t in have)
    assert max(t["p_holm"] for t in have) <= 1
    t = ST.get(tests, "faithful/hybrid-zero_head/kl")
    assert t["mean"] < 0 and t["p_holm"] < ST.ALPHA and "lower" in t["finding"]
    # two identical-in-distribution variants: not "equal", only "no difference detected"
    res = synthetic(True)["results"]["random"]
    res["faithful"]["mean_head"]["kl"] = list(np.asarray(res["faithful"]["hybrid"]["kl"])
                                              + np.random.default_rng(1).normal(0, 1e-3, N))
    for t in ST.run_family(res):
        if t["kind"] == "difference":
            assert "within" not in t["finding"] and "equal" not in t["finding"].replace(
                "not evidence that they are equal", "")
    t = ST.get(ST.run_family(res), "faithful/hybrid-mean_head/kl")
    assert t["p_holm"] >= ST.ALPHA and "no difference" in t["finding"]


@pytest.mark.parametrize("key,wrong", [("attention_cost.summary_128d.speedup", 0.25),
                                       ("attention_cost.compute_512d.speedup", 1.5),
                                       ("attention_cost.memory_512d.reduction", 8.0),
                                       ("attention_cost.gpt4_128k.speedup", 9000)])
def test_cost_arithmetic_check_can_fail(key, wrong):
    fig = figure(key)
    good = S.COST[key](fig)
    bad = S.COST[key](replace(fig, reported=wrong))
    assert good["verdict"] in (V.ARTEFACT, V.REPLICATED)
    assert bad["verdict"] == V.NOT_REPLICATED


def test_cost_rows_quote_the_consistent_count():
    rows = by_key(S.cost_rows())
    assert rows["attention_cost.reduction_95"]["verdict"] == V.NOT_REPLICATED
    assert "+20%" in rows["attention_cost.reduction_95"]["number"]
    r = rows["attention_cost.gpt4_8k.speedup"]
    assert r["verdict"] == V.ARTEFACT and r["baseline"]["value"] < 1
    assert rows["attention_cost.gpt4_8k.flops"]["verdict"] == V.NOT_REPLICATED


def test_status_rows_cover_the_sparse_statuses():
    rows = S.sparse_status_rows(synthetic(True))
    assert sorted(r["key"] for r in rows) == sorted(
        f.key for f in by_experiment("status") if f.key.startswith("status.sparse_"))
    v = {r["key"]: r["verdict"] for r in rows}
    assert v["status.sparse_industry_adoption"] == V.NA
    assert v["status.sparse_validated"] == V.NOT_REPLICATED   # no configuration is cheaper
