"""The torch references themselves: vectorised routing == the original's per-token routing,
absent tiers get no gradient, and the parameter counts are the original's."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from parity import common  # noqa: E402
from parity.checks import Context  # noqa: E402
from parity.torch_ref import embeddings as tref  # noqa: E402
from parity.torch_ref import models as tmodels  # noqa: E402


@pytest.mark.parametrize("variant", [v for v in common.EMBED_VARIANTS if v != "standard"])
def test_vectorised_routing_equals_per_token_routing(variant):
    _, ref, tier_V = common.embedding_pair(variant, Context())
    ids = torch.as_tensor(np.random.default_rng(0).integers(0, tier_V.size, (6, 16)))
    fast, slow = ref(ids), tref.per_token_forward(ref, ids)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-6)
    # and the gradients (the per-token version writes rows one at a time, like the original)
    w = torch.randn(6, 16, ref.dim)
    g_fast = torch.autograd.grad((fast * w).sum(), list(ref.parameters()), allow_unused=True)
    g_slow = torch.autograd.grad((slow * w).sum(), list(ref.parameters()), allow_unused=True)
    for a, b in zip(g_fast, g_slow):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_untiered_ids_embed_to_zero():
    _, ref, tier_V = common.embedding_pair("bespoke_untiered_ids", Context())
    none = np.flatnonzero(tier_V == -1)
    assert none.size
    assert torch.all(ref(torch.as_tensor(none)[None]) == 0)


def test_absent_tier_gets_no_gradient_and_no_adam_step():
    _, ref, tier_V = common.embedding_pair("bespoke_replica", Context())
    ids = torch.as_tensor(np.flatnonzero(tier_V != 2)[:16])[None]     # no low-tier token
    opt = torch.optim.Adam(ref.parameters(), lr=0.1)
    low = [p.detach().clone() for p in ref.paths[2].parameters()]
    ref(ids).sum().backward()
    assert all(p.grad is None for p in ref.paths[2].parameters())
    assert all(p.grad is not None for p in ref.paths[0].parameters())
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(low, ref.paths[2].parameters()))
    assert all(p not in opt.state for p in ref.paths[2].parameters())


def test_parameter_counts_are_the_spec_ones():
    tier_V = np.ones(200, np.int64)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(tmodels.make_pooled("standard", 200, 64)) == 25_800
    assert count(tmodels.make_pooled("bespoke", 200, 64, tier_V)) == 63_944


def test_counter_tiers_equal_library_tiers():
    """The reference's Counter + stable sort tiering (the original's) == jaxbespoke.data.tiers."""
    from jaxbespoke.data import tiers
    from parity.torch_ref.train import top_bottom_tiers, zipf_corpus

    for seed in range(3):
        torch.manual_seed(seed)
        toks = zipf_corpus(200, 1.4, 10_000)
        ours = tiers.top_bottom(toks.numpy(), 200, 20, 50).tier_V
        np.testing.assert_array_equal(top_bottom_tiers(toks, 200, 20, 50), ours)


def test_welch_interval_matches_scipy():
    from scipy import stats as sps

    from parity.checks_statistical import welch

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 16), rng.normal(0.3, 2, 20)
    w = welch(a, b)
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    np.testing.assert_allclose(w["ci95"], [ci.low, ci.high], rtol=1e-12)
