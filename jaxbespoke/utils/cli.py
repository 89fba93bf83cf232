"""Shared CLI flags and the error convention: bad input -> one line on stderr, exit status 2."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from jaxbespoke.utils.device import CHOICES
from jaxbespoke.utils.errors import ConfigError, check_memory, memory_bytes  # noqa: F401 (re-exported)


INT_MAX = 2**31 - 1     # step counters, seeds and sizes are int32 on the device
SEED_LIMIT = 2**31      # seeds are consecutive from --seed-base and must stay below this
MAX_SEEDS = 10_000      # seeds are vmapped together: beyond this no experiment here fits


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    v = _whole(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    if v > INT_MAX:
        raise argparse.ArgumentTypeError(f"must be <= {INT_MAX} (int32), got {v}")
    return v


def seed_base(text: str) -> int:
    v = _whole(text)
    if not 0 <= v < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2**31), got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0 or not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def seeds(args) -> list[int]:
    """The run's seeds: --seed-base, --seed-base + 1, ... (--seeds of them), all below 2**31,
    at most MAX_SEEDS (vmapped at once; more go in batches with --seed-base)."""
    if args.seeds > MAX_SEEDS:
        raise ConfigError(f"--seeds {args.seeds}: at most {MAX_SEEDS:,} seeds train at once "
                          "(run more in batches with --seed-base)")
    if args.seed_base + args.seeds > SEED_LIMIT:
        raise ConfigError(f"--seed-base {args.seed_base} + --seeds {args.seeds} exceeds 2**31 "
                          f"(seeds must lie in [0, 2**31))")
    return list(range(args.seed_base, args.seed_base + args.seeds))


def explicit(p: argparse.ArgumentParser, argv=None) -> set[str]:
    """Destinations of the options given on the command line (not left at their default)."""
    saved = [(a, a.default) for a in p._actions]
    try:
        for a in p._actions:
            a.default = argparse.SUPPRESS
        ns, _ = p.parse_known_args(argv)
    finally:
        for a, d in saved:
            a.default = d
    return set(vars(ns))


def apply_quick(args, p: argparse.ArgumentParser, argv=None, **values) -> None:
    """With --quick, set each of `values` unless that flag was given explicitly (explicit flags
    always win over --quick's smoke-test sizes)."""
    if not args.quick:
        return
    given = explicit(p, argv)
    for k, v in values.items():
        if k not in given:
            setattr(args, k, v)


def read_json(path, flag: str):
    """A JSON file handed to an option; ConfigError naming the option and the file if it is
    missing, unreadable or not JSON."""
    import json

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise ConfigError(f"{flag} {path}: cannot read ({why})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{flag} {path}: not valid JSON ({e.msg}, line {e.lineno})") from None


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the project's error convention: one line naming the flag, exit status 2
    (not the whole usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the flags)\n")


def parser(name: str, description: str, default_seeds: int = 16) -> argparse.ArgumentParser:
    p = ArgumentParser(prog=name, description=description,
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seeds", type=positive_int, default=default_seeds,
                   help="number of seeds (independent corpora, inits and batch streams)")
    p.add_argument("--seed-base", type=seed_base, default=0,
                   help="first seed; seeds are consecutive and must stay below 2**31")
    p.add_argument("--device", choices=CHOICES, default="auto",
                   help="JAX backend: auto picks a GPU or Metal plugin when present, else CPU")
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default results/{name})")
    p.add_argument("--quick", action="store_true", help="tiny smoke configuration (seconds)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_scale_flags(p)
    return p


def add_scale_flags(p: argparse.ArgumentParser) -> None:
    """Devices, processes and the compilation cache (read by device.setup)."""
    g = p.add_argument_group("devices and hosts")
    g.add_argument("--devices", type=positive_int, default=None,
                   help="seeds are split over this many local devices (default: all; on CPU, "
                        "N CPU devices, and unset the largest divisor of the seed count up to "
                        "the usable cores; --devices 1 runs every seed in one program)")
    g.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                   help="several processes: process 0's address (or JAX_COORDINATOR_ADDRESS; "
                        "SLURM and Open MPI are detected without flags)")
    g.add_argument("--num-processes", type=positive_int, default=None,
                   help="several processes: how many (or JAX_NUM_PROCESSES)")
    g.add_argument("--process-id", type=int, default=None,
                   help="several processes: this one's index, 0 writes the results "
                        "(or JAX_PROCESS_ID)")
    g.add_argument("--no-compile-cache", action="store_true",
                   help="do not use JAX's persistent compilation cache (or set "
                        "JAXBESPOKE_COMPILE_CACHE=0; a folder there moves the cache)")


def run_main(main) -> None:
    """Run main() and exit with its status, never with a traceback:
    ConfigError (bad input) -> one line, exit 2; TrainingDiverged -> one line, exit 1;
    Ctrl-C -> exit 130; out of memory or a file error -> one line, exit 1; any other exception
    (a bug) -> one line, exit 1, and the traceback only with JAXBESPOKE_TRACEBACK=1."""
    from jaxbespoke.utils.errors import TrainingDiverged

    try:
        code = main()
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except MemoryError:
        print("error: out of memory (use fewer seeds or a smaller configuration)", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        print(f"error:{where} {e.strerror or e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - the promise is one line, never a traceback
        if os.environ.get("JAXBESPOKE_TRACEBACK"):
            raise
        first = (str(e).strip().splitlines() or [""])[0][:300]
        if "RESOURCE_EXHAUSTED" in str(e) or "out of memory" in str(e).lower():
            print(f"error: out of device memory ({first})", file=sys.stderr)
        else:
            print(f"internal error: {type(e).__name__}: {first} (JAXBESPOKE_TRACEBACK=1 shows "
                  "the traceback)", file=sys.stderr)
        sys.exit(1)
    sys.exit(code or 0)
