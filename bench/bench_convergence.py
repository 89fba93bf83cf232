#!/usr/bin/env python
"""Time the 50-epoch protocol for 1 seed and for 16 vmapped seeds, compilation apart from running.

Absolute times on a shared machine are noisy; the ratios, measured side by side in one run, are
the figures to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jaxbespoke import cli, device, report  # noqa: E402
from jaxbespoke.protocol import PooledConfig, run_pooled  # noqa: E402


def measure(cfg, n_seeds: int) -> dict:
    t0 = time.perf_counter()
    res = run_pooled(cfg, list(range(n_seeds)), progress=False)
    total = time.perf_counter() - t0
    comp = sum(t["compile_s"] for t in res["timing"].values())
    run = sum(t["run_s"] for t in res["timing"].values())
    return {"seeds": n_seeds, "compile_s": comp, "run_s": run, "total_s": total}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=device.CHOICES)
    cli.add_scale_flags(p)
    p.add_argument("--many", type=int, default=16, help="seeds in the vmapped run")
    p.add_argument("--out", type=Path, default=Path("results/bench"))
    args = p.parse_args()
    dev = device.setup(args)
    cfg = PooledConfig()
    print(device.banner(dev))
    measure(PooledConfig(epochs=1, steps_per_epoch=2), 1)     # warm imports and the allocator
    one, many = measure(cfg, 1), measure(cfg, args.many)
    ratios = {k: many[k] / one[k] for k in ("compile_s", "run_s", "total_s")}
    print(f"{'seeds':>6} {'compile s':>10} {'run s':>8} {'total s':>8}")
    for r in (one, many):
        print(f"{r['seeds']:>6} {r['compile_s']:>10.2f} {r['run_s']:>8.2f} {r['total_s']:>8.2f}")
    print(f"{args.many} seeds / 1 seed: compile {ratios['compile_s']:.2f}x, run {ratios['run_s']:.2f}x, "
          f"total {ratios['total_s']:.2f}x (per seed: {ratios['total_s'] / args.many:.3f}x)")
    report.write_json(args.out / "bench_convergence.json",
                      {"device": dev, "one": one, "many": many, "ratios": ratios})
    return 0


if __name__ == "__main__":
    sys.exit(main())
