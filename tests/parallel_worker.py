"""Run by tests/test_parallel.py in a fresh process, since the CPU device count (XLA_FLAGS) and
jax.distributed must be fixed before JAX starts.

Trains the small 50-epoch protocol (bespoke model with its absent-tier skipping, 5 seeds: uneven
on 2, 3 or 4 devices) and a shortened encoder preset (standard model, 3 seeds, dropout,
checkpointed every epoch) once per requested device count, and saves every per-seed number,
with how the seeds were split, to OUT.npz (process 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

POOLED_SEEDS = [3, 4, 5, 6, 7]
PRESET_SEEDS = [0, 1, 2]


def configs():
    from jaxbespoke.protocols import presets, protocol
    from jaxbespoke.nn.encoders import EncoderConfig

    pooled = protocol.PooledConfig(vocab_size=40, embed_dim=8, window=6, batch=4,
                                   corpus_size=2000, epochs=2, steps_per_epoch=3, eval_every=1,
                                   val_batches=2, n_high=4, n_low=8, lr=1e-2)
    base = presets.get("definitive")[0]
    run = replace(base, name="tiny", vocab=20, dim=16, window=8, batch=4, corpus_size=3_000,
                  tiering=presets.RankFractions((0.2, 0.7), unseen=1), dims=(24, 16, 8),
                  encoder=EncoderConfig(16, 2, 32, 1, positions=8, final_norm=True,
                                        init="normal02"),
                  val_batches=3)
    return pooled, run, presets.Shorten(2, 2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out", type=Path)
    p.add_argument("--devices", default="all", help="comma-separated device counts, or 'all'")
    p.add_argument("--what", default="pooled,preset", help="pooled and/or preset")
    p.add_argument("--coordinator")
    p.add_argument("--num-processes", type=int)
    p.add_argument("--process-id", type=int)
    a = p.parse_args(argv)

    from jaxbespoke.utils import parallel

    parallel.initialize(parallel.distributed_settings(a.coordinator, a.num_processes,
                                                      a.process_id))
    from jaxbespoke.protocols import presets, protocol

    pooled, run, short = configs()
    res, splits = {}, {}
    for n in a.devices.split(","):
        parallel.configure(None if n == "all" else int(n))
        if "pooled" in a.what:
            r = protocol.run_pooled(pooled, POOLED_SEEDS, progress=False, kinds=("bespoke",))
            splits[f"{n}/pooled"] = r["seed_split"]
            for kind, m in r["models"].items():
                for k, v in m["history"].items():
                    res[f"{n}/pooled/{kind}/{k}"] = v
        if "preset" in a.what:
            ckpt = a.out.parent / f"ckpt_{n}"
            r = presets.run_config(run, PRESET_SEEDS, kinds=("standard",), short=short,
                                   progress=False, ckpt_dir=str(ckpt))
            splits[f"{n}/preset"] = r["seed_split"]
            for k, v in r["models"]["standard/faithful"]["curves"].items():
                res[f"{n}/preset/{k}"] = v
    if parallel.is_writer():
        import numpy as np

        np.savez(a.out, **res)
        a.out.with_suffix(".json").write_text(json.dumps(splits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
