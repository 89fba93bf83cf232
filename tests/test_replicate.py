"""experiments/replicate.py: a --quick run writes a valid report; bad input is one clear line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jaxbespoke.replication import verdicts as V
from jaxbespoke.scripts import replicate

ROOT = Path(__file__).resolve().parents[1]

KEYS = {"experiment", "figure", "source", "kind", "reported", "measured", "single_draw", "floor",
        "baseline", "verdict", "explanation", "number", "claim"}


@pytest.mark.slow
def test_quick_report_is_valid(tmp_path):
    assert replicate.main(["--quick", "--no-progress", "--presets", "debug,ultra",
                           "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "replication.json").read_text())
    md = (tmp_path / "REPLICATION.md").read_text()
    assert md.startswith("# Replication") and "How verdicts are made" in md
    assert (tmp_path / "replication_ratios.png").stat().st_size > 1000
    rows = doc["rows"]
    assert rows and all(KEYS <= set(r) and r["verdict"] in V.VOCABULARY for r in rows)
    by = {r["key"]: r for r in rows}
    assert by["debug.standard_params"]["verdict"] == V.REPLICATED
    assert by["debug.bespoke_params"]["measured"]["values"] == [5312, 5312]
    assert by["btdt.bespoke_params"]["measured"]["values"] == [929_024]
    assert by["ultra.bespoke_params"]["reported"] == 30_464
    # two quick seeds: values shown, never an interval
    assert by["ultra.standard_loss"]["measured"]["interval"] is None
    assert set(doc["tally"]) <= {"reported", "derived"}
    assert set(doc["timing"]) == {"debug", "ultra"}


def test_unknown_preset_lists_valid_ones():
    r = subprocess.run([sys.executable, str(ROOT / "experiments/replicate.py"), "--presets",
                        "debug,nope"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        "error: unknown preset 'nope'; valid presets: " + ", ".join(replicate.ALL))
