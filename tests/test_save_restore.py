"""save/restore of a user's own NNX model: an exact round trip (into a fresh model and into an
abstract one), and clear errors for a missing folder, a model of another shape, an overwrite."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.nn.embeddings import BespokeEmbedding, BespokeSpec
from jaxbespoke.training.checkpoint import restore, save
from jaxbespoke.utils.errors import ConfigError

V = 24
TIER_V = np.repeat(np.arange(3), 8).astype(np.int32)


class UserModel(nnx.Module):
    """Not a library model: a tiered embedding, dropout (RNG state) and a head."""

    def __init__(self, dim: int, *, rngs: nnx.Rngs):
        self.embed = BespokeEmbedding(V, dim, TIER_V, BespokeSpec((2 * dim, dim, dim // 2)),
                                      rngs=rngs)
        self.drop = nnx.Dropout(0.1, rngs=rngs)
        self.head = nnx.Linear(dim, V, rngs=rngs)

    def __call__(self, ids_BT):
        return self.head(self.drop(self.embed(ids_BT)))


def _leaves(model):
    return {p: v[...] for p, v in nnx.to_flat_state(nnx.state(model))}


def _equal(a, b):
    if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
        a, b = jax.random.key_data(a), jax.random.key_data(b)
    return a.dtype == b.dtype and np.array_equal(np.asarray(a), np.asarray(b))


def test_round_trip_is_exact_into_a_fresh_and_an_abstract_model(tmp_path):
    model = UserModel(8, rngs=nnx.Rngs(0))
    model.drop.rngs.key[...] = jax.random.key(42)      # RNG state that differs from a fresh one
    saved = save(tmp_path / "ckpt", model)
    assert saved.is_absolute() and saved.is_dir()

    fresh = UserModel(8, rngs=nnx.Rngs(1))
    assert not _equal(fresh.head.kernel[...], model.head.kernel[...])
    assert restore(tmp_path / "ckpt", fresh) is fresh
    abstract = nnx.eval_shape(lambda: UserModel(8, rngs=nnx.Rngs(2)))
    loaded = restore(tmp_path / "ckpt", abstract)
    want = _leaves(model)
    for got in (_leaves(fresh), _leaves(loaded)):
        assert got.keys() == want.keys()
        for p in want:
            assert _equal(got[p], want[p]), p
    ids = jnp.asarray([[0, 9, 23]])
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(np.asarray(loaded(ids)), np.asarray(model(ids)))


def test_a_state_round_trips_too(tmp_path):
    model = UserModel(8, rngs=nnx.Rngs(0))
    save(tmp_path / "s", nnx.state(model, nnx.Param))
    target = nnx.state(UserModel(8, rngs=nnx.Rngs(3)), nnx.Param)
    got = restore(tmp_path / "s", target)
    assert isinstance(got, nnx.State)
    np.testing.assert_array_equal(np.asarray(got["head"]["kernel"][...]),
                                  np.asarray(model.head.kernel[...]))


def test_bad_targets_raise_config_errors_naming_the_problem(tmp_path):
    model = UserModel(8, rngs=nnx.Rngs(0))
    save(tmp_path / "ckpt", model)
    with pytest.raises(ConfigError, match="already exists"):
        save(tmp_path / "ckpt", model)
    save(tmp_path / "ckpt", model, overwrite=True)
    with pytest.raises(ConfigError, match="no saved model"):
        restore(tmp_path / "nothing", model)
    wider = UserModel(12, rngs=nnx.Rngs(0))
    before = _leaves(wider)
    with pytest.raises(ConfigError, match=r"variable 'embed\..*bias' in .* has shape \(8,\), "
                                          r"the model expects \(12,\)"):
        restore(tmp_path / "ckpt", wider)
    assert all(_equal(v, before[p]) for p, v in _leaves(wider).items())   # nothing changed
    with pytest.raises(ConfigError, match="nnx.Module or nnx.State"):
        save(tmp_path / "x", {"a": jnp.zeros(2)})
