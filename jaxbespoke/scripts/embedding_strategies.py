"""Embedding strategies at equal parameter budgets on real text: a small causal LM whose input
embedding is standard, factorised (ALBERT), bespoke (replica / compact), adaptive input or
mixed-dimension, each sized to the same embedding-parameter budget, several seeds each.

    .venv/bin/python experiments/embedding_strategies.py --seeds 3

Every strategy of a seed sees the same batches and the same body/head initialisation, so
differences between strategies are paired per seed.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from jaxbespoke.studies import embedding_strategies as study
from jaxbespoke.studies.embedding_strategies import NAME, QUICK, Config
from jaxbespoke.utils import cli, device, outputs, report


def parse(argv: list[str] | None = None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=3)
    p.add_argument("--text", default=None,
                   help="corpus: 'pydoc' (default), 'kjv' (needs jaxbespoke[text]) or a UTF-8 file")
    p.add_argument("--vocab", type=cli.positive_int, default=None, help="vocabulary cap")
    p.add_argument("--steps", type=cli.positive_int, default=None, help="steps per epoch")
    p.add_argument("--epochs", type=cli.positive_int, default=None)
    p.add_argument("--budgets", type=cli.positive_float, nargs="+", default=None,
                   help="budgets as fractions of the standard V x D table")
    p.add_argument("--strategies", nargs="+", default=None, choices=None,
                   help="subset of strategies (default: all)")
    p.add_argument("--init", choices=("torch", "normal02"), default=None,
                   help="initialisation: torch (N(0,1) tables, torch Linear) or N(0, 0.02)")
    p.add_argument("--no-sweep", action="store_true", help="skip the bespoke multiplier sweep")
    p.add_argument("--cache-dir", type=Path, default=None, help="tokenised-corpus cache")
    p.add_argument("--combine", type=Path, nargs="+", default=None, metavar="JSON",
                   help="only tabulate the best init per strategy over these runs' JSON files")
    return p.parse_args(argv)


def build_config(args) -> Config:
    cfg = Config(**QUICK) if args.quick else Config()
    over = {k: v for k, v in (("source", args.text), ("vocab_cap", args.vocab),
                              ("steps_per_epoch", args.steps), ("epochs", args.epochs),
                              ("budgets", tuple(args.budgets) if args.budgets else None),
                              ("strategies", tuple(args.strategies) if args.strategies else None),
                              ("init", args.init), ("sweep", () if args.no_sweep else None))
            if v is not None}
    return replace(cfg, **over)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.combine:
        if args.out:
            outputs.prepare(args.out)
        text = study.combine(args.combine)
        print(text)
        if args.out:
            report.write_atomic(args.out / f"{NAME}_combined.md", text)
        return 0
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = build_config(args)
    seeds = cli.seeds(args)
    dev = device.setup(args)
    out = outputs.prepare(args.out or Path("results") / NAME)  # before any compute
    return study.run(cfg, seeds, dev, out, cache_dir=args.cache_dir,
                     progress=not args.no_progress, argv=argv)


def entry() -> None:
    """Console script: main() with bad input as one line and exit status 2."""
    cli.run_main(main)


if __name__ == "__main__":
    entry()
