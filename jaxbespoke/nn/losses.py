"""The one cross-entropy (torch F.cross_entropy over integer targets), with the target guard.

A target outside [0, V): ConfigError eagerly, a NaN loss under jit (utils.guards), never a
plausible number.

Two kernels compute -log softmax(logits)[y]; they agree to float32 rounding but not bit for bit,
and each is the one its recorded results were computed with:
- `cross_entropy` / `cross_entropy_each`: optax's logsumexp(logits) - logits[y] (the bespoke
  protocols and presets, the embedding-strategy study);
- `lm_loss`: -take(log_softmax(logits), y) (the sparse-attention pipeline).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxbespoke.utils import guards


def cross_entropy_each(logits_NV: jax.Array, y_N: jax.Array) -> jax.Array:
    """Per-target cross-entropy, shape of y_N (any leading axes), NaN for a bad target."""
    losses_N = optax.softmax_cross_entropy_with_integer_labels(logits_NV, y_N)
    return guards.target_losses(losses_N, y_N, logits_NV.shape[-1])


def cross_entropy(logits_NV: jax.Array, y_N: jax.Array) -> jax.Array:
    """Mean cross-entropy over all targets (torch F.cross_entropy's reduction)."""
    return cross_entropy_each(logits_NV, y_N).mean()


def lm_loss(logits_BTV: jax.Array, y_BT: jax.Array) -> jax.Array:
    """Mean token-level cross-entropy over B*T, by the log-softmax kernel (see the module
    docstring for why it is kept)."""
    logp = jax.nn.log_softmax(logits_BTV, axis=-1)
    V = logits_BTV.shape[-1]
    guards.validate_ids(y_BT, V, "targets")
    picked = jnp.take_along_axis(logp, y_BT[..., None], axis=-1)
    return -jnp.where(guards.valid_ids(y_BT, V)[..., None], picked, jnp.nan).mean()
