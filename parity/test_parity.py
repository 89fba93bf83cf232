"""Runs every registered parity check (small versions) under pytest."""

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from parity import checks  # noqa: E402

NAMES = sorted(n for n, c in checks.load_all().items())
# end-to-end: a float64 rerun of every check in a subprocess, the 50-epoch protocol in both
# frameworks (`make test-fast` skips them)
SLOW = {"float64.rerun", "statistical.protocol"}


def _fmt(r):
    return (f"{r['check']} {r['module']} {r['quantity']}: max_abs={r['max_abs']} "
            f"max_rel={r['max_rel']} tol={r['tolerance']}")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in NAMES])
def test_check(name):
    rows = checks.run(name, checks.Context(full=False))
    assert rows, f"check {name} returned no rows"
    bad = [_fmt(r) for r in rows if r.get("gate", True) and not r["passed"]]
    assert not bad, "parity failed:\n" + "\n".join(bad)
