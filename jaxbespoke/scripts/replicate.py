"""Replicate every reported bespoke figure: one row per figure, measured over seeds, with a verdict.

Runs the original experiments as presets (faithful, with corrected controls beside them) and the
50-epoch comparison, then writes replication.json (rows, timing), REPLICATION.md and plots.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from jaxbespoke.utils import cli, device, outputs, parallel, report
from jaxbespoke.utils.errors import ConfigError, TrainingDiverged
from jaxbespoke.replication import document, runs, table
from jaxbespoke.replication.rows import tally, tally_line

NAME = "replicate"
DEFAULT = ("focused", "scaling", "initial", "optimized", "ultra", "quick", "debug", "medium",
           "definitive")
ALL = DEFAULT + ("long", "btdt")
PARAMS_ONLY = ("long", "btdt")   # not trained unless named: minutes per step-hundred on a CPU


def parse(argv=None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=8)
    p.add_argument("--presets", default=",".join(DEFAULT),
                   help=f"comma-separated subset of: {', '.join(ALL)}")
    p.add_argument("--ckpt-every", type=cli.positive_int, default=5,
                   help="epochs between checkpoints of the long presets")
    p.add_argument("--sparse", type=Path, nargs="+", default=None, metavar="JSON",
                   help="results of experiments/sparse_attention.py (one file per task) whose "
                        "figures join the table; without it those rows say 'not given'")
    args = p.parse_args(argv)
    cli.apply_quick(args, p, argv, seeds=2)  # an explicit --seeds wins over --quick's 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    names = [n.strip() for n in args.presets.split(",") if n.strip()]
    bad = [n for n in names if n not in ALL]
    if bad or not names:
        raise ConfigError(f"unknown preset {bad[0] if bad else '(none)'!r}; valid presets: "
                          f"{', '.join(ALL)}")
    seeds = cli.seeds(args)
    info = device.setup(args)
    out_dir = outputs.prepare(args.out or Path("results") / NAME)  # before any compute
    sparse = _sparse(args.sparse)                                   # a bad file fails now
    print(device.banner(info), flush=True)
    ckpt = None if args.quick else runs.default_ckpt_dir(out_dir)
    t0 = time.perf_counter()
    R = {}
    try:
        for n in names:
            print(f"== {n}", flush=True)
            if n == "focused":
                R["focused"] = runs.run_focused(seeds, _quick_pooled() if args.quick else None,
                                                progress=not args.no_progress)
            else:
                R.update(runs.run_preset(n, seeds, quick=args.quick,
                                         progress=not args.no_progress, ckpt_dir=ckpt,
                                         ckpt_every=args.ckpt_every))
    except TrainingDiverged as e:  # keep every preset that finished; no stale report beside it
        print(f"error: {e}", file=sys.stderr)
        e.completed = {"models": {k: {"final": v.get("final"), "corrected": v.get("corrected")}
                                  for k, v in R.items()}}
        report.write_diverged(out_dir, "replication", {"command": " ".join(
            sys.argv[1:] if argv is None else argv), "device": info, "seeds": seeds}, e,
            owned=("REPLICATION.md", "replication_ratios.png") + tuple(
                f"replication_{k}.png" for k in ("definitive", "medium", "long")),
            md_name="REPLICATION.md")
        return 1
    for n in PARAMS_ONLY:
        if not any(k == n or k.startswith(n + "_") for k in R):
            R[n] = runs.params_only(n, seeds)
    tim = runs.timing(R)
    rows = table.build(R, sparse_results=sparse, timing=tim)
    runtime = time.perf_counter() - t0
    doc = {"command": "python experiments/replicate.py " + " ".join(
               sys.argv[1:] if argv is None else argv),
           "device": info, "device_banner": device.banner(info), "seeds": seeds,
           "runtime_s": runtime, "tally": tally(rows), "rows": rows, "timing": tim,
           "sparse_inputs": [str(p) for p in args.sparse or []],
           "final_losses": document.final_losses(R), "quick": args.quick}
    doc["plots"] = document.plots(out_dir, R, rows) if parallel.is_writer() else []
    report.write_json(out_dir / "replication.json", doc)
    report.write_atomic(out_dir / "REPLICATION.md", document.markdown(doc))
    print(f"{tally_line(rows)}; wrote {out_dir}/REPLICATION.md in {runtime:.0f} s")
    return 0


def _sparse(paths):
    if not paths:
        return None
    from jaxbespoke.replication.sparse_rows import merge_results

    return merge_results(*(cli.read_json(p, "--sparse") for p in paths))


def _quick_pooled():
    from jaxbespoke.protocols.protocol import PooledConfig

    return PooledConfig(epochs=5, steps_per_epoch=10, eval_every=2)


def entry() -> None:
    """Console script: main() with bad input as one line and exit status 2."""
    cli.run_main(main)


if __name__ == "__main__":
    entry()
