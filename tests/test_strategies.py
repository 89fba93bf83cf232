import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.nn import strategies as S
from jaxbespoke.data import tiers
from jaxbespoke.nn.embeddings import param_count
from jaxbespoke.utils.errors import ConfigError
from routing_reference import routing_reference

V, D = 60, 16


def bands() -> S.Bands:
    rng = np.random.default_rng(0)
    toks = rng.permutation(V)[np.minimum(rng.zipf(1.2, 5000) - 1, V - 1)]  # shuffled ids
    return S.Bands.from_tiers(tiers.rank_fractions(toks, V, (0.05, 0.25), unseen=2))


def fixed_bands() -> S.Bands:
    tier_V = np.array([0] * 3 + [1] * 12 + [2] * 45, np.int32)
    rows_V = np.concatenate([np.arange(3), np.arange(12), np.arange(45)]).astype(np.int32)
    return S.Bands(tier_V, rows_V, (3, 12, 45), (0.6, 0.3, 0.1), ("high", "mid", "low"))


@pytest.mark.parametrize("strategy, dims, expected", [
    ("standard", (8,), 60 * 8),
    ("standard", (16,), 60 * 16),
    ("factorised", (4,), 60 * 4 + 4 * 16 + 16),
    ("bespoke_replica", (8, 16, 2), 60 * 8 + 8 * 16 + 16 + 60 * 16 + 60 * 2 + 2 * 16 + 16),
    ("bespoke_compact", (8, 16, 2), 3 * 8 + 8 * 16 + 16 + 12 * 16 + 45 * 2 + 2 * 16 + 16),
    ("adaptive", (32, 8, 2), 3 * 32 + 32 * 16 + 12 * 8 + 8 * 16 + 45 * 2 + 2 * 16),
    ("mixed", (20, 16, 5), 3 * 20 + 20 * 16 + 12 * 16 + 45 * 5 + 5 * 16),
])
def test_exact_parameter_formula(strategy, dims, expected):
    b = fixed_bands()
    plan = S.Plan(strategy, V, D, dims, b.sizes)
    assert plan.params == expected
    assert param_count(plan.build(b, rngs=nnx.Rngs(0))) == expected


@pytest.mark.parametrize("strategy", S.STRATEGIES)
@pytest.mark.parametrize("frac", [0.5, 0.75, 1.0])
def test_sizing_hits_budget_within_2_percent(strategy, frac):
    v, d = 240, 64
    bb = S.Bands.from_tiers(tiers.rank_fractions(
        np.random.default_rng(1).zipf(1.2, 20000) % v, v, (0.05, 0.25), unseen=2))
    plan = S.size(strategy, int(frac * v * d), v, d, bb)
    assert abs(plan.params - plan.budget) <= 0.02 * plan.budget
    assert param_count(plan.build(bb, rngs=nnx.Rngs(0))) == plan.params
    assert all(x >= 1 for x in plan.dims)


def test_sizing_follows_the_rules():
    b = bands()
    bes = S.size("bespoke_compact", 2000, V, D, b, S.Options(high=4, low=0.25))
    h, m, lo = bes.dims
    assert abs(h - 4 * m) <= 1.5 and abs(lo - m / 4) <= 1.5   # rounding + one +-1 step
    ada = S.size("adaptive", 2000, V, D, b, S.Options(factor=2))
    assert abs(ada.dims[1] - ada.dims[0] / 2) <= 1.5
    mix0 = S.size("mixed", 2000, V, D, b, S.Options(alpha=0.0))
    assert max(mix0.dims) - min(mix0.dims) <= 2                 # alpha = 0: uniform
    mix = S.size("mixed", 2000, V, D, b, S.Options(alpha=0.5))
    assert mix.dims[0] > mix.dims[1] > mix.dims[2]              # popular blocks get more
    fac = S.size("factorised", 240 * 64, 240, 64)
    assert fac.dims[0] < 64                                     # never the standard table


