import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.data import tiers
from jaxbespoke.nn.embeddings import (
    BespokeEmbedding,
    BespokeSpec,
    StandardEmbedding,
    bespoke_param_formula,
    param_count,
)
from jaxbespoke.utils.errors import ConfigError
from jaxbespoke.nn.models import PooledNextToken
from routing_reference import routing_reference

V, D = 40, 8


def tier_map():
    rng = np.random.default_rng(0)
    toks = rng.zipf(1.3, 3000) % V
    return tiers.top_bottom(toks, V, n_high=5, n_low=10)


def bespoke(layout="replica", t=None, spec=None):
    t = t or tier_map()
    return BespokeEmbedding(V, D, t.tier_V, spec or BespokeSpec.focused(D), layout=layout,
                            rows=t.sizes, rows_V=t.rows_V(), rngs=nnx.Rngs(0))


def slow_reference(emb: BespokeEmbedding, ids):
    """Per-token routing, the original's way: look up the token's tier, embed, project."""
    return routing_reference(emb, ids)


def test_original_parameter_counts():
    t = tiers.top_bottom(np.arange(200).repeat(3), 200, 20, 50)
    std = PooledNextToken(StandardEmbedding(200, 64, rngs=nnx.Rngs(0)), 200, 64, rngs=nnx.Rngs(1))
    emb = BespokeEmbedding(200, 64, t.tier_V, BespokeSpec.focused(64), rngs=nnx.Rngs(0))
    bes = PooledNextToken(emb, 200, 64, rngs=nnx.Rngs(1))
    assert param_count(std) == 25_800
    assert param_count(bes) == 63_944
    assert round(param_count(bes) / param_count(std), 2) == 2.48
    # the documented D=128 would have given 51,400 vs 146,120
    emb128 = BespokeEmbedding(200, 128, t.tier_V, BespokeSpec.focused(128), rngs=nnx.Rngs(0))
    assert param_count(emb128) + 128 * 200 + 200 == 146_120


