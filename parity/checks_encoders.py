"""Parity of `jaxbespoke.nn.encoders` against `torch_ref.encoders` (torch's own
nn.TransformerEncoderLayer): forward logits and every parameter's gradient, dropout off, for the
post-LN encoder (unmasked as in the original, and the causal control) and the pre-LN block."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx

from jaxbespoke.nn.embeddings import StandardEmbedding
from jaxbespoke.nn.encoders import EncoderConfig, EncoderLM
from jaxbespoke.nn.models import cross_entropy

from jaxbespoke.nn import convert

from . import common
from .checks import compare, register
from .torch_ref import encoders as ref_lib

convert.register_leaf("in_kernel", "in_kernel", transpose=True)   # torch in_proj_weight (3D, D)

V, B = 40, 3
CASES = {
    "post": dict(dim=32, heads=4, ffn=64, layers=2, norm="post", positions=8, final_norm=True),
    "post_causal": dict(dim=32, heads=4, ffn=64, layers=2, norm="post", positions=8,
                        final_norm=True, causal=True),
    "post_nopos": dict(dim=32, heads=4, ffn=48, layers=1, norm="post"),
    "pre": dict(dim=32, heads=4, ffn=128, layers=2, norm="pre", positions=8, final_norm=True,
                head_bias=False),
}


def pair(case, ctx, seed=0):
    kw = dict(CASES[case])
    torch.manual_seed(seed)
    with common.default_dtype(ctx):
        ref = ref_lib.EncoderLM(V, **kw)
        ref.init_weights_normal02()
    ref.eval()   # dropout off (RNGs cannot match)
    cfg = EncoderConfig(kw.pop("dim"), kw.pop("heads"), kw.pop("ffn"), kw.pop("layers"),
                        dropout=0.1, **kw)
    rngs = nnx.Rngs(seed)
    ours = EncoderLM(StandardEmbedding(V, cfg.dim, rngs=rngs), V, cfg, rngs=rngs)
    convert.to_flax(ref_lib.to_flax_names(ref.state_dict()), ours)
    if ctx.dtype == "float64":
        for _, m in nnx.iter_graph(ours):
            if isinstance(m, nnx.Embed):
                m.dtype = jnp.float64
    return ours, ref


def _x(seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (B, 8)), rng.integers(0, V, (B, 8))


def _forward(case):
    def check(ctx):
        ours, ref = pair(case, ctx)
        x, _ = _x()
        with torch.no_grad():
            want = common.np_of(ref(torch.as_tensor(x)))
        return [compare(ctx, "forward", f"encoders.EncoderLM[{case}]", "logits_BTV",
                        ours(jnp.asarray(x)), want, atol=2e-5)]
    return check


def _gradient(case):
    def check(ctx):
        ours, ref = pair(case, ctx, seed=1)
        x, y = _x(1)
        ref.train()
        for m in ref.modules():   # training-mode graph (no fast path), dropout still off
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        for layer in ref.layers:
            layer.self_attn.dropout = 0.0
        logits = ref(torch.as_tensor(x))
        torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.as_tensor(y).reshape(-1)).backward()
        tg = ref_lib.to_flax_names({n: p.grad for n, p in ref.named_parameters()})
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        g = common.flax_grads(lambda m: cross_entropy(m(xj).reshape(-1, V), yj.reshape(-1)), ours)
        return [compare(ctx, "gradient", f"encoders.EncoderLM[{case}]", f"d/d {k}", g[k],
                        common.np_of(tg[k]), atol=2e-5, rtol=1e-4) for k in sorted(tg)]
    return check


for _c in CASES:
    register("forward", f"encoders.EncoderLM[{_c}]", name=f"encoders.forward.{_c}")(_forward(_c))
    register("gradient", f"encoders.EncoderLM[{_c}]", name=f"encoders.gradient.{_c}")(_gradient(_c))