def test_budget_errors():
    b = bands()
    with pytest.raises(ConfigError, match="too small"):
        S.size("adaptive", 50, V, D, b)
    with pytest.raises(ConfigError, match="too small"):
        S.size("factorised", 10, V, D)
    with pytest.raises(ConfigError, match="exceeds|cannot reach"):
        S.size("standard", 3 * V * D, V, D)
    with pytest.raises(ConfigError, match="cannot reach"):
        S.size("standard", 90, V, D)                            # between 1 and 2 columns of V
    with pytest.raises(ConfigError, match="unknown strategy"):
        S.size("hashing", 1000, V, D, b)
    with pytest.raises(ConfigError, match="needs a frequency banding"):
        S.size("adaptive", 1000, V, D)
    with pytest.raises(ConfigError, match=">= 1"):
        S.size("standard", 0, V, D)


def test_every_id_needs_a_tier():
    t = tiers.cumulative_mass(np.arange(10).repeat(3), 20)      # ids 10..19 never seen: -1
    with pytest.raises(ConfigError, match="need a tier|needs a tier"):
        S.Bands.from_tiers(t)


DIMS = {"standard": (8,), "factorised": (5,), "bespoke_replica": (12, 16, 3),
        "bespoke_compact": (32, 16, 4), "adaptive": (40, 10, 2), "mixed": (16, 9, 3)}


def build(strategy, b):
    return S.Plan(strategy, V, D, DIMS[strategy], b.sizes).build(b, rngs=nnx.Rngs(3))


@pytest.mark.parametrize("strategy", S.STRATEGIES)
def test_vectorised_routing_equals_per_token_reference(strategy):
    b = bands()
    emb = build(strategy, b)
    ids = np.random.default_rng(2).integers(0, V, (3, 11))
    got = np.asarray(jax.jit(lambda m, x: m(x))(emb, jnp.asarray(ids)))
    np.testing.assert_allclose(got, routing_reference(emb, ids), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(emb.lookup_all())[ids], got, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("strategy", S.STRATEGIES)
def test_gradients_only_into_used_rows(strategy):
    b = bands()
    emb = build(strategy, b)
    ids = np.array([[int(np.flatnonzero(b.tier_V == 1)[0]), int(np.flatnonzero(b.tier_V == 1)[3]),
                     int(np.flatnonzero(b.tier_V == 1)[0])]])     # mid-tier tokens only
    w = jax.random.normal(jax.random.key(0), (1, 3, D))
    graphdef, params, rest = nnx.split(emb, nnx.Param, ...)
    grads = jax.grad(lambda p: (nnx.merge(graphdef, p, rest)(jnp.asarray(ids)) * w).sum())(params)
    flat = dict(nnx.to_flat_state(grads))
    tier_V, rows_V = b.tier_V, b.rows_V
    checked = 0
    for path, g in flat.items():
        g = np.asarray(g[...] if hasattr(g, "__getitem__") else g)
        if path[-1] != "embedding":
            if "tiers" in path and strategy != "factorised" and emb.group_of(path) != b.names[1]:
                assert not g.any(), f"{path}: an absent tier's projection got a gradient"
            continue
        used = set()
        for tok in ids.ravel():
            if strategy in ("standard", "factorised"):
                used.add(int(tok))
            elif emb.group_of(path) == b.names[tier_V[tok]]:
                used.add(int(tok) if strategy == "bespoke_replica" else int(rows_V[tok]))
        nonzero = set(np.flatnonzero(np.abs(g).sum(-1) > 0).tolist())
        assert nonzero == used, f"{path}: gradient rows {sorted(nonzero)} != used {sorted(used)}"
        checked += 1
    assert checked >= 1


def test_padded_embedding_zero_tail():
    b = bands()
    emb = S.size("standard", V * 5, V, D, b).build(b, rngs=nnx.Rngs(0))
    out = np.asarray(emb(jnp.arange(V)))
    assert out.shape == (V, D) and not out[:, 5:].any() and out[:, :5].any()
