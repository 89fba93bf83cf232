"""The sparse pipeline's full-batch products, XLA:CPU beside torch: (N, 64) x (64, 64) (a forward
layer) and (64, N) x (N, 64) (its weight gradient, a contraction over the N = 65,536 rows), each
repeated inside one jitted loop whose input depends on the previous step (so XLA cannot hoist it).

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
    """Seconds per product: kind 'forward' (rows, w) @ (w, w) or 'weight_grad' (w, rows) @ (rows, w)."""
    a = jnp.full((rows, width), 0.01)
    c = jnp.ones((rows, width))

    def run(w, a, c):  # a and c are arguments: as constants XLA lays them out differently
        def body(w, _):
            out = a @ w if kind == "forward" else (a * w[0, 0]).T @ c
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
    print(f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {flops / 1e9:.2f} GFLOP each")
    for kind in ("forward", "weight_grad"):
        s = time_jax(kind, args.rows, args.width, args.repeats)
        line = f"{kind:>11}: XLA {s * 1e3:6.2f} ms ({flops / s / 1e9:5.1f} GFLOP/s)"
        for t in filter(None, args.torch_threads.split(",")):
            s = time_torch(kind, args.rows, args.width, args.repeats, int(t))
            line += f"; torch {t}t {s * 1e3:6.2f} ms ({flops / s / 1e9:5.1f} GFLOP/s)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
