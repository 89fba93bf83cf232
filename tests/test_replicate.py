"""experiments/replicate.py: a --quick run writes a valid report; bad input is one clear line."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))

import replicate  # noqa: E402

KEYS = {"experiment", "figure", "source", "reported", "measured", "torch", "floor", "verdict",
        "explanation"}
VERDICTS = {"replicated", "not replicated", "within noise", "artefact"}


def test_quick_report_is_valid(tmp_path):
    assert replicate.main(["--quick", "--no-progress", "--presets", "debug,ultra",
                           "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "replication.json").read_text())
    assert (tmp_path / "REPLICATION.md").read_text().startswith("# Replication")
    assert (tmp_path / "replication_ratios.png").stat().st_size > 1000
    rows = doc["rows"]
    assert rows and all(KEYS <= set(r) and r["verdict"] in VERDICTS for r in rows)
    for r in rows:
        m = r["measured"]
        if m is not None:
            assert set(m) == {"mean", "ci95", "values"} and len(m["ci95"]) == 2
            assert m["mean"] == pytest.approx(np.mean(m["values"]))
    by = {(r["experiment"], r["figure"]): r for r in rows}
    # exact parameter counts where the spec gives one
    assert by[("debug", "standard embedding parameters")]["verdict"] == "replicated"
    assert by[("debug", "bespoke embedding parameters")]["measured"]["values"] == [5312, 5312]
    assert by[("btdt", "bespoke parameters")]["measured"]["values"] == [929_024]
    assert by[("ultra", "bespoke embedding parameters")]["reported"] == 30_464
    # the reported 7-row statistics are recomputed from the reported numbers, not copied
    ci = by[("statistics", '"95% CI [0.042, 0.989]", mean 0.394')]
    assert "[0.042, 0.989]" in ci["explanation"] and "0.394" in ci["explanation"]
    assert "5.16" in by[("statistics", '"Average improvement 5.2x"')]["explanation"]
    assert set(doc["timing"]) == {"debug", "ultra"}


def test_verdict_rules_can_fail():
    good = {"final": {"standard": np.array([4.3, 4.4, 4.5, 4.35]),
                      "bespoke": np.array([4.0, 4.1, 3.9, 4.05])},
            "corrected": {"standard": np.array([4.30, 4.31, 4.32, 4.30]),
                          "bespoke": np.array([4.00, 4.02, 4.01, 4.03])},
            "floor": {"floor": 3.86, "entropy": 3.86}}
    assert replicate.loss_row("x", "f", "s", 4.4, good, "standard")["verdict"] == "within noise"
    assert replicate.loss_row("x", "f", "s", 9.0, good, "standard")["verdict"] == "not replicated"
    assert replicate.claim_row("x", "f", "s", 0.92, good)["verdict"] == "replicated"
    assert replicate.claim_row("x", "f", "s", 1.3, good)["verdict"] == "not replicated"
    assert replicate.exact_row("x", "f", "s", 100, [100, 100])["verdict"] == "replicated"
    assert replicate.exact_row("x", "f", "s", 100, [101, 101])["verdict"] == "not replicated"


def test_unknown_preset_lists_valid_ones():
    r = subprocess.run([sys.executable, str(ROOT / "experiments/replicate.py"), "--presets",
                        "debug,nope"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        "error: unknown preset 'nope'; valid presets: " + ", ".join(replicate.ALL))
