"""Replicate the original 50-epoch comparison of standard and bespoke embeddings, with statistics.

Reported by the original (one unseeded draw each): standard 2.9091, bespoke 2.9251 final loss
("0.6% worse"), bespoke 2.48x the parameters.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path


from jaxbespoke.utils import cli, device, outputs, report
from jaxbespoke.utils.errors import TrainingDiverged
from jaxbespoke.replication import convergence as conv
from jaxbespoke.replication.figures import figure
from jaxbespoke.replication.rows import g

NAME = "convergence"
QUICK = dict(vocab_size=60, embed_dim=16, window=8, batch=4, corpus_size=3000, epochs=3,
             steps_per_epoch=5, eval_every=2, val_batches=2, n_high=5, n_low=10)


def parse(argv=None):
    p = cli.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--epochs", type=cli.positive_int, help="epochs (original: 50)")
    p.add_argument("--steps-per-epoch", type=cli.positive_int, help="batches per epoch (50)")
    p.add_argument("--embed-dim", type=cli.positive_int, help="model width D (64; docs said 128)")
    p.add_argument("--vocab-size", type=cli.positive_int, help="vocabulary V (200)")
    p.add_argument("--zipf", type=cli.positive_float, help="Zipf exponent s (1.4)")
    p.add_argument("--corpus-size", type=cli.positive_int, help="corpus tokens N (10,000)")
    p.add_argument("--n-high", type=cli.positive_int, help="high tier: top-N observed (20)")
    p.add_argument("--n-low", type=cli.positive_int, help="low tier: bottom-M observed (50)")
    p.add_argument("--lr", type=cli.positive_float, help="Adam learning rate (1e-3)")
    p.add_argument("--layout", choices=("replica", "compact"),
                   help="bespoke tables over the full vocab (original) or per tier")
    p.add_argument("--no-skip-absent", action="store_true",
                   help="give absent tiers a (zero-gradient) Adam step instead of torch's skip")
    return p.parse_args(argv)


def build_config(args):
    from jaxbespoke.protocols.protocol import PooledConfig

    base = PooledConfig(**QUICK) if args.quick else PooledConfig()
    over = {k: getattr(args, k) for k in ("epochs", "steps_per_epoch", "embed_dim", "vocab_size",
                                          "zipf", "corpus_size", "n_high", "n_low", "layout", "lr")
            if getattr(args, k) is not None}
    if args.no_skip_absent:
        over["skip_absent_tiers"] = False
    return replace(base, **over)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from jaxbespoke.protocols import protocol
    from jaxbespoke.replication.runs import run_focused

    cfg = build_config(args)
    seeds = cli.seeds(args)
    dev = device.setup(args)
    out = outputs.prepare(args.out or Path("results") / NAME)  # before any compute
    cmd = " ".join(["python experiments/convergence.py"] + (sys.argv[1:] if argv is None else argv))
    print(device.banner(dev))
    print(f"Config: V={cfg.vocab_size}, D={cfg.embed_dim}, T={cfg.window}, B={cfg.batch}, "
          f"N={cfg.corpus_size}, s={cfg.zipf}, {cfg.epochs} epochs x {cfg.steps_per_epoch} "
          f"batches, {len(seeds)} seeds, layout {cfg.layout}")
    reported = {k: figure(f"focused.{k}_loss").reported for k in ("standard", "bespoke")}
    base = {"command": cmd, "config": protocol.config_dict(cfg), "device": dev,
            "device_banner": device.banner(dev), "seeds": seeds, "reported": reported}
    t0 = time.perf_counter()
    try:
        f = run_focused(seeds, cfg, progress=not args.no_progress)
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        report.write_diverged(out, NAME, base, e, owned=(f"{NAME}.png",))
        print(f"what finished is kept in {out / (NAME + '.json')} and .md", file=sys.stderr)
        return 1
    wall = time.perf_counter() - t0
    doc = dict(base, status="ok", floor=f["floor"], summary=conv.summarize(f),
               rows=conv.rows(f, cfg),
               params={k: int(f["params"][k][0]) for k in ("standard", "bespoke")},
               tiers={"sizes": [t.sizes for t in f["tiers"]],
                      "mass": [t.mass() for t in f["tiers"]]},
               per_seed={"final_80_targets": f["final"], "full_validation": f["corrected"]},
               curves=f["curves"],
               timing={"compile_s": sum(t["compile_s"] for t in f["timing"].values()),
                       "run_s": sum(t["run_s"] for t in f["timing"].values()), "total_s": wall,
                       "per_model": f["timing"]})
    o, full = doc["summary"]["original"], doc["summary"]["full"]
    print(f"Parameters: standard {doc['params']['standard']:,}, bespoke "
          f"{doc['params']['bespoke']:,} ({doc['params']['bespoke'] / doc['params']['standard']:.2f}x)")
    print(f"Entropy floor H = {f['floor']['entropy']:.4f} nats")
    for name, est in (("80-target (original)", o), ("full validation", full)):
        d = est["paired_difference"]
        print(f"Final loss, {name}: standard {conv.fmt_measured(est['standard'])}, bespoke "
              f"{conv.fmt_measured(est['bespoke'])}, paired difference {conv._d(d)}"
              + (f" (p = {d['p_value']:.2g})" if d["p_value"] is not None else ""))
    print(f"One unpaired 80-target draw of the difference (the original's design) falls in "
          f"{conv.fmt_interval(o['single_draw']['unpaired_difference'])}")
    print("\nReported figure                               reported    verdict")
    for r in doc["rows"]:
        print(f"  {r['figure'][:44]:<44} {g(r['reported']):>9}    {r['verdict']}")
    print(f"\nTime: compile {doc['timing']['compile_s']:.1f} s, run {doc['timing']['run_s']:.1f} s, "
          f"total {wall:.1f} s")
    conv.plot(out / f"{NAME}.png", doc, f)
    report.write_result(out, NAME, doc, conv.markdown(doc))
    print(f"Wrote {out / (NAME + '.json')}, .md, .png")
    return 0


def entry() -> None:
    """Console script: main() with bad input as one line and exit status 2."""
    cli.run_main(main)


if __name__ == "__main__":
    entry()
