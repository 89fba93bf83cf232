import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.data import tiers
from jaxbespoke.nn import strategies
from jaxbespoke.nn.embeddings import param_count
from jaxbespoke.nn.gpt import GPTConfig, lm_loss
from jaxbespoke.nn.lm import EmbeddingLM, body_param_formula
from jaxbespoke.scripts import embedding_strategies as script
from jaxbespoke.studies import embedding_strategies as E
from jaxbespoke.utils import cli


def tiny_model_and_data(V=30, T=5):
    rng = np.random.default_rng(0)
    val = (rng.zipf(1.3, 203) % V).astype(np.int32)
    t = tiers.rank_fractions(val, V, (0.1, 0.4), unseen=2)
    b = strategies.Bands.from_tiers(t)
    cfg = GPTConfig(vocab_size=V, block_size=T, n_layer=1, n_head=2, n_embd=8)
    emb = strategies.Plan("adaptive", V, 8, (8, 4, 2), b.sizes).build(b, rngs=nnx.Rngs(0))
    model = EmbeddingLM(emb, cfg, rngs=nnx.Rngs(1))
    x, y, m = E.eval_windows(val, T, chunk=4)
    return model, (jnp.asarray(x), jnp.asarray(y), jnp.asarray(m)), val, b, cfg


def test_lm_params_and_shapes():
    model, _, _, _, cfg = tiny_model_and_data()
    assert param_count(model) == param_count(model.embed) + body_param_formula(cfg)
    assert model(jnp.zeros((2, 5), jnp.int32)).shape == (2, 5, 30)


def test_eval_windows_cover_the_split_once():
    val = np.arange(23, dtype=np.int32)
    x, y, m = E.eval_windows(val, 4, chunk=2)
    assert x.shape == (3, 2, 4) and m.sum() == 5 * 4           # 5 windows, padded to 6
    xs, ys = x.reshape(-1, 4)[:5].ravel(), y.reshape(-1, 4)[:5].ravel()
    assert np.array_equal(xs, val[:20]) and np.array_equal(ys, val[1:21])


@pytest.mark.parametrize("jit", [False, True])
def test_per_tier_loss_adds_up_to_the_overall_loss(jit):
    model, (x_, y_, m_), val, b, _ = tiny_model_and_data()
    tier_V = jnp.asarray(b.tier_V)
    f = (lambda mdl: E.split_sums(mdl, x_, y_, m_, tier_V, 3))
    out = (nnx.jit(f) if jit else f)(model)
    n_w = (val.size - 1) // 5
    x, y = val[: n_w * 5].reshape(n_w, 5), val[1: n_w * 5 + 1].reshape(n_w, 5)
    direct = float(lm_loss(model(jnp.asarray(x)), jnp.asarray(y)))
    assert float(out["sum"] / out["n"]) == pytest.approx(direct, rel=1e-5)
    assert float(out["n"]) == y.size
    for s, n, tier_of in (("tier_sum", "tier_n", y), ("in_sum", "in_n", x)):
        np.testing.assert_array_equal(np.asarray(out[n]),
                                      np.bincount(b.tier_V[tier_of].ravel(), minlength=3))
        assert float(out[s].sum() / out[n].sum()) == pytest.approx(direct, rel=1e-5)
    # the tiers really differ (a bookkeeping bug that spread the loss evenly would not)
    assert np.ptp(np.asarray(out["tier_sum"] / out["tier_n"])) > 1e-3


def _bands(V=40):
    rng = np.random.default_rng(1)
    ids = (rng.zipf(1.3, 500) % V).astype(np.int32)
    return strategies.Bands.from_tiers(tiers.rank_fractions(ids, V, (0.1, 0.4), unseen=2))


