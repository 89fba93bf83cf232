"""Presets match the original (docs/experiments.md): configs, tier rules (with their bugs),
parameter counts, floors."""

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.protocols import floors, presets
from jaxbespoke.data import tiers
from jaxbespoke.nn.embeddings import param_count
from jaxbespoke.utils.errors import ConfigError


def params(run, kind, tier_V=None, caps=None, embedding_only=False):
    """Exact parameter count of a preset's model without running an initialiser."""
    V = run.vocab
    tier_V = np.zeros(V, np.int32) if tier_V is None else tier_V
    rows_V = np.zeros(V, np.int32)
    for t in range(len(run.dims)):
        ids = np.flatnonzero(tier_V == t)
        rows_V[ids] = np.arange(ids.size)
    caps = caps or (1,) * len(run.dims)
    m = nnx.eval_shape(lambda: presets.make_model(run, kind, jax.random.key(0), tier_V, rows_V, caps))
    return param_count(m.embed) if embedding_only else param_count(m)


def tier_map(sizes):
    return np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)


def test_every_preset_listed_and_unknown_names_them():
    assert set(presets.PRESETS) == {"medium", "long", "definitive", "scaling", "initial",
                                    "optimized", "ultra", "quick", "debug", "btdt"}
    with pytest.raises(ConfigError, match="unknown preset 'foo'; valid presets: medium, long"):
        presets.get("foo")


def test_configs_match_spec():
    d = presets.get("definitive")[0]
    assert (d.vocab, d.dim, d.window, d.batch, d.corpus_size, d.zipf, d.train_frac) == \
        (1000, 128, 32, 16, 200_000, 1.2, 0.85)
    assert (d.epochs, d.steps_per_epoch, d.steps) == (700, 500, 350_000)
    assert (d.optim.name, d.optim.lr, d.optim.weight_decay, d.optim.clip_norm,
            d.optim.cosine_t_max) == ("adamw", 1e-4, 0.01, 1.0, 700)
    assert d.eval_epochs == tuple(range(0, 700, 50)) + (699,) and len(d.eval_epochs) == 15
    assert d.encoder.causal is False and d.encoder.positions == 32
    lg = presets.get("long")[0]
    assert (lg.steps, lg.optim.lr, lg.val_batches, len(lg.eval_epochs)) == (500_000, 1e-4, 50, 11)
    md = presets.get("medium")[0]
    assert (md.steps, md.optim.lr, md.val_batches, md.eval_epochs) == \
        (20_000, 5e-4, 30, (0, 20, 40, 60, 80, 99))
    assert [(r.corpus_size, r.steps) for r in presets.get("scaling")] == \
        [(1_000, 5), (5_000, 10), (20_000, 15), (50_000, 20)]
    assert presets.get("initial")[0].steps == 30 and presets.get("optimized")[0].steps == 50
    assert presets.get("ultra")[0].steps == 60 and presets.get("quick")[0].steps == 100
    assert presets.get("debug")[0].optim.lr == 0.01


@pytest.mark.parametrize("name,std,bes,sizes", [
    ("scaling", 51_656, 135_624, None),
    ("initial", 46_372, 67_492, None),
    ("quick", 12_900, 34_020, None),
    ("definitive", 1_054_440, 1_081_780, (100, 700, 200)),
    ("btdt", 731_264, 929_024, None),
])
def test_model_param_counts_match_spec(name, std, bes, sizes):
    run = presets.get(name)[0]
    tv = None if sizes is None else tier_map(sizes)
    assert params(run, "standard") == std
    assert params(run, "bespoke", tv, sizes) == bes


def test_medium_and_long_param_counts():
    md = presets.get("medium")[0]
    assert params(md, "standard") == 260_980
    sizes = (7, 43, 450)    # bespoke = standard - 64,000 + (192 nh + 128 nm + 64 nl + 24,576 + 8,192)
    expect = 260_980 - 64_000 + 192 * 7 + 128 * 43 + 64 * 450 + 24_576 + 8_192
    assert params(md, "bespoke", tier_map(sizes), sizes) == expect
    assert presets.embed_params(md, sizes) + 260_980 - 64_000 == expect
    assert 265_200 <= expect <= 265_460
    assert params(presets.get("long")[0], "standard") == 5_268_456


