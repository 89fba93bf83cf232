"""Input validation that turns bad input into one clear message.

JAX gathers clamp out-of-range indices silently, so every id that enters a model from outside is
checked here, on the host, before it reaches a jitted function.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


class ConfigError(ValueError):
    """Bad user input: the message names the offending value. CLIs print it and exit 2."""


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite. Carries where it happened and what was computed before."""

    def __init__(self, message: str, *, epoch: int, seeds: list[int], partial: Any = None,
                 completed: Any = None):
        super().__init__(message)
        self.epoch = epoch
        self.seeds = seeds
        self.partial = partial          # History of the run that diverged, up to the epoch before
        self.completed = completed      # what finished before it (e.g. an earlier model), if any


def check_positive(name: str, value, minimum: int = 1) -> None:
    if value is None or value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}")


def check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must be strictly between 0 and 1, got {value!r}")


def check_ids(ids, vocab_size: int, what: str = "token ids") -> None:
    """Raise unless every id is an integer in [0, vocab_size)."""
    arr = np.asarray(ids)
    if arr.size == 0:
        return
    if not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{what} must be integers, got dtype {arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= vocab_size:
        bad = lo if lo < 0 else hi
        raise ConfigError(f"{what} must lie in [0, {vocab_size}); found {bad}")


def memory_bytes() -> int | None:
    """Physical memory of this machine (None if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: float, what: str) -> None:
    """Refuse up front (ConfigError with the estimate) what cannot fit in this machine's RAM."""
    have = memory_bytes()
    if have is not None and need > have:
        raise ConfigError(f"{what} needs about {_size(need)} of memory; this machine has "
                          f"{_size(have)}")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} B"
