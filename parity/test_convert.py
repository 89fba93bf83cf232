"""Weight conversion: exact round trips, and clear errors before anything is copied."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

import jax  # noqa: E402
from flax import nnx  # noqa: E402

from jaxbespoke.utils.errors import ConfigError  # noqa: E402
from jaxbespoke.nn import convert  # noqa: E402
from parity import common  # noqa: E402
from parity.checks import Context  # noqa: E402
from parity.torch_ref import models as tmodels  # noqa: E402


def _leaves(model):
    return {tuple(p): np.asarray(v[...]) for p, v in nnx.to_flat_state(nnx.state(model))}


@pytest.mark.parametrize("kind,layout", [("standard", "replica"), ("bespoke", "replica"),
                                         ("bespoke", "compact")])
def test_round_trip_is_exact(kind, layout):
    ours, ref, _ = common.pooled_pair(kind, Context(), vocab_size=60, dim=8, layout=layout,
                                      tier=common.zipf_tiers(60, 3000, 6, 12, s=1.4))
    sd = ref.state_dict()
    back = convert.to_torch(ours, like=sd)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and torch.equal(back[k], sd[k]), k
    # and the other way: flax -> torch -> flax
    before = _leaves(ours)
    fresh, _, _ = common.pooled_pair(kind, Context(), vocab_size=60, dim=8, layout=layout,
                                     seed=5, tier=common.zipf_tiers(60, 3000, 6, 12, s=1.4))
    assert any(not np.array_equal(before[p], v) for p, v in _leaves(fresh).items())
    convert.to_flax(convert.to_torch(ours), fresh)
    after = _leaves(fresh)
    assert before.keys() == after.keys()
    for p in before:
        assert before[p].dtype == after[p].dtype and np.array_equal(before[p], after[p]), p


def test_linear_is_transposed_and_embedding_copied_as_is():
    ours, ref, _ = common.pooled_pair("standard", Context(), vocab_size=30, dim=4)
    np.testing.assert_array_equal(np.asarray(ours.head.kernel[...]),
                                  ref.head.weight.detach().numpy().T)
    np.testing.assert_array_equal(np.asarray(ours.embed.table.embedding[...]),
                                  ref.embed.table.weight.detach().numpy())


def _bespoke(dim=8, vocab=60, seed=0):
    return common.pooled_pair("bespoke", Context(), vocab_size=vocab, dim=dim, seed=seed,
                              tier=common.zipf_tiers(vocab, 3000, 6, 12, s=1.4))


def test_other_configuration_fails_before_copying_and_names_key_and_shapes():
    ours, _, _ = _bespoke(dim=8)
    before = _leaves(ours)
    _, other, _ = _bespoke(dim=12)
    with pytest.raises(ConfigError, match=r"'embed\.tiers\.0_high\.table\.weight' has shape "
                                          r"\(60, 24\), the model expects \(60, 16\)"):
        convert.to_flax(other.state_dict(), ours)
    after = _leaves(ours)
    assert all(np.array_equal(before[p], after[p]) for p in before)


def test_missing_and_unexpected_keys_are_named():
    ours, ref, _ = _bespoke()
    sd = ref.state_dict()
    missing = {k: v for k, v in sd.items() if k != "head.bias"}
    with pytest.raises(ConfigError, match=r"lacks key 'head\.bias' \(the model expects shape "
                                          r"\(60,\)\)"):
        convert.to_flax(missing, ours)
    extra = dict(sd, **{"head.extra": torch.zeros(3, 2)})
    with pytest.raises(ConfigError, match=r"unexpected key 'head\.extra' \(shape \(3, 2\)\)"):
        convert.to_flax(extra, ours)
    # a standard model's state dict into a bespoke model: its table is unexpected
    _, std, _ = common.pooled_pair("standard", Context(), vocab_size=60, dim=8)
    with pytest.raises(ConfigError, match=r"unexpected key 'embed\.table\.weight' \(shape \(60, 8\)\)"):
        convert.to_flax(std.state_dict(), ours)


def test_to_torch_checks_against_a_reference():
    ours, _, _ = _bespoke(dim=8)
    _, other, _ = _bespoke(dim=12)
    with pytest.raises(ConfigError, match="has shape"):
        convert.to_torch(ours, like=other.state_dict())


def test_float64_state_dict_keeps_its_precision():
    ref = tmodels.make_pooled("standard", 10, 4).double()
    ours, _, _ = common.pooled_pair("standard", Context(), vocab_size=10, dim=4)
    with jax.enable_x64(True):
        convert.to_flax(ref.state_dict(), ours)
        assert ours.head.kernel[...].dtype == np.float64
        np.testing.assert_array_equal(np.asarray(ours.head.kernel[...]),
                                      ref.head.weight.detach().numpy().T)


def test_converted_weights_do_not_alias_torch_memory():
    """torch optimisers update parameters in place; the Flax copy must not move with them (on CPU,
    jnp.asarray can alias an aligned numpy buffer: this made trajectory checks flaky)."""
    for seed in range(8):   # alignment varies by allocation, so try a few
        ours, ref, _ = common.pooled_pair("standard", Context(), vocab_size=64, dim=16, seed=seed)
        before = np.asarray(ours.embed.table.embedding[...]).copy()
        with torch.no_grad():
            for p in ref.parameters():
                p.add_(1.0)
        np.testing.assert_array_equal(np.asarray(ours.embed.table.embedding[...]), before)
        back = convert.to_torch(ours)
        with torch.no_grad():
            back["head.weight"].add_(1.0)
        assert not np.array_equal(back["head.weight"].numpy().T, np.asarray(ours.head.kernel[...]))
