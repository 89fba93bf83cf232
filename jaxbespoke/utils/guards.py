"""Out-of-range token ids, tier indices and targets: an error or a NaN, never a wrong answer.

JAX gathers do not raise: `table[-1]` wraps to the last row and an index >= V is clamped or
filled. The library's contract for every embedding module, model and cross-entropy:

* eagerly (concrete arrays) an id, tier or target outside its range raises ConfigError naming it;
* inside `jit` (where values cannot raise) the affected output is NaN: an embedding row of NaN
  for an id outside [0, V) or a token whose tier map entry is outside [-1, n_tiers), a NaN
  per-target loss for a target outside [0, V). A NaN reaches the loss, and the training engine
  stops with TrainingDiverged. Valid inputs give bit-identical results to an unguarded lookup;
  the guard is one integer `where` per index array (see tests/test_probes.py for its cost);
* `checked(fn)` runs `fn` under `jax.experimental.checkify` so that the same conditions raise
  a ConfigError under jit too (a debugging aid: it traces `fn` again with the checks in).
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxbespoke.utils.errors import ConfigError, check_ids

_CHECKIFY = contextvars.ContextVar("jaxbespoke_checkify", default=False)


def is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _check(ok, message: str) -> None:
    """Under `checked`, a checkify check (raises at run time); otherwise nothing."""
    if _CHECKIFY.get():
        from jax.experimental import checkify

        checkify.check(jnp.all(ok), message)


def validate_ids(ids, vocab_size: int, what: str = "token ids") -> None:
    """Eager: ConfigError unless every id lies in [0, vocab_size). Traced: a check under
    `checked`, else nothing (the lookup returns NaN rows instead)."""
    if is_concrete(ids):
        check_ids(np.asarray(ids), vocab_size, what)
    else:
        _check((ids >= 0) & (ids < vocab_size), f"{what} must lie in [0, {vocab_size})")


def valid_ids(ids, vocab_size: int):
    """Boolean mask of ids in [0, vocab_size)."""
    return (ids >= 0) & (ids < vocab_size)


def outside_negative(ids, vocab_size: int):
    """Ids with negatives moved to vocab_size, so that a fill-mode take (jnp.take's default)
    returns its NaN fill for them instead of wrapping to row vocab_size + id."""
    return jnp.where(ids < 0, vocab_size, ids)


def take_rows(table, ids, vocab_size: int):
    """table(ids) for an nnx.Embed-like callable, with every id outside [0, V) giving a NaN row."""
    validate_ids(ids, vocab_size)
    if vocab_size == 1:  # nnx.Embed broadcasts its single row whatever the id
        out = table(jnp.zeros_like(ids))
        return jnp.where(valid_ids(ids, 1)[..., None], out, jnp.nan)
    return table(outside_negative(ids, vocab_size))


def validate_tier_map(tier_V, vocab_size: int, n_tiers: int) -> None:
    """A tier map of any array type (numpy, jax, list): shape (V,), integers in [-1, n_tiers)
    (-1 = the id belongs to no tier and embeds as zeros). Traced maps are checked where used."""
    if not is_concrete(tier_V):
        return
    arr = np.asarray(tier_V)
    if arr.shape != (vocab_size,):
        raise ConfigError(f"tier map has shape {arr.shape}, expected ({vocab_size},)")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0):
            raise ConfigError(f"tier map must hold whole numbers, got dtype {arr.dtype}")
    if arr.size and (arr.min() < -1 or arr.max() >= n_tiers):
        bad = int(arr.min()) if arr.min() < -1 else int(arr.max())
        raise ConfigError(f"tier map holds tier {bad} but tiers must lie in [-1, {n_tiers}) "
                          f"for {n_tiers} tier dims (-1 = no tier)")


def target_losses(loss_N, y_N, vocab_size: int):
    """Per-target losses with NaN where a target lies outside [0, V); eagerly a ConfigError."""
    validate_ids(y_N, vocab_size, "targets")
    return jnp.where(valid_ids(y_N, vocab_size), loss_N, jnp.nan)


def checked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` traced with checkify range checks, jitted; a failed check raises ConfigError.

    For debugging: `checked(lambda ids: model(ids))(ids)` raises on an id outside [0, V) even
    though `model` runs under jit, where the plain call would give a NaN row."""
    from jax.experimental import checkify

    def traced(*args, **kwargs):
        token = _CHECKIFY.set(True)
        try:
            return fn(*args, **kwargs)
        finally:
            _CHECKIFY.reset(token)

    run = jax.jit(checkify.checkify(traced, errors=checkify.user_checks))

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        err, out = run(*args, **kwargs)
        msg = err.get()
        if msg is not None:
            raise ConfigError(msg.split(" (`check` failed)")[0].split(" (check failed at")[0].strip())
        return out

    return wrapper