def test_body_and_head_are_identical_across_strategies_and_embedding_inits():
    """The control varies one thing: for one seed, every strategy and both embedding inits get
    the same body and head; the two inits differ in the embedding only, at their scales."""
    cfg = E.Config(vocab_cap=40, width=8, layers=1, window=4)
    b = _bands()
    key = jax.random.key(3)
    bodies, embeds = [], {}
    for strat in ("standard", "adaptive", "bespoke_compact"):
        plan = strategies.size(strat, 40 * 8, 40, 8, b)
        make = E.model_factory(cfg, plan, b)
        for use02 in (False, True):
            m = make(key, jnp.asarray(use02))
            body = {k: v for k, v in nnx.to_flat_state(nnx.state(m, nnx.Param)) if k[0] != "embed"}
            bodies.append(body)
            embeds[strat, use02] = [np.asarray(v[...]) for k, v in
                                    nnx.to_flat_state(nnx.state(m.embed, nnx.Param))]
    for other in bodies[1:]:
        assert other.keys() == bodies[0].keys()
        for k in bodies[0]:
            np.testing.assert_array_equal(np.asarray(other[k][...]), np.asarray(bodies[0][k][...]))
    t, n = embeds["standard", False][0], embeds["standard", True][0]
    assert 0.7 < t.std() < 1.3 and 0.015 < n.std() < 0.025     # N(0, 1) vs N(0, 0.02)


def test_tune_picks_the_lowest_mean_best_epoch_val_and_treats_divergence_as_worst():
    members = [(s, i, lr) for i in ("torch", "normal02") for lr in (1e-3, 3e-3) for s in (8, 9)]
    # (member, epoch) validation losses; best epoch counts, not the last one
    val = np.array([[5.0, 4.0], [5.0, 4.2],      # torch 1e-3: best 4.0, 4.2 -> 4.1
                    [4.5, 4.9], [3.0, np.nan],   # torch 3e-3: 4.5 and 3.0 -> 3.75 (NaN epoch skipped)
                    [4.0, 3.9], [4.0, 3.9],      # normal02 1e-3: 3.9
                    [np.nan, np.nan], [1.0, 1.0]])   # normal02 3e-3: one diverged -> inf
    ch = E.tune({"val_loss": val}, members)
    assert ch["per_init"]["torch"]["lr"] == 3e-3
    assert ch["per_init"]["torch"]["val_loss"] == pytest.approx(3.75)
    assert ch["per_init"]["normal02"]["lr"] == 1e-3
    assert ch["init"] == "torch"
    assert ch["per_init"]["torch"]["at_edge"]          # the top of a two-value grid


def test_report_arm_scores_test_at_each_models_best_validation_epoch():
    hist = {"val_loss": np.array([[3.0, 2.0, 2.5], [3.0, 2.9, 2.8]]),
            "test_loss": np.array([[9.0, 7.0, 8.0], [9.0, 8.5, 6.0]]),
            "test_tier_sum": np.ones((2, 3, 2)), "test_tier_n": np.ones((2, 3, 2)),
            "test_in_sum": np.ones((2, 3, 2)), "test_in_n": np.ones((2, 3, 2))}
    arm = E.report_arm(hist, [0, 1], ("a", "b"))
    assert arm["best_epoch"] == [1, 2]
    assert arm["test_loss"] == [7.0, 6.0] and arm["val_loss"] == [2.0, 2.8]


def _part(strategy, frac, torch_loss, o2_loss, init="torch"):
    arm = lambda v: {"test_loss": list(v),   # noqa: E731
                     "test_input_tier_loss": {n: list(v) for n in ("high", "mid", "low")}}
    return {"strategy": strategy, "budget_frac": frac, "tuning": {"init": init},
            "arms": {"torch": arm(torch_loss), "normal02": arm(o2_loss)}}


