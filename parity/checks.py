"""Registry of parity checks (Flax library vs. the PyTorch references in `parity/torch_ref/`).

How to add a module's checks (a few lines):

1. Write its reference in `parity/torch_ref/<module>.py`, naming parameters like the Flax
   attributes (then `parity.convert` copies weights by name; see its docstring for leaf rules).
2. Create `parity/checks_<module>.py` (auto-imported by `load_all`) with functions like

       from parity.checks import register, compare

       @register("forward", "gpt.TinyGPT")
       def gpt_forward(ctx):
           ...build ref under common.default_dtype(ctx), then common.load(ours, ref, ctx)
           (copies the weights; under float64 it also makes nnx.Embed compute in float64)...
           return [compare(ctx, "forward", "gpt.TinyGPT", "logits", out_jax, out_torch,
                           atol=1e-6)]

   A check takes a `Context` and returns rows (dicts): check, module, quantity, max_abs,
   max_rel, tolerance, passed. Use `compare` (arrays) or `row` (anything else). A row with
   gate=False is informational (e.g. a power demonstration): shown, never failing a test.
3. Honour `ctx.dtype` ("float32" or "float64": build the torch model under
   `torch_dtype(ctx)`, feed float inputs in that dtype) and pass float32 tolerances to
   `compare`: under float64 it applies `FLOAT64_TOL` instead. Forward, gradient and trajectory
   checks are then rerun in float64 by the `float64` check (a subprocess with jax_enable_x64),
   with no extra code. `ctx.full` is False under pytest (keep checks small) and True in
   `python -m parity.report` (the full-size versions, e.g. the 50-epoch protocol statistics).

`parity/test_parity.py` runs every registered check under pytest; `python -m parity.report`
writes the table. torch is imported only under `parity/`.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

KINDS = ("forward", "gradient", "trajectory", "protocol", "float64", "statistical")
FLOAT64_TOL = 1e-10
RERUN_IN_FLOAT64 = ("forward", "gradient", "trajectory")


@dataclass(frozen=True)
class Context:
    full: bool = False          # report.py: full-size versions; pytest: small ones
    dtype: str = "float32"      # "float64" only inside the float64 subprocess


@dataclass(frozen=True)
class Check:
    name: str
    kind: str
    module: str
    fn: Callable[[Context], list[dict]]


REGISTRY: dict[str, Check] = {}


def register(kind: str, module: str, *, name: str | None = None):
    """Decorator: register `fn(ctx) -> rows` as a check of `kind` on `module`."""
    if kind not in KINDS:
        raise ValueError(f"unknown check kind {kind!r}; expected one of {KINDS}")

    def deco(fn):
        key = name or f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
        if key in REGISTRY and REGISTRY[key].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"check {key!r} registered twice")
        REGISTRY[key] = Check(key, kind, module, fn)
        return fn

    return deco


def load_all() -> dict[str, Check]:
    """Import every parity/checks_*.py so that its checks register themselves."""
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda i: i.name):
        if info.name.startswith("checks_"):
            importlib.import_module(f"parity.{info.name}")
    return REGISTRY


def run(name: str, ctx: Context = Context()) -> list[dict]:
    check = REGISTRY[name]
    rows = check.fn(ctx)
    for r in rows:
        r.setdefault("name", name)
    return rows


# ------------------------------------------------------------------------------------ rows
def tolerance(ctx: Context, atol: float | None, rtol: float | None):
    if ctx.dtype == "float64":
        return FLOAT64_TOL, (FLOAT64_TOL if rtol is not None and atol is None else None)
    return atol, rtol


def tol_text(atol, rtol) -> str:
    parts = ([f"abs<={atol:.0e}"] if atol is not None else []) + \
            ([f"rel<={rtol:.0e}"] if rtol is not None else [])
    return " or ".join(parts)


def row(check: str, module: str, quantity: str, *, max_abs, max_rel, tolerance: str,
        passed: bool, **extra) -> dict:
    if check not in KINDS:
        raise ValueError(f"unknown check kind {check!r}")
    return dict(check=check, module=module, quantity=quantity,
                max_abs=None if max_abs is None else float(max_abs),
                max_rel=None if max_rel is None else float(max_rel),
                tolerance=tolerance, passed=bool(passed), **extra)


def diffs(a, b) -> tuple[float, float]:
    """(max |a - b|, max |a - b| / |b|) in float64; 0/0 counts as 0."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0, 0.0
    d = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(d == 0, 0.0, d / np.abs(b))
    return float(d.max()), float(rel.max())


def compare(ctx: Context, check: str, module: str, quantity: str, ours, ref, *,
            atol: float | None = None, rtol: float | None = None, **extra) -> dict:
    """A row comparing arrays (ours = Flax, ref = torch). Passes if max_abs <= atol or
    max_rel <= rtol (float32 tolerances; float64 runs use FLOAT64_TOL). NaNs fail."""
    atol, rtol = tolerance(ctx, atol, rtol)
    max_abs, max_rel = diffs(ours, ref)
    ok = (atol is not None and max_abs <= atol) or (rtol is not None and max_rel <= rtol)
    ok = ok and not math.isnan(max_abs)
    return row(check, module, quantity, max_abs=max_abs, max_rel=max_rel,
               tolerance=tol_text(atol, rtol), passed=ok, dtype=ctx.dtype, **extra)


def torch_dtype(ctx: Context):
    import torch

    return torch.float64 if ctx.dtype == "float64" else torch.float32