def test_embedding_only_counts():
    opt = presets.get("optimized")[0]
    assert params(opt, "standard", embedding_only=True) == 25_600
    assert presets.embed_params(opt, (45, 87, 68)) == 48_812          # the reported draw
    ul = presets.get("ultra")[0]
    assert params(ul, "bespoke", tier_map((20, 20, 160)), (20, 20, 160), True) == 30_464
    assert presets.embed_params(ul, (20, 20, 160)) == 30_464
    dbg = presets.get("debug")[0]
    assert params(dbg, "standard", embedding_only=True) == 1_600
    assert params(dbg, "bespoke", (np.arange(50) >= 25).astype(np.int32), None, True) == 5_312


def _corpus(counts):
    """A corpus with given counts per id, first appearances in id order."""
    ids = np.concatenate([np.arange(len(counts))[np.asarray(counts) > 0],
                          np.repeat(np.arange(len(counts)), np.maximum(np.asarray(counts) - 1, 0))])
    return ids.astype(np.int32)


def test_scaling_overwrite_bug_sends_shared_tokens_low():
    counts = np.r_[np.arange(60, 0, -1), np.zeros(140, int)]   # 60 observed of 200
    t = presets.make_tiers(presets.get("scaling")[0], _corpus(counts))
    # top 30 and bottom 170 observed overlap completely: every occurring id takes the low path
    assert t.sizes == (0, 140, 60) and np.all(t.tier_V[:60] == 2)
    counts = np.arange(200, 0, -1)                              # all 200 observed
    t = presets.make_tiers(presets.get("scaling")[0], _corpus(counts))
    assert t.sizes == (30, 0, 170)


def test_working_high_wins_and_mid_is_unobserved():
    counts = np.r_[np.arange(90, 0, -1), np.zeros(10, int)]     # 90 observed of 100
    t = presets.make_tiers(presets.get("initial")[0], _corpus(counts))
    assert t.sizes == (20, 10, 70) and np.all(t.tier_V[:20] == 0) and np.all(t.tier_V[90:] == 1)


def test_other_rules_on_fixed_corpora():
    counts = np.arange(1000, 0, -1)
    t = presets.make_tiers(presets.get("definitive")[0], _corpus(counts))
    assert t.sizes == (100, 700, 200)
    t = presets.make_tiers(presets.get("ultra")[0], _corpus(np.arange(200, 0, -1)))
    assert t.sizes == (20, 20, 160)
    t = presets.make_tiers(presets.get("btdt")[0], _corpus(np.arange(500, 0, -1)))
    assert t.sizes == (100, 300, 100, 0)                        # 'special' is always empty
    ids = np.r_[np.arange(0, 500, 2), np.arange(1, 500, 2)]     # id 3 ranked in the middle
    t = tiers.rank_with_special(np.r_[ids, ids[:100]], 500, (0.2, 0.8), 10)
    assert t.tier_V[3] == 3
    # cumulative mass: the token that crosses a cutoff stays in the earlier tier
    t = presets.make_tiers(presets.get("optimized")[0], _corpus([50, 30, 15, 5] + [0] * 196))
    assert tuple(t.tier_V[:4]) == (0, 0, 1, 2) and t.sizes == (2, 1, 1)


def test_tier_sizes_on_seeded_corpora_match_spec_typical_splits():
    out = {}
    for name in ("medium", "definitive", "optimized"):
        run = presets.get(name)[0]
        _, tl = presets.build_data(run, [0, 1])
        out[name] = [t.sizes for t in tl]
    assert all(s[0] == 7 and 42 <= s[1] <= 44 and 446 <= s[2] <= 451 for s in out["medium"])
    assert all(s == (100, 700, 200) for s in out["definitive"])
    assert all(43 <= s[0] <= 47 and 84 <= s[1] <= 90 for s in out["optimized"])


def test_floors_match_spec():
    f = floors.preset_floor(presets.get("definitive")[0])
    assert f["entropy"] == pytest.approx(4.2275, abs=1e-4)
    assert f["copy_floor"] == pytest.approx(0.132, abs=1e-3)

    def floor(name, *n):
        return floors.preset_floor(presets.get(name)[0], *n)

    assert floor("long")["copy_floor"] == pytest.approx(0.066, abs=1e-3)
    assert floor("medium", 50_000)["bag_floor"] == pytest.approx(2.497, abs=0.03)
    assert floor("initial", 50_000)["bag_floor"] == pytest.approx(2.479, abs=0.03)
    assert floor("scaling", 20_000)["label_entropy"] == pytest.approx(0.198, abs=0.02)
    assert floors.preset_floor(presets.get("quick")[0])["floor"] == pytest.approx(4.6052, abs=1e-4)


