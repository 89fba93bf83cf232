"""The original's encoders: parameter counts, init rules, dropout, the mask, and the copy leak."""

import math
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.protocols import floors, presets
from jaxbespoke.nn.embeddings import StandardEmbedding, param_count
from jaxbespoke.nn.encoders import EncoderConfig, EncoderLM, dropout, layer_param_count
from jaxbespoke.utils.errors import ConfigError


def lm(V, cfg, seed=0):
    r = nnx.Rngs(seed)
    return EncoderLM(StandardEmbedding(V, cfg.dim, rngs=r, init=cfg.init), V, cfg, rngs=r)


def abstract(V, cfg):
    return nnx.eval_shape(lambda: lm(V, cfg))


@pytest.mark.parametrize("V,cfg,expected", [
    (100, EncoderConfig(64, 4, 128, 1), 46_372),                       # initial
    (500, EncoderConfig(128, 4, 256, 1), 260_980),                     # medium
    (1000, EncoderConfig(128, 8, 512, 4, positions=32, final_norm=True), 1_054_440),
    (1000, EncoderConfig(256, 8, 1024, 6, positions=64, final_norm=True), 5_268_456),
    (500, EncoderConfig(128, 4, 512, 3, norm="pre", positions=64, final_norm=True,
                        head_bias=False), 731_264),                    # btdt
])
def test_standard_param_counts_match_spec(V, cfg, expected):
    assert param_count(abstract(V, cfg)) == expected


def test_layer_formula_matches_spec_breakdown():
    # medium: in_proj 49,536 + out_proj 16,512 + ffn 33,024 + 32,896 + norms 512
    assert layer_param_count(128, 256) == 132_480
    assert layer_param_count(256, 1024) == 789_760


def test_init_rules():
    cfg = EncoderConfig(128, 8, 512, 1, positions=32, final_norm=True, init="normal02")
    m = lm(1000, cfg)
    attn = m.layers[0].attn
    bound = math.sqrt(6 / (4 * 128))      # xavier on torch's packed (3D, D) weight
    w = np.asarray(attn.in_kernel[...])
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.all(np.asarray(attn.in_bias[...]) == 0) and np.all(np.asarray(attn.out.bias[...]) == 0)
    # _init_weights: every Linear and Embedding N(0, 0.02), out_proj included
    for arr in (attn.out.kernel, m.layers[0].ff1.kernel, m.head.kernel, m.embed.table.embedding,
                m.pos.embedding):
        assert abs(float(np.asarray(arr[...]).std()) - 0.02) < 0.002
    # torch defaults: Linear U(+-1/sqrt(fan_in)), out_proj bias 0, embedding N(0, 1)
    t = lm(100, EncoderConfig(64, 4, 128, 1))
    k = np.asarray(t.layers[0].ff1.kernel[...])
    assert np.abs(k).max() <= 1 / 8 and np.abs(k).max() > 0.95 / 8
    assert np.all(np.asarray(t.layers[0].attn.out.bias[...]) == 0)
    assert abs(float(np.asarray(t.embed.table.embedding[...]).std()) - 1.0) < 0.05
    # LayerNorm like torch
    assert m.layers[0].ln1.epsilon == 1e-5


def test_dropout_only_with_key():
    m = lm(50, EncoderConfig(32, 4, 64, 2, positions=8))
    x = jnp.arange(16).reshape(2, 8) % 50
    a, b = m(x), m(x)
    np.testing.assert_array_equal(a, b)
    c, d = m(x, jax.random.key(1)), m(x, jax.random.key(2))
    assert not np.allclose(a, c) and not np.allclose(c, d)
    np.testing.assert_array_equal(c, m(x, jax.random.key(1)))
    y = dropout(jnp.ones(10_000), 0.1, jax.random.key(0))
    assert abs(float((y == 0).mean()) - 0.1) < 0.02 and float(y.max()) == pytest.approx(1 / 0.9)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_causal_mask_blocks_the_future_and_no_mask_does_not(norm):
    base = EncoderConfig(32, 4, 64, 2, norm=norm, positions=8, dropout=0.0)
    x = jnp.array([[1, 2, 3, 4, 5, 6, 7, 8]])
    x2 = x.at[0, 5].set(30)
    for causal in (True, False):
        m = lm(40, replace(base, causal=causal))
        diff = np.abs(np.asarray(m(x) - m(x2))).max(-1)[0]
        assert diff[5:].min() > 1e-6                    # position 5 and later see the change
        if causal:
            assert diff[:5].max() == 0.0
        else:
            assert diff[:5].min() > 1e-6                # the leak: earlier positions see it too


def test_bad_config():
    with pytest.raises(ConfigError, match="divisible"):
        EncoderConfig(30, 4, 64, 1)
    with pytest.raises(ConfigError, match="norm"):
        EncoderConfig(32, 4, 64, 1, norm="sandwich")
    with pytest.raises(ConfigError, match="positional table"):
        lm(10, EncoderConfig(8, 2, 16, 1, positions=4))(jnp.zeros((1, 6), jnp.int32))


def test_copy_leak_floor_reached_without_mask_and_not_with_it():
    """The definitive architecture, shrunk: without a mask the validation loss falls to near the
    copy floor H/T (only the last position must be guessed); with the causal mask it cannot go
    below the entropy H. Same data, seeds and steps."""
    run = replace(presets.get("definitive")[0], vocab=16, dim=32, window=8, batch=16,
                  corpus_size=6_000, tiering=presets.RankFractions((0.25, 0.75), unseen=1),
                  dims=(48, 32, 16),
                  encoder=EncoderConfig(32, 4, 64, 1, positions=8, final_norm=True,
                                        init="normal02"),
                  optim=replace(presets.get("definitive")[0].optim, lr=1e-2, cosine_t_max=None),
                  epochs=1, steps_per_epoch=200, eval_every=1, val_batches=20)
    fl = floors.preset_floor(run)
    H, copy = fl["entropy"], fl["copy_floor"]
    out = presets.run_config(run, [0], variants=("faithful", "causal"), kinds=("standard",),
                             progress=False)
    leak = out["models"]["standard/faithful"]["metrics"]["val_full"]
    causal = out["models"]["standard/causal"]["metrics"]["val_full"]
    assert np.all(leak < copy + 0.25 * (H - copy)), (leak, copy, H)
    assert np.all(causal > H - 0.05), (causal, H)
