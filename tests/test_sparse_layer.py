"""The public top-k sparse attention layer: shapes, causality per mode, equality with the
experiment's hybrid on the same weights, where gradient flows, distillation, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxbespoke.nn.gpt import GPT, GPTConfig
from jaxbespoke.nn.sparse import (
    MODES,
    HeadApproximator,
    HybridGPT,
    KeySelector,
    TopKSparseAttention,
    approximator_distillation_loss,
    approximator_inputs,
    hybrid_head,
    keys_head,
    selector_distillation_loss,
    topk_keys,
)
from jaxbespoke.protocols import sparse as pipeline
from jaxbespoke.utils.errors import ConfigError

D, H, T, K = 16, 2, 8, 3


def make_layer(mode="fixed", heads=(0,), seed=0, **kw):
    return TopKSparseAttention(D, H, T, sparse_heads=heads, top_k=K, selector_hidden=8,
                               approx_hidden=8, mode=mode, rngs=nnx.Rngs(seed), **kw)


def inputs(B=3, seed=1):
    return jax.random.normal(jax.random.key(seed), (B, T, D))


def leaves(tree):
    return [np.asarray(a) for a in jax.tree.leaves(tree)]


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_shapes_and_jit_agree_with_eager(mode):
    layer, x = make_layer(mode, heads=(0, 1)), inputs()
    y = layer(x)
    assert y.shape == x.shape
    close(nnx.jit(lambda m, xx: m(xx))(layer, x), y)
    losses = layer.distillation_losses(x)
    assert set(losses) == {"selector", "approximator"}
    assert all(v.shape == () and np.isfinite(float(v)) for v in losses.values())
    t = layer.teacher(x)
    assert t["q"].shape == t["v"].shape == t["y"].shape == (2, 3, T, D // H)
    assert t["probs"].shape == (2, 3, T, T) and t["top1"].shape == (2, 3, T)
    # exact=True: plain causal attention, every head exact
    layer.exact = True
    close(layer(x), layer.attn(x)[0])


def changed_after(layer, x, t, seed=2):
    """max |y[:, :t+1] change| when the inputs after t are replaced by fresh noise."""
    noise = jax.random.normal(jax.random.key(seed + t), x.shape)
    x2 = x.at[:, t + 1:].set(noise[:, t + 1:])
    f = nnx.jit(lambda m, xx: m(xx))
    return float(jnp.abs(f(layer, x2)[:, :t + 1] - f(layer, x)[:, :t + 1]).max())


def test_fixed_mode_is_causal():
    layer, x = make_layer("fixed", heads=(0, 1)), inputs()
    for t in range(T - 1):
        assert changed_after(layer, x, t) == 0.0, t


def test_faithful_mode_leaks_the_future_through_its_selector():
    layer, x = make_layer("faithful", heads=(0,)), inputs()
    # the untrained selector picks future keys for some queries ...
    q = layer.attn.qkv(x)[0][:, 0]
    idx, _ = topk_keys(layer.selectors[0](q), K, "faithful")
    assert bool((idx > jnp.arange(T)[:, None]).any())
    # ... so some earlier output moves when only later inputs change
    assert max(changed_after(layer, x, t) for t in range(T - 1)) > 1e-3
    # with every head exact the same layer is causal
    layer.exact = True
    assert max(changed_after(layer, x, t) for t in range(T - 1)) == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_layer_equals_the_experiments_hybrid_on_the_same_weights(mode):
    cfg = GPTConfig(vocab_size=11, block_size=T, n_layer=2, n_head=H, n_embd=D)
    rngs = nnx.Rngs(0)
    gpt = GPT(cfg, rngs=rngs)
    sels = [KeySelector(D // H, T, 8, rngs=rngs) for _ in range(2)]
    apps = [HeadApproximator(D // H, K, 8, rngs=rngs) for _ in range(2)]
    hyb = HybridGPT(gpt, sels, apps, layer=1, heads=(1, 0), mode=mode)
    layer = TopKSparseAttention.from_modules(gpt.blocks[1].attn, sels, apps, heads=(1, 0),
                                             mode=mode)
    x = inputs()
    attn = hyb.gpt.blocks[1].attn
    # HybridGPT: every head exact, the replaced ones overwritten by the hybrid head function
    want = attn(x, {h: hybrid_head(s, a, mode) for h, s, a in zip((1, 0), sels, apps)})[0]
    close(layer(x), want)
    # the experiment's evaluation: the approximator fed the values at the selector's top-k keys
    q, _, _ = attn.qkv(x)
    ev = {h: keys_head(*topk_keys(s(q[:, h]), K, mode), a) for h, s, a in zip((1, 0), sels, apps)}
    close(layer(x), attn(x, ev)[0])
    # weights are shared, not copied
    assert layer.selectors[0] is sels[0] and layer.attn is gpt.blocks[1].attn


@pytest.mark.parametrize("mode", MODES)
def test_selector_gets_exactly_zero_gradient_through_the_layer(mode):
    layer, x = make_layer(mode, heads=(1,)), inputs()
    g = nnx.grad(lambda m: jnp.sum(m(x) ** 2))(layer)
    assert all((a == 0).all() for a in leaves(g["selectors"]))
    assert all(np.abs(a).max() > 0 for a in leaves(g["approximators"]))
    # head 1's query and key columns only feed the top-k choice: zero; its values: not
    w = np.asarray(g["attn"]["c_attn"]["kernel"][...])
    d = D // H
    q_cols, k_cols, v_cols = (slice(i * D + d, i * D + 2 * d) for i in range(3))
    assert (w[:, q_cols] == 0).all() and (w[:, k_cols] == 0).all()
    assert np.abs(w[:, v_cols]).max() > 0
    assert np.abs(w[:, :d]).max() > 0                         # head 0 (exact) learns as usual


def test_distillation_moves_only_selectors_and_approximators_and_losses_fall():
    layer = make_layer("fixed", heads=(0, 1))
    opt = nnx.Optimizer(layer, optax.adam(1e-2), wrt=TopKSparseAttention.DISTILLED)
    attn_before = jax.tree.map(np.asarray, nnx.state(layer.attn))

    @nnx.jit
    def step(layer, opt, x):
        def loss_fn(m):
            losses = m.distillation_losses(x)
            return losses["selector"] + losses["approximator"], losses
        diff = nnx.DiffState(0, TopKSparseAttention.DISTILLED)
        (_, losses), grads = nnx.value_and_grad(loss_fn, argnums=diff, has_aux=True)(layer)
        opt.update(layer, grads)
        return losses

    # a toy with structure to learn: each position has its own input vector, plus noise, so a
    # query tells its position and the teacher's top-1 key is mostly a function of it
    pos_TD = 2 * jax.random.normal(jax.random.key(7), (T, D))

    def toy(seed):
        return pos_TD + 0.3 * inputs(B=16, seed=seed)

    held_out = toy(99)
    before = layer.distillation_losses(held_out)
    for i in range(80):
        step(layer, opt, toy(100 + i))
    after = layer.distillation_losses(held_out)
    for name in ("selector", "approximator"):
        assert float(after[name]) < 0.8 * float(before[name]), (name, before, after)
    jax.tree.map(np.testing.assert_array_equal, attn_before,
                 jax.tree.map(np.asarray, nnx.state(layer.attn)))


def test_distillation_losses_are_the_pipelines():
    layer, x = make_layer("fixed", heads=(1,)), inputs()
    t = layer.teacher(x)
    sel, app = layer.selectors[0], layer.approximators[0]
    for mode in MODES:
        layer.mode = mode
        xs = approximator_inputs(t["v"][0], t["probs"][0], K, mode)
        # the pipeline trains faithful mode on v itself, standing for [V_t] * k
        data_x = t["v"][0] if mode == "faithful" else xs
        want_s = pipeline.selector_task(mode).loss(sel, (t["q"][0], t["top1"][0]))
        want_a = pipeline.approx_task(mode).loss(app, (data_x, t["y"][0]))
        got = layer.distillation_losses(x)
        assert float(got["selector"]) == float(want_s)
        assert float(got["approximator"]) == float(want_a)
        assert float(want_s) == float(selector_distillation_loss(sel, t["q"][0], t["top1"][0],
                                                                 mode))
        # ... which is the loss on the explicit copies up to float rounding
        np.testing.assert_allclose(float(want_a),
                                   float(approximator_distillation_loss(app, xs, t["y"][0])),
                                   rtol=1e-5)
    # teacher: top-1 is the exact head's argmax, y its output
    _, aux = layer.attn(x)
    close(t["y"][0], aux["probs"][:, 1] @ aux["v"][:, 1])


def test_bad_input():
    with pytest.raises(ConfigError, match="top-k 9 must lie in 1..8"):
        TopKSparseAttention(D, H, T, top_k=9, rngs=nnx.Rngs(0))
    with pytest.raises(ConfigError, match="unknown mode 'approx'"):
        make_layer(mode="approx")
    with pytest.raises(ConfigError, match="head 2 out of range"):
        make_layer(heads=(2,))
    with pytest.raises(ConfigError, match=r"sparse heads \(1, 1\) repeat"):
        make_layer(heads=(1, 1))
    with pytest.raises(ConfigError, match="width 16 is not divisible by 3 heads"):
        TopKSparseAttention(D, 3, T, rngs=nnx.Rngs(0))
    layer = make_layer()
    with pytest.raises(ConfigError, match="sequence length 6: this layer's selectors score 8"):
        layer(jnp.zeros((1, 6, D)))
    with pytest.raises(ConfigError, match=r"input shape \(1, 8, 4\)"):
        layer(jnp.zeros((1, T, 4)))
    with pytest.raises(ConfigError, match="one selector and one approximator per head"):
        TopKSparseAttention.from_modules(layer.attn, list(layer.selectors), [], heads=(0,))
