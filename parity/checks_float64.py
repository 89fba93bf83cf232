"""float64 in both frameworks: the forward, gradient and trajectory checks rerun at 1e-10.

What agrees in float64 but not in float32 is rounding; a gap that stays in float64 is a formula
difference. x64 is process-wide in JAX, so the rerun happens in a subprocess (float64_run.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .checks import REGISTRY, RERUN_IN_FLOAT64, register

ROOT = Path(__file__).resolve().parent.parent


def selection(full: bool) -> list[str]:
    """Full: every forward, gradient and trajectory check. Quick (pytest, for CI time): the first
    check (by name) of each kind in each checks_*.py file."""
    names = sorted(n for n, c in REGISTRY.items() if c.kind in RERUN_IN_FLOAT64)
    if full:
        return names
    firsts = {}
    for n in names:
        firsts.setdefault((REGISTRY[n].fn.__module__, REGISTRY[n].kind), n)
    return sorted(firsts.values())


@register("float64", "all forward/gradient/trajectory checks", name="float64.rerun")
def float64_rerun(ctx):
    env = dict(os.environ, JAX_ENABLE_X64="1", XLA_FLAGS=os.environ.get("XLA_FLAGS", ""),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "parity" / "float64_run.py"),
                           *selection(ctx.full)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"float64 subprocess failed:\n{proc.stderr[-3000:]}")
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rows and all(r["dtype"] == "float64" for r in rows)
    assert {r["check"] for r in rows} <= set(RERUN_IN_FLOAT64)
    for r in rows:   # keep what was rerun in the quantity, the kind becomes float64
        r["quantity"] = f"{r['check']}: {r['quantity']}"
        r["check"] = "float64"
    return rows
