"""Embedding strategies at equal parameter budgets on real text, each tuned the same way and
compared on a held-out test split with pre-declared, Holm-corrected paired tests.

    python experiments/embedding_strategies.py                    # pydoc_data, 8 seeds
    python experiments/embedding_strategies.py --text kjv --name embedding_strategies_kjv

Per (strategy, budget): a learning-rate x embedding-init grid on tuning seeds (chosen on
validation), then the reported seeds at the tuned settings, early-stopped on validation and
scored on test. Body and head are identical across strategies; finished configurations are kept
under OUT/parts and a rerun resumes them.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from jaxbespoke.studies import embedding_strategies as study
from jaxbespoke.studies.embedding_strategies import NAME, QUICK, STRATEGIES, Config
from jaxbespoke.utils import cli, device, outputs


def file_stem(text: str) -> str:
    """A plain file name for the reports, never a path out of --out."""
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", text):
        raise argparse.ArgumentTypeError(f"must be a plain file name (letters, digits, '_', '-', "
                                         f"'.'; not starting with '.'), got {text!r}")
    return text


def parse(argv: list[str] | None = None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=8)
    p.add_argument("--text", default=None,
                   help="corpus: 'pydoc' (default), 'kjv' (needs jaxbespoke[text]) or a UTF-8 file")
    p.add_argument("--name", type=file_stem, default=NAME,
                   help="base name of the report files (letters, digits, '_', '-', '.')")
    p.add_argument("--vocab", type=cli.positive_int, default=None, help="vocabulary cap")
    p.add_argument("--steps", type=cli.positive_int, default=None, help="steps per epoch")
    p.add_argument("--epochs", type=cli.positive_int, default=None,
                   help="epochs (evaluated after each; each model stops at its best)")
    p.add_argument("--lrs", type=cli.positive_float, nargs="+", default=None,
                   help="learning-rate grid of the tuning phase")
    p.add_argument("--emb-inits", nargs="+", choices=("torch", "normal02"), default=None,
                   help="embedding initialisations compared (body and head fixed)")
    p.add_argument("--body-init", choices=("torch", "normal02"), default=None,
                   help="initialisation of the body and head, the same for every strategy")
    p.add_argument("--tune-seeds", type=cli.positive_int, default=None,
                   help="seeds of the tuning phase (after the reported ones, never reported)")
    p.add_argument("--margin", type=cli.positive_float, default=None,
                   help="equivalence margin in nats for the TOST")
    p.add_argument("--eval-tokens", type=cli.positive_int, default=None,
                   help="tokens of val and of test evaluated (default 20,000 each)")
    p.add_argument("--budgets", type=cli.positive_float, nargs="+", default=None,
                   help="budgets as fractions of the standard V x D table")
    p.add_argument("--strategies", nargs="+", default=None, choices=STRATEGIES,
                   help="subset of strategies (default: all)")
    p.add_argument("--cache-dir", type=Path, default=None, help="tokenised-corpus cache")
    return p.parse_args(argv)


def build_config(args) -> Config:
    cfg = Config(**QUICK) if args.quick else Config()
    tup = lambda v: tuple(v) if v else None  # noqa: E731
    over = {k: v for k, v in (("source", args.text), ("vocab_cap", args.vocab),
                              ("steps_per_epoch", args.steps), ("epochs", args.epochs),
                              ("lrs", tup(args.lrs)), ("emb_inits", tup(args.emb_inits)),
                              ("body_init", args.body_init), ("tune_seeds", args.tune_seeds),
                              ("margin", args.margin), ("eval_tokens", args.eval_tokens),
                              ("budgets", tup(args.budgets)),
                              ("strategies", tup(args.strategies)))
            if v is not None}
    return replace(cfg, **over)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = build_config(args)
    seeds = cli.seeds(args)
    dev = device.setup(args)
    out = outputs.prepare(args.out or Path("results") / NAME)  # before any compute
    command = "python experiments/embedding_strategies.py " + shlex.join(argv)
    return study.run(cfg, seeds, dev, out, cache_dir=args.cache_dir,
                     progress=not args.no_progress, command=command.strip(), name=args.name)


def entry() -> None:
    """Console script: main() with bad input as one line and exit status 2."""
    cli.run_main(main)


if __name__ == "__main__":
    entry()
