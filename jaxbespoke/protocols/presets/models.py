"""A preset's models and their exact parameter counts."""

from __future__ import annotations

from dataclasses import replace

import jax
from flax import nnx

from jaxbespoke.data import tiers
from jaxbespoke.nn.embeddings import (
    BespokeEmbedding,
    BespokeSpec,
    HashedSharedEmbedding,
    StandardEmbedding,
    bespoke_param_formula,
)
from jaxbespoke.nn.encoders import EncoderLM
from jaxbespoke.nn.models import PooledLN, PooledNextToken
from jaxbespoke.protocols.presets.configs import ById, RunConfig
from jaxbespoke.utils.errors import ConfigError


def capacities(run: RunConfig, tier_list) -> tuple[int, ...]:
    """Compact tables hold max-over-seeds rows, so one compiled program serves every seed."""
    n = len(run.dims)
    return tuple(max(1, max(t.sizes[i] for t in tier_list)) for i in range(n))


def embed_params(run: RunConfig, sizes) -> int:
    """The embedding's parameter count for a seed's actual tier sizes (exact, no capacity)."""
    if run.layout == "hashed":   # HashedSharedEmbedding: two tables, 8 buckets, one Linear
        d = run.dims
        return sizes[0] * d[0] + sizes[1] * d[1] + 8 * d[2] + max(d) * run.dim
    spec = BespokeSpec(run.dims, run.proj_bias, run.identity_when_equal)
    return bespoke_param_formula(run.vocab, run.dim, spec, run.layout,
                                 rows=tuple(sizes) if run.layout == "compact" else None)


def make_model(run: RunConfig, kind: str, key, tier_V=None, rows_V=None, caps=None,
               causal: bool = False):
    """Model `kind` ('standard' or 'bespoke') of a run: its embedding in the run's body."""
    k_emb, k_body = jax.random.split(key)
    r_emb, r_body = nnx.Rngs(k_emb), nnx.Rngs(k_body)
    V, D = run.vocab, run.dim
    if kind == "standard":
        emb = StandardEmbedding(V, D, rngs=r_emb, init=run.init)
    elif kind != "bespoke":
        raise ConfigError(f"unknown model kind {kind!r}; expected 'standard' or 'bespoke'")
    elif run.layout == "hashed":
        emb = HashedSharedEmbedding(V, D, tier_V, rows_V, run.dims, caps[:2], rngs=r_emb,
                                    init=run.init)
    else:
        names = (run.tiering.names if isinstance(run.tiering, ById) else
                 tiers.NAMES4 if len(run.dims) == 4 else tiers.NAMES3)
        emb = BespokeEmbedding(V, D, tier_V, BespokeSpec(run.dims, run.proj_bias,
                                                         run.identity_when_equal),
                               names=names, layout=run.layout,
                               rows=caps if run.layout == "compact" else None, rows_V=rows_V,
                               rngs=r_emb, init=run.init)
    if run.body == "pooled":
        return PooledNextToken(emb, V, D, rngs=r_body, init=run.init)
    if run.body == "pooled_ln":
        return PooledLN(emb, V, D, rngs=r_body, init=run.init)
    return EncoderLM(emb, V, replace(run.encoder, causal=causal), rngs=r_body)
