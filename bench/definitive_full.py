#!/usr/bin/env python
"""The definitive preset at full length (700 epochs x 500 steps = 350,000 steps; the standard and
bespoke models and the causal-mask control; 8 seeds), as far as a time budget allows, resumable.

Every model checkpoints into --ckpt every --ckpt-every epochs; a rerun with the same command
resumes where the last one stopped (identical numbers, see jaxbespoke/checkpoint.py). When the
budget runs out the run stops between epochs and the report says how far each model got.

    python bench/definitive_full.py --budget-s 300 --ckpt results/definitive_full/ckpt
    python bench/definitive_full.py --quick ...   # a tiny shortened run (a smoke test)
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path


from jaxbespoke.utils import cli, device, report

NAME = "definitive_full"
GROUPS = ((("faithful",), ("standard", "bespoke")), (("causal",), ("standard",)))


class OutOfTime(Exception):
    pass


def parse(argv=None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=8)
    p.add_argument("--budget-s", type=cli.positive_float, default=None,
                   help="stop (between epochs) after this many seconds")
    p.add_argument("--ckpt", type=Path, default=None, help="checkpoint folder (default OUT/ckpt)")
    p.add_argument("--ckpt-every", type=cli.positive_int, default=10, help="epochs per checkpoint")
    return p.parse_args(argv)


def progress_of(run, seeds, short, ckpt) -> dict:
    """Epochs done per model, read from its checkpoints."""
    from jaxbespoke.training import checkpoint
    from jaxbespoke.protocols import presets

    out = {}
    for variants, kinds in GROUPS:
        for kind in kinds:
            v = variants[0]
            ck = checkpoint.RunCheckpoint(ckpt / f"{run.name}_{kind}_{v}",
                                          presets.fingerprint(run, seeds, kind, v, short))
            out[f"{kind}/{v}"] = ck.latest() or 0
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    info = device.setup(args)
    print(device.banner(info), flush=True)
    from jaxbespoke.protocols import presets

    run = presets.get("definitive")[0]
    short = presets.Shorten(3, 5) if args.quick else None
    epochs = short.epochs if short else run.epochs
    seeds = list(range(args.seed_base, args.seed_base + args.seeds))
    out = args.out or Path("results") / NAME
    ckpt = (args.ckpt or out / "ckpt").resolve()
    if args.budget_s:
        def stop(*_):
            raise OutOfTime()
        signal.signal(signal.SIGALRM, stop)
        signal.alarm(max(1, int(args.budget_s)))
    t0 = time.perf_counter()
    results, status = {}, "complete"
    try:
        for variants, kinds in GROUPS:
            r = presets.run_config(run, seeds, variants=variants, kinds=kinds, short=short,
                                   progress=not args.no_progress, ckpt_dir=str(ckpt),
                                   ckpt_every=args.ckpt_every)
            for k, m in r["models"].items():
                results[k] = {"final_val_original": m["final"], "val_full": m["metrics"]["val_full"],
                              "timing": m["timing"]}
                print(f"{k}: done, val_full {m['metrics']['val_full'].mean():.4f} "
                      f"({m['timing']['s_per_step']} s/step this process)", flush=True)
    except OutOfTime:
        status = "out of time"
    finally:
        signal.alarm(0)
    wall = time.perf_counter() - t0
    done = progress_of(run, seeds, short, ckpt)
    doc = {"status": status, "device": info, "seeds": seeds, "epochs": epochs,
           "steps_per_epoch": short.steps_per_epoch if short else run.steps_per_epoch,
           "epochs_checkpointed": done, "wall_s": wall, "finished": results,
           "ckpt": str(ckpt), "command": "python bench/definitive_full.py " + " ".join(
               sys.argv[1:] if argv is None else argv)}
    report.write_json(out / f"{NAME}.json", doc)
    print(f"{status} after {wall:.0f} s; epochs checkpointed of {epochs}: "
          + ", ".join(f"{k} {v}" for k, v in done.items()), flush=True)
    return 0


if __name__ == "__main__":
    cli.run_main(main)
