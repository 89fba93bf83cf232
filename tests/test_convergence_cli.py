import json
import subprocess
import sys

import pytest

from conftest import ROOT

from jaxbespoke.scripts import convergence


@pytest.mark.slow
def test_quick_cli_run_writes_schema(tmp_path):
    out = tmp_path / "conv"
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "convergence.py"), "--quick",
                           "--seeds", "3", "--no-progress", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "Entropy floor" in proc.stdout and "JAX" in proc.stdout
    d = json.loads((out / "convergence.json").read_text())
    for key in ("config", "device", "params", "floor", "seeds", "per_seed", "summary", "reported",
                "timing", "rows", "status"):
        assert key in d, key
    assert d["seeds"] == [0, 1, 2] and d["status"] == "ok"
    for est in ("final_80_targets", "full_validation"):
        assert set(d["per_seed"][est]) == {"standard", "bespoke", "bespoke/unpaired"}
        assert all(len(v) == 3 for v in d["per_seed"][est].values())
    for est in ("original", "full"):
        s = d["summary"][est]
        # three seeds: values shown, no interval
        assert s["standard"]["interval"] is None and len(s["standard"]["values"]) == 3
        assert s["single_draw"]["unpaired_difference"]["interval"] is not None
    assert d["reported"]["standard"] == 2.9091
    assert set(d["timing"]) >= {"compile_s", "run_s"}
    assert d["device"]["backend"] == "cpu"
    keys = [r["key"] for r in d["rows"]]
    assert "focused.ratio" in keys and "focused.param_ratio" in keys
    assert all(r["verdict"] == "n/a" for r in d["rows"])  # quick != original: no verdicts
    assert (out / "convergence.md").exists() and (out / "convergence.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0"], "--seeds: must be >= 1, got 0"),
    (["--epochs", "0"], "--epochs: must be >= 1, got 0"),
    (["--embed-dim", "-2"], "must be >= 1, got -2"),
    (["--embed-dim", "3"], "embed dim 3 leaves the low tier"),
    (["--n-high", "150", "--n-low", "60"], "leave no mid tier"),
    (["--n-high", "300"], "high=300 + low=50"),
    (["--corpus-size", "50"], "too short for a window of 16"),
    (["--zipf", "4", "--corpus-size", "400"], "overlap: only"),
    (["--device", "tpu"], "invalid choice: 'tpu'"),
    (["--device", "gpu"], "device 'gpu' is not available"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        convergence.cli.run_main(lambda: convergence.main(argv + ["--out", str(tmp_path)]))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_nan_loss_stops_and_still_writes(tmp_path, capsys):
    code = convergence.main(["--quick", "--seeds", "2", "--lr", "1e36", "--no-progress",
                             "--out", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert ("NaN/inf in epoch" in err or "blew up above" in err) and "seed(s)" in err
    d = json.loads((tmp_path / "convergence.json").read_text())
    assert d["status"] == "diverged" and d["diverged"]["epoch"] >= 1
