import json
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import nnx

from jaxbespoke.utils import bench
from jaxbespoke.nn import cost
from jaxbespoke.nn.gpt import CausalSelfAttention, GPTConfig
from jaxbespoke.nn.sparse import (
    HeadApproximator,
    KeySelector,
    given_keys_exact_head,
    hybrid_head,
    sparse_layer,
)
from jaxbespoke.utils.errors import ConfigError

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
    # the original's unmeasured "~95% reduction": the replacement of head 0 costs more than the exact head
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


@pytest.mark.slow
def test_quick_cli_writes_valid_json(tmp_path):
    out = tmp_path / "ac"
    r = subprocess.run([sys.executable, str(ROOT / "experiments/attention_cost.py"), "--quick",
                        "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((out / "attention_cost.json").read_text())
    for key in ("config", "device", "timing", "macs", "wall"):
        assert key in res
    assert [w["T"] for w in res["wall"]] == [64]
    for w in res["wall"]:
        keys = ("full", "hybrid_one_head", "hybrid_every_head", "topk_exact_every_head",
                "overwrite_every_head")
        assert all(w[k] > 0 and w["flops"][k] > 0 and w["bound"][k] > 0 for k in keys)
    assert res["matmul"]["flops_per_s"] > 0
    ratios = [r["orig_ratio"] for r in res["macs"]["scaling_summary"]]
    assert [round(x, 2) for x in ratios] == [0.18, 0.67, 2.29, 5.33, 9.85, 15.24]
    assert (out / "attention_cost.md").exists() and (out / "attention_cost.png").exists()


def test_cli_bad_input_exits_2(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "experiments/attention_cost.py"), "--quick",
                        "--d", "100", "--heads", "3", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "not divisible" in r.stderr


# --------------------------------------------------------------------------- the timed layers
B_, T_, D_, H_, HID_, K_ = 2, 64, 64, 2, 48, 3   # head size 32: every dot's shapes are distinct


def _layer():
    cfg = GPTConfig(block_size=T_, n_embd=D_, n_head=H_)
    r = nnx.Rngs(0)
    mods = (CausalSelfAttention(cfg, rngs=r),
            nnx.List([KeySelector(cfg.head_size, T_, HID_, rngs=r) for _ in range(H_)]),
            nnx.List([HeadApproximator(cfg.head_size, K_, HID_, rngs=r) for _ in range(H_)]))
    x = jax.random.normal(jax.random.key(1), (B_, T_, D_))
    return nnx.split(mods), x


def _variant(graphdef, n, skip):
    def f(state, x):
        attn, sels, apps = nnx.merge(graphdef, state)
        fns = {h: hybrid_head(sels[h], apps[h], "fixed") for h in range(n)}
        return sparse_layer(attn, x, fns) if skip else attn(x, fns)[0]
    return f


def _attention_dots(stablehlo: str) -> int:
    """dot_generals of exact attention: (.., T, dh) x (.., T, dh) -> (.., T, T) scores, or
    (.., T, T) x (.., T, dh) -> (.., T, dh) mixing. The selector's (T, hidden) x (hidden, T)
    product contracts over hidden (48), not the head size (32), so it does not match."""
    dh = D_ // H_
    qk = rf"tensor<[0-9x]*{T_}x{dh}xf32>, tensor<[0-9x]*{T_}x{dh}xf32>\) -> tensor<[0-9x]*{T_}x{T_}xf32>"
    pv = rf"tensor<[0-9x]*{T_}x{T_}xf32>, tensor<[0-9x]*{T_}x{dh}xf32>\) -> tensor<[0-9x]*{T_}x{dh}xf32>"
    lines = [ln for ln in stablehlo.splitlines() if "dot_general" in ln]
    return sum(bool(re.search(qk, ln)) + bool(re.search(pv, ln)) for ln in lines)


def test_replaced_heads_never_form_exact_attention_in_the_compiled_program():
    (graphdef, state), x = _layer()
    # one exact-attention head: QK^T and P V, 2 * B * T^2 * dh MACs = 4 * B * T^2 * dh FLOPs
    head_flops = 4 * B_ * T_ * T_ * (D_ // H_)
    flops, dots = {}, {}
    for n in (0, 1, 2):
        for skip in (True, False):
            f = _variant(graphdef, n, skip)
            dots[n, skip] = _attention_dots(jax.jit(f).lower(state, x).as_text())
            flops[n, skip] = bench.compiled_flops(f, state, x)
    assert dots[0, True] == dots[0, False] == dots[1, False] == dots[2, False] == 2
    assert dots[1, True] == 2 and dots[2, True] == 0   # head 0 left the batched dots; then all
    for n in (1, 2):
        # overwriting computes every head exactly; skipping drops n heads' QK^T and P V
        assert flops[n, False] - flops[n, True] >= n * head_flops
    assert flops[0, True] == flops[0, False]


def test_sparse_layer_equals_the_overwriting_layer():
    (graphdef, state), x = _layer()
    for n in (1, 2):
        np.testing.assert_allclose(np.asarray(jax.jit(_variant(graphdef, n, True))(state, x)),
                                   np.asarray(jax.jit(_variant(graphdef, n, False))(state, x)),
                                   rtol=1e-5, atol=1e-6)


def test_given_keys_exact_head_equals_masked_dense_attention():
    """Attention restricted to k keys = dense attention with every other key at -inf."""
    (graphdef, state), x = _layer()
    attn = nnx.merge(graphdef, state)[0]
    q, k, v = (a[:, 0] for a in attn.qkv(x))
    rng = np.random.default_rng(0)
    # distinct causal keys per query; early queries with fewer than k keys leave slots invalid
    idx = np.array([[rng.permutation(max(t + 1, K_))[:K_] for t in range(T_)] for _ in range(B_)],
                   np.int32)
    ok = idx <= np.arange(T_)[:, None]
    got = given_keys_exact_head(idx, ok)(q, k, v, None)
    keep = np.zeros((B_, T_, T_), bool)
    np.put_along_axis(keep, np.where(ok, idx, 0), True, axis=-1)
    assert (keep.sum(-1) == np.minimum(np.arange(T_) + 1, K_)).all()
    s = np.where(keep, np.einsum("btd,bsd->bts", q, k) / np.sqrt(q.shape[-1]), -np.inf)
    want = np.einsum("bts,bsd->btd", jax.nn.softmax(s, -1), v)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)


def test_flop_helpers():
    a = jax.numpy.ones((32, 48))
    assert bench.compiled_flops(lambda a: a @ a.T, a) == 2 * 32 * 32 * 48
    thr = bench.matmul_throughput(64, repeats=3)
    assert thr["flops_per_s"] >= thr["median_flops_per_s"] > 0
    assert bench.flop_bound(2e9, {"flops_per_s": 1e9}) == 2.0
