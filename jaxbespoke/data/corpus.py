"""Corpora and window batches.

The original's corpora are i.i.d. Zipf draws: p_r ~ 1/r^s over ids 0..V-1 (id k has rank k+1), so
id 0 is the most frequent. Everything here is deterministic given an explicit jax.random key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxbespoke.utils.errors import ConfigError, check_fraction, check_ids, check_positive


def zipf_probs(vocab_size: int, s: float) -> np.ndarray:
    """The generating distribution, normalised in float64 as the original does."""
    check_positive("vocab_size", vocab_size)
    if not s > 0:
        raise ConfigError(f"zipf exponent must be > 0, got {s!r}")
    w = 1.0 / np.arange(1, vocab_size + 1, dtype=np.float64) ** s
    return w / w.sum()


def zipf_corpus(key: jax.Array, vocab_size: int, s: float, n_tokens: int) -> jax.Array:
    """n_tokens i.i.d. draws from Zipf(s) over [0, vocab_size), as int32. vmap over keys for seeds."""
    check_positive("corpus size", n_tokens)
    # float32 probabilities like the original's torch.multinomial; inverse-CDF sampling, O(N log V)
    p = jnp.asarray(zipf_probs(vocab_size, s), jnp.float32)
    return jax.random.choice(key, vocab_size, (n_tokens,), p=p).astype(jnp.int32)


def split(tokens, train_frac: float):
    """Contiguous split: the first int(frac * N) tokens train, the rest validate (no shuffling)."""
    check_fraction("train fraction", train_frac)
    n_train = int(train_frac * tokens.shape[-1])
    return tokens[..., :n_train], tokens[..., n_train:]


def check_windows(n_tokens: int, window: int, what: str = "split") -> None:
    """A next-token window needs window + 1 tokens, and the original sampler needs one more."""
    check_positive("window", window)
    if n_tokens < window + 2:
        raise ConfigError(f"{what} has {n_tokens} tokens, too short for a window of {window} "
                          f"plus its target (need at least {window + 2})")


def sample_starts(key: jax.Array, n_tokens: int, window: int, batch: int) -> jax.Array:
    """Window starts uniform on {0 .. n_tokens - window - 2}, like torch.randint(0, len - T - 1)."""
    return jax.random.randint(key, (batch,), 0, n_tokens - window - 1)


def next_token_batch(data_N: jax.Array, starts_B: jax.Array, window: int):
    """x = data[s : s+T] per start, y = data[s+T] (the single next token)."""
    idx_BT = starts_B[:, None] + jnp.arange(window)[None, :]
    return data_N[idx_BT], data_N[starts_B + window]


def all_next_token_windows(data_N: jax.Array, window: int):
    """Every window with a target: s = 0 .. N - T - 1 (a low-noise estimator the original lacked)."""
    n = data_N.shape[-1] - window
    return next_token_batch(data_N, jnp.arange(n), window)


def from_ids(ids, vocab_size: int) -> np.ndarray:
    """Validate user-supplied token ids (JAX gathers would clamp bad ones silently)."""
    arr = np.asarray(ids)
    check_ids(arr, vocab_size)
    return arr.astype(np.int32)
