"""Parity of `jaxbespoke.nn.embeddings` against `parity.torch_ref.embeddings`."""

from __future__ import annotations

import numpy as np
import torch

from . import common
from .checks import compare, register, torch_dtype

B, T = 8, 16


def _ids(tier_V, seed: int) -> np.ndarray:
    """Random ids in which every tier (and tier -1, if any) occurs."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, tier_V.size, (B, T))
    for k, t in enumerate(np.unique(tier_V)):
        ids[k, 0] = np.flatnonzero(tier_V == t)[0]
    return ids


def _forward(variant):
    def check(ctx):
        ours, ref, tier_V = common.embedding_pair(variant, ctx)
        ids = _ids(tier_V, 1)
        out_ref = ref(torch.as_tensor(ids))
        out = ours(common.to_jnp(ids))
        rows = [compare(ctx, "forward", f"embeddings.{variant}", "emb_BTD", out, common.np_of(out_ref),
                        atol=1e-6)]
        if variant != "standard":
            rows.append(compare(ctx, "forward", f"embeddings.{variant}", "lookup_all() vs torch",
                                ours.lookup_all(),
                                common.np_of(ref(torch.arange(tier_V.size)[None]))[0], atol=1e-6))
        return rows
    return check


def _gradient(variant):
    def check(ctx):
        ours, ref, tier_V = common.embedding_pair(variant, ctx)
        ids = _ids(tier_V, 2)
        w = np.random.default_rng(3).normal(size=(B, T, ours.dim))
        w_t = torch.as_tensor(w, dtype=torch_dtype(ctx))
        (ref(torch.as_tensor(ids)) * w_t).sum().backward()
        w_j, ids_j = common.to_jnp(w_t), common.to_jnp(ids)
        g = common.flax_grads(lambda m: (m(ids_j) * w_j).sum(), ours)
        tg = common.torch_grads(ref)
        return [compare(ctx, "gradient", f"embeddings.{variant}", f"d/d {k}", g[k],
                        common.np_of(tg[k]), atol=1e-5, rtol=1e-4) for k in tg]
    return check


for _v in common.EMBED_VARIANTS:
    register("forward", f"embeddings.{_v}", name=f"embeddings.forward.{_v}")(_forward(_v))
    register("gradient", f"embeddings.{_v}", name=f"embeddings.gradient.{_v}")(_gradient(_v))
