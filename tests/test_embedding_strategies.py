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
    data = {"val_x": jnp.asarray(x), "val_y": jnp.asarray(y), "val_m": jnp.asarray(m),
            "tier_V": jnp.asarray(b.tier_V)}
    return model, data, val, b, cfg


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


def test_per_tier_loss_adds_up_to_the_overall_loss():
    model, data, val, b, _ = tiny_model_and_data()
    out = jax.jit(lambda mdl, d: E.eval_sums(mdl, d, 3))(model, data)
    n_w = (val.size - 1) // 5
    x, y = val[: n_w * 5].reshape(n_w, 5), val[1: n_w * 5 + 1].reshape(n_w, 5)
    direct = float(lm_loss(model(jnp.asarray(x)), jnp.asarray(y)))
    assert float(out["loss"]) == pytest.approx(direct, rel=1e-5)
    assert float(out["n"]) == y.size
    for s, n, tier_of in (("tier_sum", "tier_n", y), ("in_tier_sum", "in_tier_n", x)):
        assert float(out[n].sum()) == y.size
        np.testing.assert_array_equal(np.asarray(out[n]),
                                      np.bincount(b.tier_V[tier_of].ravel(), minlength=3))
        weighted = float((out[s] / out[n] * out[n]).sum() / out[n].sum())
        assert weighted == pytest.approx(direct, rel=1e-5)
    # the tiers really differ (a bookkeeping bug that spread the loss evenly would not)
    per = np.asarray(out["tier_sum"] / out["tier_n"])
    assert np.ptp(per) > 1e-3


@pytest.mark.slow
def test_quick_cli_writes_valid_json(tmp_path):
    out = tmp_path / "o"
    code = script.main(["--quick", "--seeds", "2", "--no-progress", "--out", str(out),
                   "--cache-dir", str(tmp_path / "c")])
    assert code == 0
    d = json.loads((out / "embedding_strategies.json").read_text())
    assert set(d["corpus"]) >= {"name", "tokens", "vocabulary", "zipf_exponent"}
    assert d["corpus"]["vocabulary"] == 256 and d["corpus"]["zipf_exponent"] > 0.5
    budgets = {r["budget"] for r in d["rows"]}
    assert len(budgets) >= 2
    for r in d["rows"]:
        assert {"strategy", "budget", "params", "val_ppl", "tier_loss", "tokens_per_s"} <= set(r)
        assert abs(r["params"] - r["budget"]) <= 0.02 * r["budget"]
        assert len(r["val_ppl"]["values"]) == 2 and r["val_ppl"]["mean"] > 1
        assert set(r["tier_loss"]) == {"high", "mid", "low"}
        assert r["tier_bookkeeping_gap"] < 1e-4
        assert r["tokens_per_s"] > 0
    assert (out / "embedding_strategies.md").is_file()
    assert (out / "embedding_strategies.png").is_file()
    assert (out / "embedding_strategies_tiers.png").is_file()


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
    (["--strategies", "hashing"], "unknown strategy"),
    (["--budgets", "0.001"], "too small"),
])
def test_bad_config_exit_2(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.run_main(lambda: script.main(["--quick", "--out", str(tmp_path), "--cache-dir",
                                     str(tmp_path)] + argv))
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_combine_picks_best_init_and_pairs_with_standard(tmp_path):
    def row(label, frac, losses):
        v = np.asarray(losses)
        return {"label": label, "strategy": label, "budget_frac": frac, "dims": [4], "params": 10,
                "val_loss": {"mean": float(v.mean()), "values": v.tolist()},
                "val_ppl": {"mean": float(np.exp(v).mean()), "ci95": [1.0, 2.0]}}

    a = {"seeds": [0, 1, 2], "config": {"init": "torch"},
         "rows": [row("standard", 1.0, [5.0, 5.1, 5.2]), row("adaptive", 1.0, [4.8, 4.9, 5.0])]}
    b = {"seeds": [0, 1, 2], "config": {"init": "normal02"},
         "rows": [row("standard", 1.0, [4.7, 4.75, 4.9]), row("adaptive", 1.0, [5.5, 5.6, 5.7])]}
    paths = []
    for name, d in (("a", a), ("b", b)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(d))
    md = E.combine(paths)
    std = next(line for line in md.splitlines() if line.startswith("| standard"))
    ada = next(line for line in md.splitlines() if line.startswith("| adaptive"))
    assert "normal02" in std and "torch" in ada
    assert "+0.1167" in ada            # (4.8-4.7 + 4.9-4.75 + 5.0-4.9) / 3, paired per seed
    b["seeds"] = [0, 1]
    paths[1].write_text(json.dumps(b))
    with pytest.raises(Exception, match="share their seeds"):
        E.combine(paths)
