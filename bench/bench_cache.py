#!/usr/bin/env python
"""Cold vs warm compilation cache: the main job (experiments/convergence.py, 16 seeds) run twice
in fresh processes sharing a new, empty cache folder. Reports each process's wall time, the job's
own compile/run/total line, what the warm run printed on stderr, and the machine load around it.

    python bench/bench_cache.py                # 16 seeds, the original configuration
    python bench/bench_cache.py --quick        # the --quick configuration (seconds)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jaxbespoke.utils import report

ROOT = Path(__file__).resolve().parents[1]

TIME_LINE = re.compile(r"Time: compile ([\d.]+) s, run ([\d.]+) s, total ([\d.]+) s")


def load() -> list[float]:
    return [float(x) for x in os.getloadavg()]


def run_once(args, cache: Path, out: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "experiments" / "convergence.py"), "--seeds",
           str(args.seeds), "--no-progress", "--out", str(out)] + (["--quick"] if args.quick else [])
    env = dict(os.environ, JAXBESPOKE_COMPILE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    before = load()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"convergence.py failed ({p.returncode}):\n{p.stderr[-2000:]}")
    m = TIME_LINE.search(p.stdout)
    return {"process_wall_s": wall, "compile_s": float(m[1]), "run_s": float(m[2]),
            "total_s": float(m[3]), "load_before": before, "load_after": load(),
            "stderr_lines": [ln for ln in p.stderr.splitlines() if ln.strip()],
            "cache_files": sum(1 for _ in cache.iterdir()) if cache.exists() else 0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--quick", action="store_true", help="the --quick configuration")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "bench_cache.json")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jaxbespoke-cache-bench-") as tmp:
        cache, res = Path(tmp) / "cache", {}
        for name in ("cold", "warm"):
            res[name] = run_once(args, cache, Path(tmp) / name)
            r = res[name]
            print(f"{name}: process {r['process_wall_s']:.1f} s wall; job: compile "
                  f"{r['compile_s']:.1f} s, run {r['run_s']:.1f} s, total {r['total_s']:.1f} s; "
                  f"load {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f}; "
                  f"{r['cache_files']} cache files; {len(r['stderr_lines'])} stderr lines",
                  flush=True)
    res["ratio_process_wall"] = res["cold"]["process_wall_s"] / res["warm"]["process_wall_s"]
    res["ratio_total"] = res["cold"]["total_s"] / res["warm"]["total_s"]
    res["seeds"], res["quick"], res["cpus"] = args.seeds, args.quick, os.cpu_count()
    print(f"cold / warm: {res['ratio_process_wall']:.2f}x process wall, "
          f"{res['ratio_total']:.2f}x job total")
    for ln in res["warm"]["stderr_lines"][:5]:
        print("  warm stderr:", ln[:200])
    report.write_json(args.out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
