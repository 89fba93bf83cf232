"""The one LayerNorm: torch.nn.LayerNorm's numerics in Flax NNX."""

from __future__ import annotations

from flax import nnx


def layer_norm(dim: int, rngs: nnx.Rngs, eps: float = 1e-5) -> nnx.LayerNorm:
    """nnx.LayerNorm with torch's defaults: eps 1e-5 and the two-pass variance
    (flax's fast variance E[x^2] - E[x]^2 rounds differently), scale 1 and bias 0."""
    return nnx.LayerNorm(dim, epsilon=eps, use_fast_variance=False, rngs=rngs)
