"""jaxbespoke: JAX/Flax replication of bespoke token dimensions and top-k sparse MLP attention.

The public API, importable from the package itself (`from jaxbespoke import BespokeEmbedding`);
each name is loaded on first use, so `import jaxbespoke` stays cheap and has no side effects.

* embeddings (Flax NNX modules with `nnx.Embed`'s conventions): `StandardEmbedding`,
  `BespokeEmbedding` + `BespokeSpec` (frequency tiers, each with its own width, projected to the
  model width; `BespokeEmbedding.from_cutoffs` for fairseq-style id bands), and the budget
  strategies `factorised`, `adaptive_input`, `mixed_dimension` (or `size_strategy` for any
  strategy at a parameter budget), `PaddedEmbedding`, `HashedSharedEmbedding`;
* tiering rules (host-side numpy, from a corpus): `top_bottom`, `cumulative_mass`,
  `rank_fractions`, `cutoff_bands`, with `Tiers`, `Bands`, `frequency_order`, `compact_rows`;
* top-k sparse attention: `TopKSparseAttention`, a causal self-attention layer whose chosen heads
  are replaced by a `KeySelector` (predicts each query's top-k keys) and a `HeadApproximator`
  (maps the values there to the head output); the selector gets no gradient through the layer,
  so both are trained by distillation (`selector_distillation_loss`,
  `approximator_distillation_loss`, `approximator_inputs`, or the layer's `distillation_losses`);
* training: `fit_seeds` (a model family over seeds, vmapped: returns a `FitResult` with the
  trained `TrainState`, history and timing), built on `Trainer` with `Task`, `TrainConfig`,
  `OptimConfig`, `History`, `init_states`, `make_optimizer` (the engine behind every
  experiment), or train with plain optax;
* persistence: `save` / `restore` (any NNX model or state, orbax), and `to_torch` / `to_flax`
  (PyTorch state dicts; needs the `jaxbespoke[torch]` extra);
* errors and guards: `ConfigError` (bad input, named in one line), `TrainingDiverged`,
  `checked` (range checks that raise under jit too).

Shape letters. Array names carry their axes as a suffix (`emb_BTD` is batch x time x width):

    B batch                T time (sequence / query positions)
    D model width          d a tier's, a head's or a factorised width
    V vocabulary size      N rows: flattened batch positions, or windows
    H attention heads      S key positions in attention scores (BTS); seeds in the engine
    k top-k keys per query K steps of an epoch (engine)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first attribute access)
_WHERE: dict[str, str] = {
    # embeddings
    "StandardEmbedding": "jaxbespoke.nn.embeddings",
    "BespokeEmbedding": "jaxbespoke.nn.embeddings",
    "BespokeSpec": "jaxbespoke.nn.embeddings",
    "HashedSharedEmbedding": "jaxbespoke.nn.embeddings",
    "TierMap": "jaxbespoke.nn.embeddings",
    "tier_keys": "jaxbespoke.nn.embeddings",
    "param_count": "jaxbespoke.nn.embeddings",
    "PaddedEmbedding": "jaxbespoke.nn.strategies",
    "Bands": "jaxbespoke.nn.strategies",
    "factorised": "jaxbespoke.nn.strategies",
    "adaptive_input": "jaxbespoke.nn.strategies",
    "mixed_dimension": "jaxbespoke.nn.strategies",
    "size_strategy": "jaxbespoke.nn.strategies",
    # tiering
    "Tiers": "jaxbespoke.data.tiers",
    "frequency_order": "jaxbespoke.data.tiers",
    "top_bottom": "jaxbespoke.data.tiers",
    "cumulative_mass": "jaxbespoke.data.tiers",
    "rank_fractions": "jaxbespoke.data.tiers",
    "cutoff_bands": "jaxbespoke.data.tiers",
    "compact_rows": "jaxbespoke.data.tiers",
    # top-k sparse attention
    "TopKSparseAttention": "jaxbespoke.nn.sparse",
    "KeySelector": "jaxbespoke.nn.sparse",
    "HeadApproximator": "jaxbespoke.nn.sparse",
    "selector_distillation_loss": "jaxbespoke.nn.sparse",
    "approximator_distillation_loss": "jaxbespoke.nn.sparse",
    "approximator_inputs": "jaxbespoke.nn.sparse",
    # training
    "Trainer": "jaxbespoke.training.train",
    "Task": "jaxbespoke.training.train",
    "TrainConfig": "jaxbespoke.training.train",
    "OptimConfig": "jaxbespoke.training.train",
    "History": "jaxbespoke.training.train",
    "init_states": "jaxbespoke.training.train",
    "make_optimizer": "jaxbespoke.training.train",
    "TrainState": "jaxbespoke.training.train",
    "fit_seeds": "jaxbespoke.training.fit",
    "FitResult": "jaxbespoke.training.fit",
    # persistence
    "save": "jaxbespoke.training.checkpoint",
    "restore": "jaxbespoke.training.checkpoint",
    "to_torch": "jaxbespoke.nn.convert",
    "to_flax": "jaxbespoke.nn.convert",
    # errors and guards
    "ConfigError": "jaxbespoke.utils.errors",
    "TrainingDiverged": "jaxbespoke.utils.errors",
    "checked": "jaxbespoke.utils.guards",
}

# a literal list, so that linters and type checkers see the re-exports (test_api holds it
# equal to _WHERE)
__all__ = [
    "Bands", "BespokeEmbedding", "BespokeSpec", "ConfigError", "FitResult", "HashedSharedEmbedding",
    "HeadApproximator", "History", "KeySelector", "OptimConfig", "PaddedEmbedding",
    "StandardEmbedding", "Task", "TierMap", "Tiers", "TopKSparseAttention", "TrainConfig",
    "TrainState", "Trainer", "TrainingDiverged", "adaptive_input", "approximator_distillation_loss",
    "approximator_inputs", "checked", "compact_rows", "cumulative_mass", "cutoff_bands",
    "factorised", "fit_seeds", "frequency_order", "init_states", "make_optimizer", "mixed_dimension",
    "param_count", "rank_fractions", "restore", "save", "selector_distillation_loss",
    "size_strategy", "tier_keys", "to_flax", "to_torch", "top_bottom", "__version__",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'jaxbespoke' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value      # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from jaxbespoke.data.tiers import (Tiers, compact_rows, cumulative_mass, cutoff_bands,
                                       frequency_order, rank_fractions, top_bottom)
    from jaxbespoke.nn.convert import to_flax, to_torch
    from jaxbespoke.nn.embeddings import (BespokeEmbedding, BespokeSpec, HashedSharedEmbedding,
                                          StandardEmbedding, TierMap, param_count, tier_keys)
    from jaxbespoke.nn.strategies import (Bands, PaddedEmbedding, adaptive_input, factorised,
                                          mixed_dimension, size_strategy)
    from jaxbespoke.nn.sparse import (HeadApproximator, KeySelector, TopKSparseAttention,
                                      approximator_distillation_loss, approximator_inputs,
                                      selector_distillation_loss)
    from jaxbespoke.training.checkpoint import restore, save
    from jaxbespoke.training.fit import FitResult, fit_seeds
    from jaxbespoke.training.train import (History, OptimConfig, Task, TrainConfig, Trainer,
                                           TrainState, init_states, make_optimizer)
    from jaxbespoke.utils.errors import ConfigError, TrainingDiverged
    from jaxbespoke.utils.guards import checked
