"""Weights both ways between a PyTorch `state_dict` and a Flax NNX model (or its `nnx.State`).

Names: the torch references mirror the Flax attribute paths, so a Flax path
('embed', 'paths', 0, 'proj', 'kernel') is the torch key 'embed.paths.0.proj.weight'. Leaves:
nnx.Linear `kernel` (in, out) <-> torch Linear `weight` (out, in), transposed; nnx.Embed
`embedding` <-> Embedding `weight` as is; LayerNorm `scale` <-> `weight`; every other variable
(biases, integer buffers such as tier maps) keeps its name and layout. A module with another rule
adds it with `register_leaf`.

Every key and shape is checked before anything is copied; the first problem raises ConfigError
naming the key and both shapes. Floating values keep their precision (a float64 torch model gives
float64 Flax leaves, for the float64 checks); integer buffers take the target's integer type.
A round trip is exact, and the two sides never share memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import torch
from flax import nnx

from jaxbespoke.utils.errors import ConfigError

# flax leaf name -> (torch leaf name, transposed)
LEAF_RULES: dict[str, tuple[str, bool]] = {
    "kernel": ("weight", True),
    "embedding": ("weight", False),
    "scale": ("weight", False),
}


def register_leaf(flax_name: str, torch_name: str, transpose: bool = False) -> None:
    LEAF_RULES[flax_name] = (torch_name, transpose)


@dataclass(frozen=True)
class Entry:
    path: tuple
    key: str
    transpose: bool
    flax_shape: tuple
    flax_dtype: np.dtype

    @property
    def torch_shape(self) -> tuple:
        return tuple(reversed(self.flax_shape)) if self.transpose else self.flax_shape


def _state(target) -> nnx.State:
    return target if isinstance(target, nnx.State) else nnx.state(target)


def entries(target) -> list[Entry]:
    """The torch key of every Flax variable of a model or state, in Flax order."""
    out, seen = [], {}
    for path, var in nnx.to_flat_state(_state(target)):
        leaf = str(path[-1])
        name, transpose = LEAF_RULES.get(leaf, (leaf, False))
        key = ".".join(str(p) for p in path[:-1]) + ("." if len(path) > 1 else "") + name
        value = var[...]
        if transpose and value.ndim != 2:
            raise ConfigError(f"{'.'.join(map(str, path))}: expected a 2-D kernel, got shape "
                              f"{tuple(value.shape)} (stacked seeds? convert one seed at a time)")
        if key in seen:
            raise ConfigError(f"Flax paths {seen[key]} and {path} both map to torch key {key!r}")
        seen[key] = path
        out.append(Entry(tuple(path), key, transpose, tuple(value.shape), np.dtype(value.dtype)))
    return out


def _shape(t) -> tuple:
    return tuple(t.shape)


def check_state_dict(state_dict, target) -> list[Entry]:
    """Raise ConfigError at the first unexpected or misshaped key (in the state dict's order),
    then at the first missing one; else return the entries."""
    ents = entries(target)
    by_key = {e.key: e for e in ents}
    for key, t in state_dict.items():          # in the state dict's own order
        if key not in by_key:
            raise ConfigError(f"state dict has unexpected key {key!r} (shape {_shape(t)}); the "
                              f"model has no such variable")
        if _shape(t) != by_key[key].torch_shape:
            raise ConfigError(f"state dict key {key!r} has shape {_shape(t)}, the model expects "
                              f"{by_key[key].torch_shape}")
    for e in ents:
        if e.key not in state_dict:
            raise ConfigError(f"state dict lacks key {e.key!r} (the model expects shape "
                              f"{e.torch_shape})")
    return ents


def to_flax(state_dict, target) -> nnx.State:
    """Copy a torch state dict into a Flax model (in place) or into a copy of an nnx.State."""
    ents = check_state_dict(state_dict, target)   # everything is checked before any copy
    values = {}
    for e in ents:
        arr = state_dict[e.key].detach().cpu().numpy()
        arr = arr.T if e.transpose else arr
        if np.issubdtype(e.flax_dtype, np.integer):
            arr = arr.astype(e.flax_dtype)
        # an explicit copy: on CPU, jnp.asarray may alias an aligned numpy buffer, which here is
        # the torch parameter's own memory, and torch optimisers update it in place
        values[e.path] = jnp.asarray(np.array(arr, copy=True, order="C"))
    state = _state(target)
    flat = [(p, v.replace(values[tuple(p)])) for p, v in nnx.to_flat_state(state)]
    new = nnx.from_flat_state(flat)
    if not isinstance(target, nnx.State):
        nnx.update(target, new)
    return new


def to_torch(source, like=None) -> OrderedDict[str, torch.Tensor]:
    """A torch state dict of a Flax model or state. With `like` (a torch state dict, e.g.
    `ref.state_dict()`), keys and shapes are checked against it and its dtypes are used."""
    ents = entries(source)
    if like is not None:
        check_state_dict(like, source)
    flat = dict((tuple(p), v[...]) for p, v in nnx.to_flat_state(_state(source)))
    out = OrderedDict()
    for e in ents:
        arr = np.asarray(flat[e.path])
        arr = np.ascontiguousarray(arr.T if e.transpose else arr)
        t = torch.from_numpy(arr.copy())
        if like is not None:
            t = t.to(like[e.key].dtype)
        elif not torch.is_floating_point(t):
            t = t.long()
        out[e.key] = t
    if like is not None:   # torch's own key order, so load_state_dict sees what it wrote
        out = OrderedDict((k, out[k]) for k in like)
    return out
