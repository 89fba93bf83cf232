"""Named random streams: every key the library draws derives from a seed through this table.

A seed's key is `jax.random.key(seed)`; each use of randomness folds a fixed number into it, so
that the uses are independent of one another and of the order in which they run (a rerun of one
model kind, or a resumed run, draws exactly the same numbers). The numbers are part of the
results: changing one changes every figure that depends on it.

==========================  =====================================  ==============================
stream                      key                                    used by
==========================  =====================================  ==============================
DATA                        fold_in(seed, 1)                       corpus of a seed (protocols)
TRAIN                       fold_in(seed, 2)                       batch/validation stream
init_stream(i)              fold_in(seed, 10 + i)                  initial weights of model kind i
unpaired_stream(i)          fold_in(train key, 1000 + i)           model kind i's own stream
                                                                   ('unpaired' design)
epoch_keys(key, e, K)       split(fold_in(key, e), K)              the K training steps of epoch e
eval_key(key, e)            fold_in(fold_in(key, e), 0x5EED)       evaluation after epoch e
STRATEGY_INIT               fold_in(seed, 1)  (rbg keys)           embedding-strategy study init
Sparse.DATA ... .TRAIN_BATCH fold_in(seed, 1 ... 10)               sparse-attention pipeline stages
==========================  =====================================  ==============================

The sparse-attention pipeline uses its own numbering (`Sparse`); its stage keys and the
protocols' streams never meet in one run.
"""

from __future__ import annotations

from enum import IntEnum

import jax
import jax.numpy as jnp

DATA = 1
TRAIN = 2
_INIT_BASE = 10
_UNPAIRED_BASE = 1000
EVAL = 0x5EED
STRATEGY_INIT = 1   # the embedding-strategy study's model init (its corpus is fixed text)
STRATEGY_TRAIN = TRAIN


class Sparse(IntEnum):
    """Stages of the sparse-attention pipeline: stage key = fold_in(key(seed), stage)."""

    DATA = 1            # the token stream
    GPT_INIT = 2
    GPT_TRAIN = 3
    COLLECT = 4         # fresh batches whose teacher signals train the selector/approximator
    SELECTOR_INIT = 5
    SELECTOR_TRAIN = 6
    APPROX_INIT = 7
    APPROX_TRAIN = 8
    EVAL = 9
    TRAIN_BATCH = 10    # one fresh training batch: the original's logged last-step loss


def init_stream(kind_index: int) -> int:
    """Initial-weight stream of model kind `kind_index` (whatever subset of kinds a run trains,
    so a rerun of one kind starts from the same weights)."""
    return _INIT_BASE + kind_index


def unpaired_stream(kind_index: int) -> int:
    """A model kind's own batch stream, folded into the TRAIN key (the original's design)."""
    return _UNPAIRED_BASE + kind_index


def seed_keys(seeds, impl: str | None = None) -> jax.Array:
    """One key per seed, leading axis S (uint32 seeds; impl e.g. 'rbg', None = default)."""
    s = jnp.asarray(seeds, jnp.uint32)
    if impl is None:
        return jax.vmap(jax.random.key)(s)
    return jax.vmap(lambda x: jax.random.key(x, impl=impl))(s)


def fold(keys_S: jax.Array, stream: int) -> jax.Array:
    """fold_in(key, stream) for every key of a leading seed axis."""
    return jax.vmap(lambda k: jax.random.fold_in(k, stream))(keys_S)


def stage_keys(seeds, stage: int) -> jax.Array:
    """fold_in(key(seed), stage) per seed (the sparse pipeline's stage keys)."""
    return fold(seed_keys(seeds), int(stage))


def epoch_keys(key: jax.Array, epoch, steps: int) -> jax.Array:
    """The step keys of one epoch (one seed): step k of epoch e uses split(fold_in(key, e))[k]."""
    return jax.random.split(jax.random.fold_in(key, epoch), steps)


def eval_key(key: jax.Array, epoch) -> jax.Array:
    """The key of the evaluation after epoch `epoch` (one seed)."""
    return jax.random.fold_in(jax.random.fold_in(key, epoch), EVAL)
