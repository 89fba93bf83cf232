"""Shared builders for the checks: paired Flax / torch modules with identical weights."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx

from jaxbespoke.data import corpus, tiers
from jaxbespoke.nn.embeddings import BespokeEmbedding, BespokeSpec, StandardEmbedding
from jaxbespoke.nn.models import PooledNextToken, cross_entropy

from . import convert
from .checks import Context, torch_dtype
from .torch_ref import embeddings as tref
from .torch_ref import models as tmodels


def zipf_tiers(vocab_size: int, n_tokens: int, n_high: int, n_low: int, seed: int = 0,
               s: float = 1.2) -> tiers.Tiers:
    toks = np.asarray(corpus.zipf_corpus(jax.random.key(seed), vocab_size, s, n_tokens))
    return tiers.top_bottom(toks, vocab_size, n_high, n_low)


# name -> (BespokeSpec dims relative to D, proj_bias, identity_when_equal, layout, tier -1 present)
EMBED_VARIANTS = {
    "standard": None,
    "bespoke_replica": ("focused", True, True, "replica", False),
    "bespoke_compact": ("focused", True, True, "compact", False),
    "bespoke_nobias_linear_mid": ("focused", False, False, "replica", False),
    "bespoke_untiered_ids": ("focused", True, True, "replica", True),
}


def embedding_pair(variant: str, ctx: Context, *, vocab_size=50, dim=16, seed=0):
    """(flax module, torch module, tier map) with the torch module's weights copied over."""
    torch.manual_seed(seed)
    t = zipf_tiers(vocab_size, 2000, 5, 10, seed=seed)
    tier_V = t.tier_V.copy()
    with default_dtype(ctx):
        if variant == "standard":
            ref = tref.StandardEmbedding(vocab_size, dim)
            ours = StandardEmbedding(vocab_size, dim, rngs=nnx.Rngs(seed))
        else:
            _, bias, ident, layout, untiered = EMBED_VARIANTS[variant]
            if untiered:
                tier_V[t.order[5:8]] = -1        # ids in no tier embed to zeros
            dims = (2 * dim, dim, dim // 4)
            sizes = tuple(int((tier_V == k).sum()) for k in range(3))
            rows_V = t.rows_V()
            ref = tref.BespokeEmbedding(vocab_size, dim, tier_V, dims, proj_bias=bias,
                                        identity_when_equal=ident, layout=layout, rows=sizes,
                                        rows_V=rows_V)
            ours = BespokeEmbedding(vocab_size, dim, tier_V,
                                    BespokeSpec(dims, proj_bias=bias, identity_when_equal=ident),
                                    layout=layout, rows=sizes, rows_V=rows_V,
                                    rngs=nnx.Rngs(seed))
    load(ours, ref, ctx)
    return ours, ref, tier_V


def pooled_pair(kind: str, ctx: Context, *, vocab_size=200, dim=64, tier=None, layout="replica",
                seed=0):
    """Pooled next-token models (the 50-epoch architecture) with identical weights."""
    torch.manual_seed(seed)
    # default tiers: the 50-epoch rule's 20 / 50 of 200, scaled to the vocabulary
    t = tier or zipf_tiers(vocab_size, 50 * vocab_size, vocab_size // 10, vocab_size // 4,
                           seed=seed, s=1.4)
    rows = tuple(int((t.tier_V == k).sum()) for k in range(3))
    with default_dtype(ctx):
        ref = tmodels.make_pooled(kind, vocab_size, dim, t.tier_V, layout=layout, rows=rows,
                                  rows_V=t.rows_V())
    rngs = nnx.Rngs(seed)
    if kind == "standard":
        emb = StandardEmbedding(vocab_size, dim, rngs=rngs)
    else:
        emb = BespokeEmbedding(vocab_size, dim, t.tier_V, BespokeSpec.focused(dim), layout=layout,
                               rows=rows, rows_V=t.rows_V(), rngs=rngs)
    ours = PooledNextToken(emb, vocab_size, dim, rngs=rngs)
    load(ours, ref, ctx)
    return ours, ref, t


def load(ours: nnx.Module, ref: torch.nn.Module, ctx: Context) -> None:
    """Copy ref's weights into ours. Under float64, nnx.Embed must also compute in float64: it
    fixes its compute dtype at construction (float32) and would cast float64 tables back."""
    convert.to_flax(ref.state_dict(), ours)
    if ctx.dtype == "float64":
        for _, m in nnx.iter_graph(ours):
            if isinstance(m, nnx.Embed):
                m.dtype = jnp.float64


class default_dtype:
    """Context: torch's default float dtype follows ctx.dtype (build torch references in it)."""

    def __init__(self, ctx: Context):
        self.dtype = torch_dtype(ctx)

    def __enter__(self):
        self.old = torch.get_default_dtype()
        torch.set_default_dtype(self.dtype)

    def __exit__(self, *exc):
        torch.set_default_dtype(self.old)


_default_dtype = default_dtype   # the name other checks files already use


def np_of(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def torch_grads(ref: torch.nn.Module) -> dict:
    """name -> grad (None when torch gave the parameter no gradient)."""
    return {n: p.grad for n, p in ref.named_parameters()}


def flax_grads(loss_fn, model) -> dict:
    """torch key -> gradient of loss_fn(model) in torch layout."""
    grads = nnx.grad(loss_fn)(model)
    return {k: np_of(v) for k, v in convert.to_torch(grads).items()}


def pooled_loss_torch(ref, x_BT, y_B):
    return torch.nn.functional.cross_entropy(ref(x_BT), y_B)


def pooled_loss_flax(model, x_BT, y_B):
    return cross_entropy(model(x_BT), y_B)


def to_jnp(a):
    return jnp.asarray(np_of(a))
