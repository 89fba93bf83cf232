"""The sparse pipeline's full-batch products, XLA:CPU beside torch: (N, 64) x (64, 64) (a forward
layer) and (64, N) x (N, 64) (its weight gradient, a contraction over the N = 65,536 rows), each
repeated inside one jitted loop whose input depends on the previous step (so XLA cannot hoist it).
XLA only: the weight gradient as a sum of two (64, N/2) x (N/2, 64) halves (one batched product),
a rewrite that could let the two halves run on two cores.

    .venv/bin/python -m bench.bench_dots [--rows 65536] [--torch-threads 1,2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp


def time_jax(kind: str, rows: int, width: int, repeats: int) -> float:
    """Seconds per product: kind 'forward' (rows, w) @ (w, w), 'weight_grad' (w, rows) @ (rows, w),
    or 'weight_grad_halves' (the same as a batched product over two halves of the rows, summed)."""
    a = jnp.full((rows, width), 0.01)
    c = jnp.ones((rows, width))

    def run(w, a, c):  # a and c are arguments: as constants XLA lays them out differently
        def body(w, _):
            if kind == "forward":
                out = a @ w
            elif kind == "weight_grad":
                out = (a * w[0, 0]).T @ c
            else:
                out = jnp.einsum("hnk,hnj->kj", (a * w[0, 0]).reshape(2, -1, width),
                                 c.reshape(2, -1, width))
            return w * 1.0001 + out.mean(), None

        return jax.lax.scan(body, w, None, length=repeats)[0]

    run = jax.jit(run)
    w0 = jnp.full((width, width), 0.01)
    jax.block_until_ready(run(w0, a, c))
    t0 = time.perf_counter()
    jax.block_until_ready(run(w0, a, c))
    return (time.perf_counter() - t0) / repeats


def time_torch(kind: str, rows: int, width: int, repeats: int, threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    a, c, w = torch.full((rows, width), 0.01), torch.ones(rows, width), torch.ones(width, width)
    f = (lambda: a @ w) if kind == "forward" else (lambda: a.T @ c)
    for _ in range(3):
        f()
    t0 = time.perf_counter()
    for _ in range(repeats):
        f()
    return (time.perf_counter() - t0) / repeats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=65_536, help="N (the pipeline's 32 x 32 x 64)")
    p.add_argument("--width", type=int, default=64, help="head size and hidden width")
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--torch-threads", default="1,2", help="comma-separated; empty: no torch")
    args = p.parse_args(argv)
    flops = 2 * args.rows * args.width ** 2
    threads = [t for t in args.torch_threads.split(",") if t]
    print(f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {flops / 1e9:.2f} GFLOP each")
    for kind in ("forward", "weight_grad", "weight_grad_halves"):
        s = time_jax(kind, args.rows, args.width, args.repeats)
        line = f"{kind:>18}: XLA {s * 1e3:6.2f} ms ({flops / s / 1e9:5.1f} GFLOP/s)"
        for t in [] if kind == "weight_grad_halves" else threads:
            s = time_torch(kind, args.rows, args.width, args.repeats, int(t))
            line += f"; torch {t}t {s * 1e3:6.2f} ms ({flops / s / 1e9:5.1f} GFLOP/s)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