def test_families_holm_and_findings_at_the_strength_the_data_allow():
    cfg = E.Config(margin=0.02)
    rng = np.random.default_rng(0)
    base = 5 + rng.normal(0, 0.05, 8)
    parts = {"standard@1": _part("standard", 1.0, base, base + 0.3, init="torch"),
             # clearly lower (0.1 nats, tiny seed noise)
             "adaptive@1": _part("adaptive", 1.0, base - 0.1 + rng.normal(0, 1e-3, 8),
                                 base, init="torch"),
             # within +-0.002 of standard: equivalent at a 0.02 margin
             "factorised@1": _part("factorised", 1.0, base + rng.normal(0, 2e-3, 8), base),
             # noisy, no direction: inconclusive
             "mixed@1": _part("mixed", 1.0, base + rng.normal(0, 0.3, 8), base)}
    fam = E.run_families(cfg, parts, ("high", "mid", "low"))
    eq = {c["b"][0]: c for c in fam["equal_budget"]}
    assert eq["adaptive"]["finding"] == "lower"
    assert eq["factorised"]["finding"] == "equivalent within +-0.02"
    assert eq["mixed"]["finding"] == "inconclusive"
    ps = [c["p"] for c in fam["equal_budget"]]
    assert [c["p_holm"] for c in fam["equal_budget"]] == pytest.approx(
        __import__("jaxbespoke.utils.stats", fromlist=["holm"]).holm(ps))
    init = {c["a"][0]: c for c in fam["embedding_init"]}
    assert init["standard"]["finding"] == "higher"        # normal02 arm 0.3 nats worse
    assert fam["half_vs_full_standard"] == []            # one budget only: nothing to compare


@pytest.mark.slow
def test_quick_cli_writes_results_and_resumes(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["--quick", "--seeds", "2", "--no-progress", "--out", str(out),
            "--cache-dir", str(tmp_path / "c")]
    assert script.main(argv) == 0
    d = json.loads((out / "embedding_strategies.json").read_text())
    assert d["corpus"]["vocabulary"] == 256 and d["tune_seeds"] == [2]
    assert {(r["strategy"], r["budget_frac"]) for r in d["rows"]} == {
        (s, b) for s in ("standard", "adaptive") for b in (0.5, 1.0)}
    for r in d["rows"]:
        assert abs(r["params"] - r["budget_frac"] * 256 * 64) <= 0.02 * r["budget_frac"] * 256 * 64
        assert len(r["test_loss"]["values"]) == 2 and r["test_ppl"]["center"] > 1
        assert r["tokens_per_s"] > 0 and r["memory_mb"] > 0
    for p in d["parts"].values():       # per-seed, per-tier losses kept for paired analyses
        assert set(p["arms"]) == {"torch", "normal02"}
        assert all(len(v) == 2 for v in p["chosen"]["test_input_tier_loss"].values())
        assert p["tuning"]["init"] in ("torch", "normal02")
    assert d["tier_gap"] < 1e-4
    assert {"equal_budget", "half_vs_full_standard", "embedding_init", "input_tier"} <= set(
        d["families"])
    assert (out / "embedding_strategies.md").is_file() and (out / "embedding_strategies.png").is_file()
    capsys.readouterr()
    assert script.main(argv) == 0      # every configuration comes back from out/parts
    assert capsys.readouterr().out.count("resumed from") == 4


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\xff\xfe\xfa", "UTF-8")])
def test_bad_text_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    f = tmp_path / "t.txt"
    f.write_bytes(content)
    with pytest.raises(SystemExit) as e:
        cli.run_main(lambda: script.main(["--quick", "--text", str(f), "--out", str(tmp_path),
                                          "--cache-dir", str(tmp_path)]))
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


@pytest.mark.parametrize("argv, message", [
    (["--vocab", "2"], "special tokens"),
    (["--strategies", "hashing"], "invalid choice"),
    (["--budgets", "0.001"], "too small"),
    (["--seeds", "1"], "at least 2 reported seeds"),
    (["--emb-inits", "torch", "torch"], "distinct"),
    (["--name", "../elsewhere"], "plain file name"),
    (["--name", ""], "plain file name"),
])
def test_bad_config_exit_2(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.run_main(lambda: script.main(["--quick", "--out", str(tmp_path), "--cache-dir",
                                          str(tmp_path)] + argv))
    assert e.value.code == 2 and message in capsys.readouterr().err
