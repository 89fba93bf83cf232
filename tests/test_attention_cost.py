import json
import subprocess
import sys
from pathlib import Path

import pytest

from jaxbespoke import cost
from jaxbespoke.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_compute_analysis_formula_reproduces_the_printed_table():
    printed = [(5.3, 10.0, 0.52), (42.1, 46.6, 0.90), (337.1, 299.9, 1.12), (1620.0, 1290.1, 1.26),
               (6492.8, 4532.3, 1.43), (24410.8, 14179.8, 1.72), (139049.6, 71385.9, 1.95)]
    for (d, T), (f_m, s_m, ratio) in zip(cost.COMPUTE_ANALYSIS_CONFIGS, printed):
        f, s = cost.original_compute_analysis(d, T)
        assert round(f / 1e6, 1) == f_m and round(s / 1e6, 1) == s_m
        assert round(f / s, 2) == ratio


def test_scaling_summary_formula_reproduces_the_readme_table():
    printed = [(1.0, 5.8, 0.18), (8.4, 12.6, 0.67), (67.1, 29.4, 2.29), (402.7, 75.5, 5.33),
               (2147.5, 218.1, 9.85), (10737.4, 704.6, 15.24)]
    for (d, T), (f_m, s_m, ratio) in zip(cost.SCALING_SUMMARY_CONFIGS, printed):
        f, s = cost.original_scaling_summary(d, T)
        assert (round(f / 1e6, 1), round(s / 1e6, 1), round(f / s, 2)) == (f_m, s_m, ratio)


def test_gpt4_formulas_reproduce_the_printed_figures():
    f, s = cost.original_final_gpt4(8192)
    assert round(f / s) == 496 and round(f / 1e15, 1) == 2.1
    f, s = cost.original_final_gpt4(128_000)
    assert round(f / s) == 7758
    f, s = cost.original_gpt4_half(layers=1)
    assert (round(f / 1e12, 1), round(s / 1e12, 1), round(f / s, 1)) == (17.6, 27.0, 0.7)
    f, s = cost.original_gpt4_half(layers=120)
    assert (round(f / 1e12, 1), round(s / 1e12, 1)) == (2111.1, 3236.7)


def test_consistent_recount_matches_the_spec():
    one = [0.501, 0.801, 0.941, 0.975, 0.987, 0.993, 0.998]
    every = [0.334, 0.501, 0.668, 0.763, 0.829, 0.879, 0.928]
    kw = dict(top_k=8, selector_hidden=128, approx_hidden=128)
    for (d, T), r1, ra in zip(cost.COMPUTE_ANALYSIS_CONFIGS, one, every):
        H = d // 64
        full = cost.total(cost.full_macs(T, d, H))
        assert round(full / cost.total(cost.hybrid_macs(T, d, H, n_sparse=1, **kw)), 3) == r1
        assert round(full / cost.total(cost.hybrid_macs(T, d, H, n_sparse=H, **kw)), 3) == ra


def test_hybrid_without_sparse_heads_is_full_and_components_add_up():
    full = cost.full_macs(64, 128, 2)
    h0 = cost.hybrid_macs(64, 128, 2, n_sparse=0)
    assert cost.total(h0) == cost.total(full)
    assert full["scores"] == full["av"] == 2 * 64 * 64 * 64
    h1 = cost.hybrid_macs(64, 128, 2, n_sparse=1, top_k=3, selector_hidden=64, approx_hidden=64)
    assert h1["selector"] == 64 * 64 * 64 + 64 * 64 * 64
    assert h1["approximator"] == 64 * 192 * 64 + 64 * 64 * 64
    # spec section 4 item 10: the replacement of head 0 costs more than the exact head
    assert h1["selector"] + h1["approximator"] > 2 * 64 * 64 * 64
    skip = cost.hybrid_macs(64, 128, 2, n_sparse=1, skip_unused_keys=True)
    assert h1["qkv_proj"] - skip["qkv_proj"] == 64 * 128 * 64


def test_selector_term_dominates_when_hidden_is_twice_the_head_size():
    for T in (64, 1024, 16384):
        h = cost.hybrid_macs(T, 128, 2, n_sparse=2, top_k=8, selector_hidden=128,
                             approx_hidden=128)
        f = cost.full_macs(T, 128, 2)
        assert h["selector"] >= f["scores"] + f["av"]


def test_bad_input():
    with pytest.raises(ConfigError, match="top-k 65 must lie in 1..64"):
        cost.hybrid_macs(64, 128, 2, top_k=65)
    with pytest.raises(ConfigError, match="n_sparse 3"):
        cost.hybrid_macs(64, 128, 2, n_sparse=3)
    with pytest.raises(ConfigError, match="not divisible"):
        cost.full_macs(64, 100, 3)
    with pytest.raises(ConfigError, match="sequence length"):
        cost.full_macs(0, 128, 2)


def test_quick_cli_writes_valid_json(tmp_path):
    out = tmp_path / "ac"
    r = subprocess.run([sys.executable, str(ROOT / "experiments/attention_cost.py"), "--quick",
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((out / "attention_cost.json").read_text())
    for key in ("config", "device", "timing", "macs", "wall"):
        assert key in res
    assert [w["T"] for w in res["wall"]] == [64, 128]
    for w in res["wall"]:
        assert all(w[k] > 0 for k in ("full", "hybrid_one_head", "hybrid_every_head"))
    ratios = [r["orig_ratio"] for r in res["macs"]["scaling_summary"]]
    assert [round(x, 2) for x in ratios] == [0.18, 0.67, 2.29, 5.33, 9.85, 15.24]
    assert (out / "attention_cost.md").exists() and (out / "attention_cost.png").exists()


def test_cli_bad_input_exits_2(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "experiments/attention_cost.py"), "--quick",
                        "--d", "100", "--heads", "3", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "not divisible" in r.stderr
