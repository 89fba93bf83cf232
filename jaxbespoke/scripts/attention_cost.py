"""Cost of top-k sparse MLP attention: MACs per component, the original's FLOP tables recomputed
from their formulas next to a consistent count, and wall-clock time of jitted attention layers:
exact, hybrids whose replaced heads never form QK^T, exact attention over k given keys (the floor
of any top-k method), each next to its FLOP bound.

    .venv/bin/python experiments/attention_cost.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from jaxbespoke.studies import attention_cost as study
from jaxbespoke.studies.attention_cost import NAME
from jaxbespoke.utils import cli, device, outputs
from jaxbespoke.utils.errors import ConfigError


def parse(argv: list[str] | None = None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=1)
    p.add_argument("--d", type=cli.positive_int, default=128, help="layer width")
    p.add_argument("--heads", type=cli.positive_int, default=2)
    p.add_argument("--top-k", type=cli.positive_int, default=3)
    p.add_argument("--hidden", type=cli.positive_int, default=64,
                   help="selector and approximator hidden width")
    p.add_argument("--tokens", type=cli.positive_int, default=4096,
                   help="tokens per timed call (batch = tokens / T)")
    p.add_argument("--max-len", type=cli.positive_int, default=4096)
    p.add_argument("--repeats", type=cli.positive_int, default=7)
    p.add_argument("--warmup", type=cli.positive_int, default=2)
    args = p.parse_args(argv)
    if args.d % args.heads:
        raise ConfigError(f"width {args.d} is not divisible by {args.heads} heads")
    cli.apply_quick(args, p, argv, max_len=64, repeats=2, warmup=1, tokens=256)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cli.seeds(args)  # the shared flags are validated even where no seed is used
    info = device.setup(args)
    out = outputs.prepare(args.out or Path("results") / NAME)  # before any compute
    command = "python experiments/attention_cost.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    print(study.run(args, info, out, command))
    return 0


def entry() -> None:
    """Console script: main() with bad input as one line and exit status 2."""
    cli.run_main(main)


if __name__ == "__main__":
    entry()
