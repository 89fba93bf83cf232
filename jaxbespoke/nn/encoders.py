"""The original's transformer encoders, in Flax NNX, with PyTorch's layouts and init rules.

* `nn.TransformerEncoderLayer` (post-LN, ReLU, dropout 0.1 in four places, LayerNorm eps 1e-5) and
  the framework test's pre-LN block (GELU MLP, dropout on attention weights and after the MLP).
* `nn.MultiheadAttention`: one packed in-projection (D, 3D) with xavier_uniform over torch's
  (3D, D) weight and zero bias; out-projection with the Linear default init and a zero bias. The
  original's `_init_weights` (scheme 'normal02') re-initialises every Linear (out_proj included) and
  every Embedding to N(0, 0.02), but not the packed in-projection, which is a bare Parameter.
* `causal=False` is the original (no mask: every position sees the token it must predict);
  `causal=True` is the control.

Dropout needs an explicit key (`key=None` = eval mode, no dropout): the training task draws it
from the step key, so runs are reproducible and resumable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from flax import nnx

from jaxbespoke.nn import init as init_lib
from jaxbespoke.nn.norm import layer_norm
from jaxbespoke.utils.errors import ConfigError, check_positive


@dataclass(frozen=True)
class EncoderConfig:
    """dim D, heads, ffn width, layers; norm 'post' (nn.TransformerEncoderLayer) or 'pre' (the
    framework test's blocks); positions = size of a learned positional table (None: no positions);
    final_norm = LayerNorm before the head; init 'torch' (defaults) or 'normal02' (_init_weights)."""

    dim: int
    heads: int
    ffn: int
    layers: int
    dropout: float = 0.1
    norm: str = "post"
    positions: int | None = None
    final_norm: bool = False
    head_bias: bool = True
    init: str = "torch"
    causal: bool = False

    def __post_init__(self):
        for name in ("dim", "heads", "ffn", "layers"):
            check_positive(name, getattr(self, name))
        if self.dim % self.heads:
            raise ConfigError(f"dim {self.dim} is not divisible by heads {self.heads}")
        if self.norm not in ("post", "pre"):
            raise ConfigError(f"unknown norm placement {self.norm!r}; expected 'post' or 'pre'")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must lie in [0, 1), got {self.dropout!r}")
        if self.init not in ("torch", "normal02"):
            raise ConfigError(f"unknown init scheme {self.init!r}")


def dropout(x, rate: float, key):
    """Inverted dropout like torch's; identity when key is None (eval) or rate is 0."""
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


def _keys(key, n):
    return [None] * n if key is None else list(jax.random.split(key, n))


class MultiheadAttention(nnx.Module):
    def __init__(self, dim: int, heads: int, dropout_rate: float, *, rngs: nnx.Rngs,
                 init: str = "torch"):
        self.dim, self.heads, self.rate = dim, heads, dropout_rate
        # torch xavier_uniform on the (3D, D) weight: bound sqrt(6 / (D + 3D)); any init scheme
        bound = math.sqrt(6.0 / (dim + 3 * dim))
        self.in_kernel = nnx.Param(jax.random.uniform(rngs.params(), (dim, 3 * dim), jnp.float32,
                                                      -bound, bound))
        self.in_bias = nnx.Param(jnp.zeros((3 * dim,), jnp.float32))
        self.out = init_lib.linear(dim, dim, rngs=rngs, scheme=init)
        self.out.bias[...] = jnp.zeros((dim,), jnp.float32)

    def __call__(self, x_BTD, *, causal: bool, key=None):
        B, T, D = x_BTD.shape
        H, Dh = self.heads, D // self.heads
        qkv = x_BTD @ self.in_kernel[...] + self.in_bias[...]
        q, k, v = (a.reshape(B, T, H, Dh) for a in jnp.split(qkv, 3, axis=-1))
        s_BHTT = jnp.einsum("bqhd,bkhd->bhqk", q / math.sqrt(Dh), k)
        if causal:
            allowed = jnp.tril(jnp.ones((T, T), bool))
            s_BHTT = jnp.where(allowed, s_BHTT, jnp.finfo(s_BHTT.dtype).min)
        w_BHTT = dropout(jax.nn.softmax(s_BHTT, axis=-1), self.rate, key)
        o = jnp.einsum("bhqk,bkhd->bqhd", w_BHTT, v).reshape(B, T, D)
        return self.out(o)


class EncoderLayer(nnx.Module):
    """post: x = LN1(x + Drop(MHA(x))); x = LN2(x + Drop(W2 Drop(relu(W1 x)))).
    pre:  x = x + MHA(LN1(x)) [dropout on attention weights]; x = x + Drop(W2 gelu(W1 LN2(x)))."""

    def __init__(self, cfg: EncoderConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        self.attn = MultiheadAttention(cfg.dim, cfg.heads, cfg.dropout, rngs=rngs, init=cfg.init)
        self.ff1 = init_lib.linear(cfg.dim, cfg.ffn, rngs=rngs, scheme=cfg.init)
        self.ff2 = init_lib.linear(cfg.ffn, cfg.dim, rngs=rngs, scheme=cfg.init)
        self.ln1 = layer_norm(cfg.dim, rngs)
        self.ln2 = layer_norm(cfg.dim, rngs)

    def __call__(self, x, key=None):
        c, r = self.cfg, self.cfg.dropout
        k_att, k1, k2, k3 = _keys(key, 4)
        if c.norm == "post":
            x = self.ln1(x + dropout(self.attn(x, causal=c.causal, key=k_att), r, k1))
            h = dropout(jax.nn.relu(self.ff1(x)), r, k2)
            return self.ln2(x + dropout(self.ff2(h), r, k3))
        x = x + self.attn(self.ln1(x), causal=c.causal, key=k_att)
        h = jax.nn.gelu(self.ff1(self.ln2(x)), approximate=False)  # torch default: exact GELU
        return x + dropout(self.ff2(h), r, k3)


class EncoderLM(nnx.Module):
    """embedding [+ learned positions] -> encoder layers [-> LayerNorm] -> Linear(D -> V) per position."""

    def __init__(self, embed: nnx.Module, vocab_size: int, cfg: EncoderConfig, *, rngs: nnx.Rngs):
        self.embed, self.cfg = embed, cfg
        self.pos = (init_lib.embed(cfg.positions, cfg.dim, rngs=rngs, scheme=cfg.init)
                    if cfg.positions else None)
        self.layers = nnx.List([EncoderLayer(cfg, rngs=rngs) for _ in range(cfg.layers)])
        self.norm = layer_norm(cfg.dim, rngs) if cfg.final_norm else None
        self.head = init_lib.linear(cfg.dim, vocab_size, rngs=rngs, bias=cfg.head_bias,
                                    scheme=cfg.init)

    def __call__(self, x_BT, key=None):
        T = x_BT.shape[1]
        if self.pos is not None and T > self.cfg.positions:
            raise ConfigError(f"window {T} exceeds the positional table ({self.cfg.positions})")
        h = self.embed(x_BT)
        if self.pos is not None:
            h = h + self.pos(jnp.arange(T))[None]
        for layer, k in zip(self.layers, _keys(key, len(self.layers))):
            h = layer(h, k)
        if self.norm is not None:
            h = self.norm(h)
        return self.head(h)

    def group_of(self, path) -> str:
        return self.embed.group_of(path[1:]) if path and path[0] == "embed" else "shared"

    def active_groups(self, x_BT) -> dict:
        return self.embed.active_groups(x_BT)


def layer_param_count(dim: int, ffn: int) -> int:
    """One encoder layer: packed in-proj, out-proj, two FFN Linears, two LayerNorms."""
    return (3 * dim * dim + 3 * dim) + (dim * dim + dim) + (dim * ffn + ffn) + (ffn * dim + dim) + 4 * dim
