"""Top-k sparse MLP attention: the original pipeline (faithful and fixed) with the baselines it
never reported, on the original's random-token task and on a copy task where attention matters.

    python experiments/sparse_attention.py --seeds 8
    python experiments/sparse_attention.py --from-json a/sparse_attention.json b/...json --out reports
"""

from __future__ import annotations

import sys
from pathlib import Path

from jaxbespoke.protocols.sparse import MODES, TASKS
from jaxbespoke.studies import sparse_attention as study
from jaxbespoke.studies.sparse_attention import NAME
from jaxbespoke.utils import cli, device, outputs


def parse(argv: list[str] | None = None):
    p = cli.parser(NAME, __doc__.splitlines()[0], default_seeds=8)
    p.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--top-k", type=cli.positive_int, default=3)
    p.add_argument("--from-json", nargs="+", type=Path, default=None, metavar="JSON",
                   help="rebuild the report from saved results (one JSON per task, or one)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    seeds = cli.seeds(args)
    out = args.out or Path("results") / NAME
    if args.from_json:
        print(study.from_json(args.from_json, outputs.prepare(out)))
        return 0
    info = device.setup(args)
    out = outputs.prepare(out)  # before any compute
    res = study.run(args.tasks, args.modes, args.top_k, seeds, info, out, quick=args.quick,
                    progress=not args.no_progress)
    command = "python experiments/sparse_attention.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    print(study.finish(res, out, command.strip()))
    return 0


def entry() -> None:
    """Console script: main() with bad input as one line and exit status 2."""
    cli.run_main(main)


if __name__ == "__main__":
    entry()
