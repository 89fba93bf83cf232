"""Parity of `jaxbespoke.nn.gpt` and `jaxbespoke.nn.sparse` against `torch_ref.gpt` and
`torch_ref.sparse`: forward and gradients (the distillation losses the pipeline trains on
included), and the top-k key order (by score, ties to the lower index)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx

from jaxbespoke.nn import gpt as jgpt
from jaxbespoke.nn import sparse as jsp

from . import common
from .checks import Context, compare, register, row, torch_dtype
from .torch_ref import gpt as tgpt
from .torch_ref import sparse as tsp

SMALL = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
FULL = dict(vocab_size=64, block_size=64, n_layer=2, n_head=2, n_embd=128)


def _dims(ctx: Context):
    return FULL if ctx.full else SMALL


def _batch(ctx, seed=0, B=3):
    d = _dims(ctx)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, d["vocab_size"], (B, d["block_size"]))
    return x, rng.integers(0, d["vocab_size"], (B, d["block_size"]))


def gpt_pair(ctx: Context, seed=0):
    d = _dims(ctx)
    torch.manual_seed(seed)
    with common._default_dtype(ctx):
        ref = tgpt.GPT(**d)
        with torch.no_grad():   # non-zero positions, so their gradient path is exercised
            ref.pos_emb.normal_(0, 0.5)
    ours = jgpt.GPT(jgpt.GPTConfig(**d), rngs=nnx.Rngs(seed))
    common.load(ours, ref, ctx)
    return ours, ref


def hybrid_pair(ctx: Context, mode: str, seed=0, top_k=3):
    g_ours, g_ref = gpt_pair(ctx, seed)
    d = _dims(ctx)
    hs, T = d["n_embd"] // d["n_head"], d["block_size"]
    with common._default_dtype(ctx):
        ref = tsp.HybridGPT(g_ref, [tsp.KeySelector(hs, T, 8)], [tsp.HeadApproximator(hs, top_k, 8)],
                            mode=mode)
    rngs = nnx.Rngs(seed + 1)
    ours = jsp.HybridGPT(g_ours, [jsp.KeySelector(hs, T, 8, rngs=rngs)],
                         [jsp.HeadApproximator(hs, top_k, 8, rngs=rngs)], mode=mode)
    common.load(ours, ref, ctx)
    return ours, ref


def _grad_rows(ctx, module, ours_loss, ours, ref, case=""):
    rows = []
    g = common.flax_grads(ours_loss, ours)
    for k, tg in common.torch_grads(ref).items():
        if tg is None:   # torch: no gradient (e.g. the selector behind a top-k); JAX: zeros
            z = float(np.abs(g[k]).max())
            rows.append(row("gradient", module, f"d/d {k}{case} (torch None)", max_abs=z,
                            max_rel=None, tolerance="exactly 0", passed=z == 0.0,
                            dtype=ctx.dtype))
        else:   # gradients are O(1e-3); compare them relative to their largest entry
            t = common.np_of(tg)
            scale = float(np.abs(t).max()) or 1.0
            rows.append(compare(ctx, "gradient", module, f"d/d {k}{case} / max|grad|",
                                g[k] / scale, t / scale, atol=1e-5, scale=scale))
    return rows


@register("forward", "gpt.GPT", name="sparse.forward.gpt")
def gpt_forward(ctx):
    ours, ref = gpt_pair(ctx)
    x, _ = _batch(ctx)
    lo, ao = ours(common.to_jnp(x), return_aux=True)
    with torch.no_grad():
        lr, ar = ref(torch.as_tensor(x), return_aux=True)
    rows = [compare(ctx, "forward", "gpt.GPT", "logits_BTV", lo, common.np_of(lr), atol=1e-5)]
    for i in range(len(ao)):
        for n in ("probs", "q", "k", "v"):
            rows.append(compare(ctx, "forward", "gpt.GPT", f"layer {i} {n}", ao[i][n],
                                common.np_of(ar[i][n]), atol=1e-5))
    return rows


@register("gradient", "gpt.GPT", name="sparse.gradient.gpt")
def gpt_gradient(ctx):
    ours, ref = gpt_pair(ctx)
    x, y = _batch(ctx, 1)
    tgpt.lm_loss(ref(torch.as_tensor(x)), torch.as_tensor(y)).backward()
    xj, yj = common.to_jnp(x), common.to_jnp(y)
    return _grad_rows(ctx, "gpt.GPT", lambda m: jgpt.lm_loss(m(xj), yj), ours, ref)


@register("forward", "sparse.KeySelector+HeadApproximator", name="sparse.forward.mlps")
def mlps_forward(ctx):
    torch.manual_seed(0)
    with common._default_dtype(ctx):
        sel, app = tsp.KeySelector(64, 64, 64), tsp.HeadApproximator(64, 3, 64)
    rngs = nnx.Rngs(0)
    jsel, japp = jsp.KeySelector(64, 64, 64, rngs=rngs), jsp.HeadApproximator(64, 3, 64, rngs=rngs)
    common.load(jsel, sel, ctx)
    common.load(japp, app, ctx)
    q = torch.randn(2, 64, 64, dtype=torch_dtype(ctx))
    vs = torch.randn(2, 64, 3, 64, dtype=torch_dtype(ctx))
    rows = [compare(ctx, "forward", "sparse.KeySelector", "logits", jsel(common.to_jnp(q)),
                    common.np_of(sel(q)), atol=1e-5),
            compare(ctx, "forward", "sparse.HeadApproximator", "head output",
                    japp(common.to_jnp(vs)), common.np_of(app(vs)), atol=1e-5)]
    # training losses of both (selector CE on a causal top-1, approximator MSE): gradients
    top1 = torch.minimum(torch.randint(0, 64, (2, 64)), torch.arange(64))
    for mode in jsp.MODES:
        sel.zero_grad()
        logits = sel(q)
        if mode == "fixed":
            logits = logits.masked_fill(torch.ones(64, 64).tril() == 0, float("-inf"))
        torch.nn.functional.cross_entropy(logits.reshape(-1, 64), top1.reshape(-1)).backward()
        qj, tj = common.to_jnp(q), common.to_jnp(top1)
        rows += _grad_rows(ctx, "sparse.KeySelector",
                           lambda m: jsp.selector_distillation_loss(m, qj, tj, mode), jsel,
                           sel, f" ({mode} loss)")
    y = torch.randn(2, 64, 64, dtype=torch_dtype(ctx))
    ((app(vs) - y) ** 2).mean().backward()
    vj, yj = common.to_jnp(vs), common.to_jnp(y)
    rows += _grad_rows(ctx, "sparse.HeadApproximator",
                       lambda m: jsp.approximator_distillation_loss(m, vj, yj), japp, app)
    return rows


@register("forward", "sparse.HybridGPT", name="sparse.forward.hybrid")
def hybrid_forward(ctx):
    rows = []
    x, _ = _batch(ctx, 2)
    for mode in jsp.MODES:
        ours, ref = hybrid_pair(ctx, mode)
        xj, xt = common.to_jnp(x), torch.as_tensor(x)
        with torch.no_grad():
            lr, ar = ref.gpt(xt, return_aux=True)
            ir, vr = tsp.topk_keys(ref.selectors[0](ar[0]["q"][:, 0]), 3, mode)
            out_r = ref(xt)
        _, ao = ours.gpt(xj, return_aux=True)
        io, vo = jsp.topk_keys(ours.selectors[0](ao[0]["q"][:, 0]), 3, mode)
        same = bool(np.array_equal(np.asarray(io), common.np_of(ir))
                    and np.array_equal(np.asarray(vo), common.np_of(vr)))
        rows.append(row("forward", "sparse.HybridGPT", f"selected keys, top-k order ({mode})",
                        max_abs=None, max_rel=None, tolerance="identical", passed=same,
                        dtype=ctx.dtype))
        rows.append(compare(ctx, "forward", "sparse.HybridGPT", f"logits ({mode})", ours(xj),
                            common.np_of(out_r), atol=1e-5))
        # the pieces the experiment's baselines use
        q, k, v = (ao[0][n][:, 0] for n in "qkv")
        qt, kt, vt = (ar[0][n][:, 0] for n in "qkv")
        pj, pt = jsp.teacher_probs(q, k), tsp.teacher_probs(qt, kt)
        ij, okj = jsp.topk_keys(pj, 3, mode)
        it, okt = tsp.topk_keys(pt, 3, mode)
        same = bool(np.array_equal(np.asarray(ij), common.np_of(it)))
        rows.append(row("forward", "sparse.topk_keys", f"teacher top-k order ({mode})",
                        max_abs=None, max_rel=None, tolerance="identical", passed=same,
                        dtype=ctx.dtype))
        rows.append(compare(ctx, "forward", "sparse.exact_topk_attention", f"output ({mode})",
                            jsp.exact_topk_attention(q, k, v, ij, okj),
                            common.np_of(tsp.exact_topk_attention(qt, kt, vt, it, okt)),
                            atol=1e-5))
        fj = jsp.faithful_train_inputs(v, 3) if mode == "faithful" else \
            jsp.gather_values(v, ij, okj)
        ft = tsp.faithful_train_inputs(vt, 3) if mode == "faithful" else \
            tsp.gather_values(vt, it, okt)
        rows.append(compare(ctx, "forward", "sparse.approximator inputs", f"{mode} training",
                            fj, common.np_of(ft), atol=1e-6))
    return rows


@register("gradient", "sparse.HybridGPT", name="sparse.gradient.hybrid")
def hybrid_gradient(ctx):
    rows = []
    x, y = _batch(ctx, 3)
    for mode in jsp.MODES:
        ours, ref = hybrid_pair(ctx, mode)
        tgpt.lm_loss(ref(torch.as_tensor(x)), torch.as_tensor(y)).backward()
        xj, yj = common.to_jnp(x), common.to_jnp(y)
        rows += _grad_rows(ctx, "sparse.HybridGPT", lambda m: jgpt.lm_loss(m(xj), yj), ours,
                           ref, f" ({mode})")
    return rows


@register("forward", "sparse.topk_keys", name="sparse.forward.topk_ties")
def topk_ties(ctx):
    """Integer scores with many ties: both frameworks must give the same keys in the same order."""
    rng = np.random.default_rng(5)
    s = rng.integers(0, 4, (4, 16, 16)).astype(np.float32)
    rows = []
    for mode in jsp.MODES:
        for k in (1, 3, 16):
            ij, vj = jsp.topk_keys(jnp.asarray(s), k, mode)
            it, vt = tsp.topk_keys(torch.as_tensor(s), k, mode)
            same = bool(np.array_equal(np.asarray(ij), common.np_of(it))
                        and np.array_equal(np.asarray(vj), common.np_of(vt)))
            rows.append(row("forward", "sparse.topk_keys", f"ties, k={k} ({mode})",
                            max_abs=None, max_rel=None, tolerance="identical", passed=same,
                            dtype=ctx.dtype))
    return rows
