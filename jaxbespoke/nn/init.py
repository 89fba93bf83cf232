"""Initialisers that mirror PyTorch's defaults and the original's N(0, 0.02) rule.

Flax's defaults differ from PyTorch's (lecun-normal kernels, zero biases, Embed ~ N(0, 1/D)); the
replication experiments need PyTorch's, so every layer that mirrors a torch layer is built here.
"""

from __future__ import annotations

import math
from typing import Literal

import jax
import jax.numpy as jnp
from flax import nnx

Scheme = Literal["torch", "normal02"]

# nn.Embedding: N(0, 1).  nn.Linear weight: kaiming_uniform(a=sqrt 5) == U(+-1/sqrt(fan_in)).
torch_embedding = nnx.initializers.normal(stddev=1.0)
torch_linear_kernel = nnx.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")
normal02 = nnx.initializers.normal(stddev=0.02)


def torch_linear_bias(fan_in: int):
    """nn.Linear bias: U(+-1/sqrt(fan_in)); the fan-in is the layer's, not the bias's."""
    bound = 1.0 / math.sqrt(fan_in)

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def linear(d_in: int, d_out: int, *, rngs: nnx.Rngs, bias: bool = True,
           scheme: Scheme = "torch") -> nnx.Linear:
    """A Dense layer initialised like torch's nn.Linear ('torch') or N(0, 0.02), zero bias."""
    if scheme == "torch":
        kinit, binit = torch_linear_kernel, torch_linear_bias(d_in)
    elif scheme == "normal02":
        kinit, binit = normal02, nnx.initializers.zeros_init()
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; expected 'torch' or 'normal02'")
    return nnx.Linear(d_in, d_out, use_bias=bias, kernel_init=kinit, bias_init=binit, rngs=rngs)


def embed(num: int, dim: int, *, rngs: nnx.Rngs, scheme: Scheme = "torch") -> nnx.Embed:
    """A table initialised like torch's nn.Embedding ('torch', N(0,1)) or N(0, 0.02)."""
    if scheme == "torch":
        einit = torch_embedding
    elif scheme == "normal02":
        einit = normal02
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; expected 'torch' or 'normal02'")
    return nnx.Embed(num, dim, embedding_init=einit, rngs=rngs)