@pytest.mark.parametrize("dim", [4, 16, 32, 100])
@pytest.mark.parametrize("layout", ["replica", "compact"])
def test_param_formula(dim, layout):
    t = tier_map()
    spec = BespokeSpec((2 * dim, dim, max(1, dim // 4)))
    emb = BespokeEmbedding(V, dim, t.tier_V, spec, layout=layout, rows=t.sizes, rows_V=t.rows_V(),
                           rngs=nnx.Rngs(0))
    assert param_count(emb) == bespoke_param_formula(V, dim, spec, layout, t.sizes)
    if layout == "compact":   # each tier's table holds only its own tokens
        assert param_count(emb) == (5 * 2 * dim + 25 * dim + 10 * max(1, dim // 4)
                                    + 2 * dim * dim + dim + max(1, dim // 4) * dim + dim)


@pytest.mark.parametrize("layout", ["replica", "compact"])
def test_vectorised_routing_equals_per_token_reference(layout):
    emb = bespoke(layout)
    ids = jax.random.randint(jax.random.key(1), (3, 7), 0, V)
    fast = emb(ids)
    np.testing.assert_allclose(np.asarray(fast), slow_reference(emb, np.asarray(ids)), atol=1e-6)
    np.testing.assert_allclose(np.asarray(emb.lookup_all()[ids]), np.asarray(fast), atol=1e-6)


def test_jit_equals_eager():
    emb = bespoke()
    ids = jax.random.randint(jax.random.key(2), (4, 5), 0, V)
    jitted = nnx.jit(lambda m, x: m(x))(emb, ids)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(emb(ids)), atol=1e-6)


@pytest.mark.parametrize("layout", ["replica", "compact"])
def test_gradients_reach_only_rows_of_present_tokens(layout):
    t = tier_map()
    emb = bespoke(layout, t)
    present = np.array([t.order[0], t.order[1], t.order[20], t.order[-1]])  # high, high, mid, low
    ids = jnp.asarray(present.reshape(2, 2))
    grads = nnx.grad(lambda m: (m(ids) ** 2).sum())(emb)
    rows_V = t.rows_V()
    for k in range(3):
        g = np.asarray(grads["tiers"][emb.tier_keys[k]]["table"]["embedding"][...])
        mine = [tok for tok in present if t.tier_V[tok] == k]
        rows = [tok if layout == "replica" else rows_V[tok] for tok in mine]
        nonzero = set(np.flatnonzero(np.abs(g).sum(1) > 0).tolist())
        assert nonzero == set(int(r) for r in rows), (k, nonzero, rows)


def test_absent_tier_gets_zero_gradient_and_is_reported_inactive():
    t = tier_map()
    emb = bespoke("replica", t)
    ids = jnp.asarray([[t.order[0], t.order[1]]])          # high only
    active = emb.active_groups(ids)
    assert bool(active["high"]) and not bool(active["mid"]) and not bool(active["low"])
    grads = nnx.grad(lambda m: m(ids).sum())(emb)
    assert float(jnp.abs(grads["tiers"]["2_low"]["proj"]["kernel"][...]).sum()) == 0.0
    assert float(jnp.abs(grads["tiers"]["0_high"]["proj"]["kernel"][...]).sum()) > 0.0


def test_bad_inputs():
    t = tier_map()
    emb = bespoke("replica", t)
    with pytest.raises(ConfigError, match=r"\[0, 40\)"):
        emb(jnp.asarray([[0, V]]))
    with pytest.raises(ConfigError, match=r"-3"):
        StandardEmbedding(V, D, rngs=nnx.Rngs(0))(jnp.asarray([[-3]]))
    with pytest.raises(ConfigError, match="tier 2 dim"):
        BespokeEmbedding(V, D, t.tier_V, BespokeSpec((16, 8, 0)), rngs=nnx.Rngs(0))
    with pytest.raises(ConfigError, match="embed dim"):
        StandardEmbedding(V, 0, rngs=nnx.Rngs(0))
    with pytest.raises(ConfigError, match="tier 'low' has 10 tokens"):
        BespokeEmbedding(V, D, t.tier_V, BespokeSpec.focused(D), layout="compact", rows=(5, 25, 3),
                         rows_V=t.rows_V(), rngs=nnx.Rngs(0))
    with pytest.raises(ConfigError, match="layout"):
        BespokeEmbedding(V, D, t.tier_V, BespokeSpec.focused(D), layout="dense", rngs=nnx.Rngs(0))


@pytest.mark.parametrize("layout", ["replica", "compact"])
def test_capacity_lookup_matches_dense_and_keeps_gradients_local(layout):
    t = tier_map()
    emb = bespoke(layout, t)                                  # with capacities
    dense = np.asarray(emb(jnp.arange(V)))
    np.testing.assert_allclose(np.asarray(emb.lookup_all()), dense, atol=1e-6)
    ids = jnp.asarray([[t.order[0], t.order[-1]]])            # one high, one low token
    g = nnx.grad(lambda m: (m.lookup_all()[ids] ** 2).sum())(emb)
    assert float(jnp.abs(g["tiers"]["1_mid"]["table"]["embedding"][...]).sum()) == 0.0   # mid unused
    hi = np.asarray(g["tiers"]["0_high"]["table"]["embedding"][...])
    row = t.order[0] if layout == "replica" else t.rows_V()[t.order[0]]
    assert set(np.flatnonzero(np.abs(hi).sum(1))) == {row}
    if layout == "replica":
        loose = BespokeEmbedding(V, D, t.tier_V, BespokeSpec.focused(D), rngs=nnx.Rngs(0))
        np.testing.assert_allclose(np.asarray(loose.lookup_all()), np.asarray(loose(jnp.arange(V))),
                                   atol=1e-6)


@pytest.mark.parametrize("layout", ["replica", "compact"])
def test_window_mean_equals_the_mean_of_projected_tokens(layout):
    t = tier_map()
    graphdef, state, rest = nnx.split(bespoke(layout, t), nnx.Param, ...)
    for B in (2, 64):   # 2: pooled per tier; 64: wider than the (V, D) table, which is gathered
        ids = jax.random.randint(jax.random.key(4), (B, 6), 0, V)
        ids = ids.at[0].set(t.order[0])       # a window of one high token: other tiers absent
        _check_window_mean(graphdef, state, rest, ids)


def _check_window_mean(graphdef, state, rest, ids):
    @jax.jit
    def run(state, ids):
        def grads(pool, x):
            return jax.grad(lambda s: (pool(nnx.merge(graphdef, s, rest), x) ** 2).sum())(state)

        def fast(m, x):
            return m.window_mean(x)

        def slow(m, x):
            return m(x).mean(axis=1)

        emb = nnx.merge(graphdef, state, rest)
        return (fast(emb, ids), slow(emb, ids), grads(fast, ids), grads(slow, ids),
                grads(fast, ids[:1]))

    got, want, g_fast, g_slow, g_one = run(state, ids)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_slow)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # a window of one tier sends nothing to the other tiers (bias included)
    for k in (1, 2):
        for leaf in jax.tree.leaves(g_one["tiers"][("0_high", "1_mid", "2_low")[k]]):
            assert float(jnp.abs(leaf).sum()) == 0.0


def test_pooled_model_projects_no_token():
    """The training step's bespoke forward: projections act on (B, d_t) pooled sums only."""
    t = tier_map()
    model = PooledNextToken(bespoke("replica", t), V, D, rngs=nnx.Rngs(1))
    ids = jax.random.randint(jax.random.key(5), (2, 6), 0, V)
    text = jax.jit(lambda x: model(x)).lower(ids).as_text()
    shapes = re.findall(r"dot_general[^\n]*\) -> tensor<([0-9x]+)xf32>", text)
    assert shapes and all(s.split("x")[0] == "2" and len(s.split("x")) == 2 for s in shapes), shapes


def test_mean_of_rows_long_batches_pool_by_position_with_the_same_gradient():
    """More windows than table rows: pooled one position at a time (no (B, T, D) intermediate),
    equal to table[ids].mean(1) up to float rounding, with exactly its gradient; out-of-range
    ids give NaN rows (fill mode) as before; short batches are the plain gather-mean."""
    from jaxbespoke.nn.embeddings import _gather_mean, mean_of_rows

    table = jax.random.normal(jax.random.key(0), (30, 8))
    for B in (12, 300):    # below and above V = 30
        ids = jax.random.randint(jax.random.key(B), (B, 5), 0, 30)
        ref = _gather_mean(table, ids, True)
        np.testing.assert_allclose(mean_of_rows(table, ids), ref, rtol=1e-6, atol=1e-6)
        g = jax.random.normal(jax.random.key(1), ref.shape)
        grad = jax.grad(lambda t: (mean_of_rows(t, ids) * g).sum())(table)
        grad_ref = jax.grad(lambda t: (_gather_mean(t, ids, True) * g).sum())(table)
        np.testing.assert_array_equal(grad, grad_ref)
    bad = ids.at[3, 2].set(30)
    out = np.asarray(jax.jit(mean_of_rows)(table, bad))
    assert np.isnan(out[3]).all() and np.isfinite(np.delete(out, 3, axis=0)).all()
