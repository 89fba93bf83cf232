"""The tiny GPT of the sparse-attention experiment (docs/experiments.md, "Top-k sparse MLP attention").

2 pre-LN blocks, 2 heads, width 128, learned positions initialised to zero, exact-erf GELU MLP,
final LayerNorm, untied bias-free head, every layer initialised like its torch counterpart.
Attention hands back what the experiment needs (per-head probabilities, q, k, v) as return
values; a caller may also replace the output of chosen heads of a chosen layer (`head_fns`), which
is how the hybrid and every baseline of `jaxbespoke.protocols.sparse` plug in without copying the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from jaxbespoke.nn import init as init_lib
from jaxbespoke.nn.losses import lm_loss  # noqa: F401  (its historical home)
from jaxbespoke.nn.norm import layer_norm
from jaxbespoke.utils import guards
from jaxbespoke.utils.errors import ConfigError, check_positive

# head_fn(q_BTd, k_BTd, v_BTd, y_BTd) -> y_BTd: replaces one head's output (y is the exact one).
HeadFn = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array]


@dataclass(frozen=True)
class GPTConfig:
    """V vocab, T block size (positions), L layers, H heads, D width (head size D // H)."""

    vocab_size: int = 64
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 128
    ln_eps: float = 1e-5
    init: str = "torch"

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            check_positive(name.replace("_", " "), getattr(self, name))
        if self.n_embd % self.n_head:
            raise ConfigError(f"width {self.n_embd} is not divisible by {self.n_head} heads")

    @property
    def head_size(self) -> int:
        return self.n_embd // self.n_head


def causal_scores(q_BHTd: jax.Array, k_BHTd: jax.Array) -> jax.Array:
    """Scaled scores with future keys at -inf (every row keeps its diagonal, so no NaN)."""
    T = q_BHTd.shape[-2]
    s_BHTT = jnp.einsum("bhtd,bhsd->bhts", q_BHTd, k_BHTd) / math.sqrt(q_BHTd.shape[-1])
    causal_TT = jnp.tril(jnp.ones((T, T), bool))
    return jnp.where(causal_TT, s_BHTT, -jnp.inf)


class CausalSelfAttention(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, rngs: nnx.Rngs):
        self.n_head, self.head_size = cfg.n_head, cfg.head_size
        self.c_attn = init_lib.linear(cfg.n_embd, 3 * cfg.n_embd, rngs=rngs, scheme=cfg.init)
        self.c_proj = init_lib.linear(cfg.n_embd, cfg.n_embd, rngs=rngs, scheme=cfg.init)

    def qkv(self, x_BTD: jax.Array):
        """Fused projection split Q | K | V, each as (B, H, T, d); head h = channels [d*h, d*h+d)."""
        B, T, D = x_BTD.shape
        qkv = self.c_attn(x_BTD).reshape(B, T, 3, self.n_head, self.head_size)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        return q, k, v

    def __call__(self, x_BTD: jax.Array, head_fns: dict[int, HeadFn] | None = None):
        """Returns (y_BTD, aux) with aux = {probs (B,H,T,T), q, k, v (B,H,T,d)}."""
        B, T, D = x_BTD.shape
        q, k, v = self.qkv(x_BTD)
        probs_BHTT = jax.nn.softmax(causal_scores(q, k), axis=-1)
        y_BHTd = probs_BHTT @ v
        for h, fn in (head_fns or {}).items():
            y_BHTd = y_BHTd.at[:, h].set(fn(q[:, h], k[:, h], v[:, h], y_BHTd[:, h]))
        y_BTD = y_BHTd.transpose(0, 2, 1, 3).reshape(B, T, D)
        return self.c_proj(y_BTD), {"probs": probs_BHTT, "q": q, "k": k, "v": v}


class MLP(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, rngs: nnx.Rngs):
        self.fc = init_lib.linear(cfg.n_embd, 4 * cfg.n_embd, rngs=rngs, scheme=cfg.init)
        self.proj = init_lib.linear(4 * cfg.n_embd, cfg.n_embd, rngs=rngs, scheme=cfg.init)

    def __call__(self, x):
        return self.proj(jax.nn.gelu(self.fc(x), approximate=False))  # torch's exact erf GELU


class Block(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, rngs: nnx.Rngs):
        self.ln1 = layer_norm(cfg.n_embd, rngs, cfg.ln_eps)
        self.attn = CausalSelfAttention(cfg, rngs=rngs)
        self.ln2 = layer_norm(cfg.n_embd, rngs, cfg.ln_eps)
        self.mlp = MLP(cfg, rngs=rngs)

    def __call__(self, x_BTD, head_fns=None):
        a, aux = self.attn(self.ln1(x_BTD), head_fns)
        x_BTD = x_BTD + a
        return x_BTD + self.mlp(self.ln2(x_BTD)), aux


class GPT(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        self.tok_emb = init_lib.embed(cfg.vocab_size, cfg.n_embd, rngs=rngs, scheme=cfg.init)
        self.pos_emb = nnx.Param(jnp.zeros((cfg.block_size, cfg.n_embd), jnp.float32))
        self.blocks = nnx.List([Block(cfg, rngs=rngs) for _ in range(cfg.n_layer)])
        self.ln_f = layer_norm(cfg.n_embd, rngs, cfg.ln_eps)
        self.head = init_lib.linear(cfg.n_embd, cfg.vocab_size, rngs=rngs, bias=False,
                                    scheme=cfg.init)

    def check_overrides(self, layer: int, heads) -> None:
        if not 0 <= layer < self.cfg.n_layer:
            raise ConfigError(f"layer {layer} out of range: the model has {self.cfg.n_layer} layers")
        bad = [h for h in heads if not 0 <= h < self.cfg.n_head]
        if bad:
            raise ConfigError(f"head {bad[0]} out of range: each layer has {self.cfg.n_head} heads")

    def __call__(self, idx_BT: jax.Array, *, layer: int = 0,
                 head_fns: dict[int, HeadFn] | None = None, return_aux: bool = False):
        """Logits (B, T, V); with return_aux also the per-layer attention aux dicts.
        head_fns replace the outputs of those heads of `layer` (shapes are static, so the checks
        below run at trace time and cost nothing under jit)."""
        T = idx_BT.shape[-1]
        if T > self.cfg.block_size:
            raise ConfigError(f"sequence length {T} exceeds the model's {self.cfg.block_size} "
                              "positions")
        if head_fns:
            self.check_overrides(layer, head_fns)
        x_BTD = guards.take_rows(self.tok_emb, idx_BT, self.cfg.vocab_size) + self.pos_emb[:T]
        auxes = []
        for i, block in enumerate(self.blocks):
            x_BTD, aux = block(x_BTD, head_fns if i == layer else None)
            auxes.append(aux)
        logits_BTV = self.head(self.ln_f(x_BTD))
        return (logits_BTV, auxes) if return_aux else logits_BTV


def block_param_formula(D: int) -> int:
    """One pre-LN block of width D: two LayerNorms, fused QKV + out projection, 4D GELU MLP."""
    return 2 * 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D)


def body_param_formula(cfg: GPTConfig) -> int:
    """Everything but the token embedding: positions, blocks, final LayerNorm, bias-free head."""
    D, V, T = cfg.n_embd, cfg.vocab_size, cfg.block_size
    return T * D + cfg.n_layer * block_param_formula(D) + 2 * D + D * V


def param_formula(cfg: GPTConfig) -> int:
    """The whole GPT: a (V, D) token embedding and the body."""
    return cfg.vocab_size * cfg.n_embd + body_param_formula(cfg)
