"""How close a measured time is to this machine's limit, for the benchmarks.

The limit is a FLOP bound: the FLOPs XLA's cost analysis assigns to the compiled program, divided
by the matmul throughput measured on this machine in the same run (so load on a shared machine
lowers both the measured throughput and the measured times alike). A bound is a floor, not a
forecast: programs made of small matmuls, gathers and elementwise work sit well above it.
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np


def compile_with_flops(fn, *args):
    """(compiled, flops): `jax.jit(fn)` compiled for `args`, and the FLOPs XLA's cost analysis
    assigns to it (2 per multiply-add). XLA counts the body of a loop (scan, while, fori) once,
    not once per iteration, so pass a single step and multiply by the step count."""
    compiled = jax.jit(fn).lower(*args).compile()
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older jaxlib: one dict per program
        analysis = analysis[0]
    return compiled, float((analysis or {}).get("flops", math.nan))


def compiled_flops(fn, *args) -> float:
    """FLOPs of `jax.jit(fn)(*args)` by XLA's cost analysis (see compile_with_flops)."""
    return compile_with_flops(fn, *args)[1]


def time_calls(fn, *args, warmup: int = 2, repeats: int = 5) -> list[float]:
    """Seconds of each of `repeats` calls of fn(*args) after `warmup` calls (results awaited)."""
    for _ in range(warmup):
        jax.block_until_ready(fn(*args))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        out.append(time.perf_counter() - t0)
    return out


def matmul_throughput(n: int = 512, repeats: int = 21, dtype=jnp.float32) -> dict:
    """Measured FLOP/s of a jitted (n, n) @ (n, n) product: the best of `repeats` calls (the best
    call is the machine's capability; the median is reported too, as a sign of load)."""
    a = jax.random.normal(jax.random.key(0), (n, n), dtype)
    b = jax.random.normal(jax.random.key(1), (n, n), dtype)
    ts = time_calls(jax.jit(jnp.matmul), a, b, warmup=2, repeats=repeats)
    flops = 2.0 * n ** 3
    return {"n": n, "flops_per_s": flops / min(ts), "median_flops_per_s": flops / np.median(ts)}


def flop_bound(flops: float, throughput: dict) -> float:
    """Seconds the FLOPs would take at the measured best matmul throughput."""
    return flops / throughput["flops_per_s"]


def describe(measured_s: float, flops: float, throughput: dict) -> str:
    """'12.3 ms, bound 1.2 ms (10.2x)': a measured time next to its FLOP bound."""
    b = flop_bound(flops, throughput)
    return f"{measured_s * 1e3:.2f} ms, FLOP bound {b * 1e3:.2f} ms ({measured_s / b:.1f}x)"


def training_flops(timing: dict) -> float:
    """FLOPs of a training run from a timing record holding the compiled programs' FLOPs
    ({'flops': {'step', 'eval'}, 'steps', 'evals'}, as `Trainer.flops` and the runners give)."""
    f, evals = timing["flops"], timing.get("evals", 0)
    return f["step"] * timing["steps"] + (f["eval"] * evals if evals else 0.0)
