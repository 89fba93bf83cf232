"""A small causal LM whose input embedding is pluggable: the strategies of `strategies` differ
only there. The body is `gpt`'s pre-LN blocks (reused, not copied); positions are learned (zero
init, as in `gpt`), the head is an untied bias-free Linear(D -> V) shared by every strategy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxbespoke.nn import init as init_lib
from jaxbespoke.utils.errors import ConfigError
from jaxbespoke.nn import gpt
from jaxbespoke.nn.gpt import Block, GPTConfig
from jaxbespoke.nn.norm import layer_norm


class EmbeddingLM(nnx.Module):
    def __init__(self, embed: nnx.Module, cfg: GPTConfig, *, rngs: nnx.Rngs):
        if getattr(embed, "dim", cfg.n_embd) != cfg.n_embd and \
                getattr(embed, "out_dim", cfg.n_embd) != cfg.n_embd:
            raise ConfigError(f"embedding width does not match the model width {cfg.n_embd}")
        self.cfg = cfg
        self.embed = embed
        self.pos_emb = nnx.Param(jnp.zeros((cfg.block_size, cfg.n_embd), jnp.float32))
        self.blocks = nnx.List([Block(cfg, rngs=rngs) for _ in range(cfg.n_layer)])
        self.ln_f = layer_norm(cfg.n_embd, rngs, cfg.ln_eps)
        self.head = init_lib.linear(cfg.n_embd, cfg.vocab_size, bias=False, rngs=rngs,
                                    scheme=cfg.init)

    def __call__(self, ids_BT: jax.Array) -> jax.Array:
        T = ids_BT.shape[-1]
        if T > self.cfg.block_size:
            raise ConfigError(f"sequence length {T} exceeds the model's {self.cfg.block_size} "
                              "positions")
        x_BTD = self.embed(ids_BT) + self.pos_emb[:T]
        for block in self.blocks:
            x_BTD, _ = block(x_BTD)
        return self.head(self.ln_f(x_BTD))

    def group_of(self, path) -> str:
        return self.embed.group_of(path[1:]) if path and path[0] == "embed" else "shared"

    def active_groups(self, ids_BT) -> dict:
        return self.embed.active_groups(ids_BT)


# the same body as the GPT's: positions, blocks, final LayerNorm, bias-free head
body_param_formula = gpt.body_param_formula