def test_a_mode_target_has_floor_zero_and_the_label_entropy_only_as_baseline():
    # the window's mode is a function of the input: a perfect model scores 0
    for name in ("scaling", "debug"):
        f = floors.preset_floor(presets.get(name)[0], 5_000)
        assert f["floor"] == 0.0 and f["baseline"]["value"] > 0


def test_mode_breaks_ties_to_smallest_id():
    x = jnp.array([[3, 1, 3, 1, 2], [4, 4, 0, 0, 5]])
    assert presets.mode(x, 6).tolist() == [1, 0]


def test_scaling_batches_follow_the_original_order():
    run = presets.get("scaling")[0]
    task = presets.make_task(run)
    data = {"train": jnp.arange(1000) % 200}
    x, y = task.sample(jax.random.key(0), data, 2)
    assert x.shape == (8, 64) and int(x[0, 0]) == 128 and int(x[1, 0]) == 136


def test_pooled_presets_run_and_report_exact_params():
    run = replace(presets.get("optimized")[0], epochs=3)
    out = presets.run_config(run, [0, 1], progress=False)
    for kind in ("standard", "bespoke"):
        m = out["models"][f"{kind}/faithful"]
        assert m["final"].shape == (2,) and np.all(np.isfinite(m["final"]))
    sizes = out["tier_sizes"]
    assert out["models"]["bespoke/faithful"]["params_embedding"] == \
        [presets.embed_params(run, s) for s in sizes]
    with pytest.raises(ConfigError, match="no causal variant"):
        presets.run_config(run, [0], variants=("causal",), progress=False)


def test_run_configs_are_keyword_only_and_validated():
    base = presets.get("quick")[0]
    with pytest.raises(TypeError):
        presets.RunConfig("x", "x", 10, 8, 4, 2, 100, 1.0, None, 1, 1, base.optim, "next_all",
                          presets.TopBottom(2, 2), (8, 4, 2))
    for field, bad in (("task", "next"), ("layout", "tiled"), ("final", "best"),
                       ("body", "lstm"), ("compare", "both"), ("leak", "all"), ("init", "xavier")):
        with pytest.raises(ConfigError, match=f"unknown {field} '{bad}'"):
            replace(base, **{field: bad})
    with pytest.raises(ConfigError, match="tiering must be a tiering rule"):
        replace(base, tiering="top_bottom")
    with pytest.raises(ConfigError, match="encoder config goes with body 'encoder'"):
        replace(base, body="encoder")
    with pytest.raises(ConfigError, match="unknown winner 'mid'"):
        presets.TopBottomOverlapping(2, 2, winner="mid")


def test_every_task_is_registered_with_a_low_noise_metric():
    from typing import get_args

    from jaxbespoke.protocols.presets.configs import TaskName

    assert set(presets.TASKS) == set(get_args(TaskName))
    assert {r.task for runs in presets.PRESETS.values() for r in runs} <= set(presets.TASKS)
    assert {n: t.low_noise for n, t in presets.TASKS.items()} == {
        "next_all": "val_full", "working": "heldout", "scaling": "all_windows",
        "first_token": "all_windows", "random_target": "all_windows",
        "mode_uniform": "fresh_4096"}


def test_checkpoint_fingerprint_keeps_the_untyped_tiering_layout():
    """Checkpoints written before the tiering rules were typed must still resume."""
    fp = presets.fingerprint(presets.get("definitive")[0], [0], "standard", "faithful",
                             presets.Shorten(10, 100))
    assert fp["run"]["tiering"] == "rank" and fp["run"]["tier_args"] == [0.1, 0.8, 1]
    assert fp["run"]["optim"]["cosine_t_max"] == 700 and fp["run"]["encoder"]["positions"] == 32
    assert fp["short"] == {"epochs": 10, "steps_per_epoch": 100}
    scaling = presets.fingerprint(presets.get("scaling")[0], [0], "bespoke", "faithful", None)
    assert (scaling["run"]["tiering"], scaling["run"]["tier_args"]) == ("overlap_low", [30, 170])
