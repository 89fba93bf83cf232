"""Models of the original experiments."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxbespoke.nn import init as init_lib
from jaxbespoke.nn.embeddings import mean_of_rows
from jaxbespoke.nn.losses import cross_entropy  # noqa: F401  (its historical home)
from jaxbespoke.nn.norm import layer_norm
from jaxbespoke.utils import guards


class PooledNextToken(nnx.Module):
    """The 50-epoch model: embedding -> mean over the window -> Linear(D -> V) logits.

    No token is projected on its own: an embedding with a `window_mean` (the bespoke one) pools
    each tier's raw rows and projects the pooled sums; any other embedding's window mean is the
    mean of rows of its (V, D) table of all embeddings. Same function as pooling per-token
    embeddings, up to float rounding.
    """

    def __init__(self, embed: nnx.Module, vocab_size: int, dim: int, *, rngs: nnx.Rngs,
                 init: str = "torch"):
        self.embed = embed
        self.head = init_lib.linear(dim, vocab_size, rngs=rngs, scheme=init)

    def __call__(self, x_BT: jax.Array) -> jax.Array:
        V = self.head.out_features
        guards.validate_ids(x_BT, V)
        window_mean = getattr(self.embed, "window_mean", None)
        if window_mean is not None:
            # a window holding an id outside [0, V) pools NaN, never another token's row
            pooled_BD = jnp.where(guards.valid_ids(x_BT, V).all(axis=-1)[..., None],
                                  window_mean(x_BT), jnp.nan)
        else:
            # an id outside [0, V) pools a NaN row (fill-mode take), never another token's row
            pooled_BD = mean_of_rows(self.embed.lookup_all(), guards.outside_negative(x_BT, V))
        return self.head(pooled_BD)

    def group_of(self, path) -> str:
        return self.embed.group_of(path[1:]) if path and path[0] == "embed" else "shared"

    def active_groups(self, x_BT) -> dict:
        return self.embed.active_groups(x_BT)


class PooledLN(nnx.Module):
    """scaling_test's model: embedding -> mean over the window -> LayerNorm -> Linear(D -> V)."""

    def __init__(self, embed: nnx.Module, vocab_size: int, dim: int, *, rngs: nnx.Rngs,
                 init: str = "torch"):
        self.embed = embed
        self.norm = layer_norm(dim, rngs)
        self.head = init_lib.linear(dim, vocab_size, rngs=rngs, scheme=init)

    def __call__(self, x_BT: jax.Array) -> jax.Array:
        return self.head(self.norm(self.embed.lookup_all()[x_BT].mean(axis=1)))

    def group_of(self, path) -> str:
        return self.embed.group_of(path[1:]) if path and path[0] == "embed" else "shared"

    def active_groups(self, x_BT) -> dict:
        return self.embed.active_groups(x_BT)
