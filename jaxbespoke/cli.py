"""Shared CLI flags and the error convention: bad input -> one line on stderr, exit status 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .device import CHOICES
from .errors import ConfigError


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {v}")
    return v


def parser(name: str, description: str, default_seeds: int = 16) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=name, description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seeds", type=positive_int, default=default_seeds,
                   help="number of seeds (independent corpora, inits and batch streams)")
    p.add_argument("--seed-base", type=int, default=0, help="first seed; seeds are consecutive")
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
                        "--device cpu --devices N makes N CPU devices)")
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
    """Run main(); ConfigError becomes a one-line message and exit status 2."""
    try:
        code = main()
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
