"""Subprocess entry point of the float64 check: reruns the forward, gradient and trajectory checks
with float64 in both frameworks and prints their rows as JSON on the last line of stdout.

x64 is a process-wide JAX switch, so it is set here, before jax is imported, in a process of its
own: the float32 checks of the parent process are never affected.
"""

import json
import os
import sys

os.environ["JAX_ENABLE_X64"] = "1"   # the caller (checks_float64) puts the repository on PYTHONPATH


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    import jax
    import torch

    jax.config.update("jax_enable_x64", True)
    torch.set_num_threads(1)
    from parity import checks

    reg = checks.load_all()
    names = argv or sorted(n for n, c in reg.items() if c.kind in checks.RERUN_IN_FLOAT64)
    rows = []
    for name in names:
        for r in checks.run(name, checks.Context(full=False, dtype="float64")):
            r["name"] = name
            rows.append(r)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
