"""Parity of `jaxbespoke.nn.models` (the pooled next-token model) against `torch_ref.models`."""

from __future__ import annotations

import numpy as np
import torch

from . import common
from .checks import compare, register, row

B, T = 8, 16
MODELS = {"standard": ("standard", "replica"), "bespoke": ("bespoke", "replica"),
          "bespoke_compact": ("bespoke", "compact")}


def _batch(tier_V, seed, *, drop_tier=None):
    """Random (x, y); every tier present, or tier `drop_tier` absent from x."""
    rng = np.random.default_rng(seed)
    allowed = np.flatnonzero(tier_V != drop_tier) if drop_tier is not None else \
        np.arange(tier_V.size)
    x = rng.choice(allowed, (B, T))
    if drop_tier is None:
        for t in range(3):
            x[t, 0] = np.flatnonzero(tier_V == t)[0]
    return x, rng.integers(0, tier_V.size, B)


def _forward(name):
    kind, layout = MODELS[name]

    def check(ctx):
        ours, ref, t = common.pooled_pair(kind, ctx, layout=layout)
        x, _ = _batch(t.tier_V, 0)
        return [compare(ctx, "forward", f"models.PooledNextToken[{name}]", "logits_BV",
                        ours(common.to_jnp(x)), common.np_of(ref(torch.as_tensor(x))), atol=1e-6)]
    return check


def _gradient(name):
    kind, layout = MODELS[name]

    def check(ctx):
        rows = []
        cases = [("all tiers present", None)] + ([("low tier absent", 2)] if kind == "bespoke"
                                                 else [])
        for case, drop in cases:
            ours, ref, t = common.pooled_pair(kind, ctx, layout=layout)
            x, y = _batch(t.tier_V, 1, drop_tier=drop)
            common.pooled_loss_torch(ref, torch.as_tensor(x), torch.as_tensor(y)).backward()
            xj, yj = common.to_jnp(x), common.to_jnp(y)
            g = common.flax_grads(lambda m: common.pooled_loss_flax(m, xj, yj), ours)
            module = f"models.PooledNextToken[{name}]"
            for k, tg in common.torch_grads(ref).items():
                if tg is None:   # torch: no gradient at all; JAX must give exact zeros
                    z = float(np.abs(g[k]).max())
                    rows.append(row("gradient", module, f"d/d {k} ({case}: torch None)",
                                    max_abs=z, max_rel=None, tolerance="exactly 0",
                                    passed=z == 0.0, dtype=ctx.dtype))
                else:
                    rows.append(compare(ctx, "gradient", module, f"d/d {k} ({case})", g[k],
                                        common.np_of(tg), atol=1e-5, rtol=1e-4))
            if drop is not None:   # the case must really exercise a None gradient
                assert any(v is None for v in common.torch_grads(ref).values()), case
        return rows
    return check


for _n in MODELS:
    register("forward", f"models.PooledNextToken[{_n}]", name=f"models.forward.{_n}")(_forward(_n))
    register("gradient", f"models.PooledNextToken[{_n}]",
             name=f"models.gradient.{_n}")(_gradient(_n))
