"""Multiply-accumulate counts of one attention layer, full and hybrid, and the original's formulas.

Conventions (batch 1, one layer, the original's own where it had one): a matmul of (m, n) by
(n, p) costs m*n*p MACs; softmax costs 3 per score (max, exp, normalise); a top-k over n items
costs n*log2(k) comparisons; a gather moves elements and costs no MACs (reported separately as
element moves). Scores are counted over the full T x T square, as the original does.

The original's scripts (docs/experiments.md, "The speed-up tables") each count differently;
`original_*` reproduce them term by term so their printed tables can be checked, and
`full_macs` / `hybrid_macs` count both sides the same way.
"""

from __future__ import annotations

import math

from jaxbespoke.utils.errors import ConfigError, check_positive


def _check(T, d, H):
    for n, v in (("sequence length", T), ("width", d), ("heads", H)):
        check_positive(n, v)
    if d % H:
        raise ConfigError(f"width {d} is not divisible by {H} heads")


def full_macs(T: int, d: int, H: int) -> dict:
    """Exact causal softmax attention, per component."""
    _check(T, d, H)
    dh = d // H
    return {"qkv_proj": 3 * T * d * d, "scores": H * T * T * dh, "softmax": 3 * H * T * T,
            "av": H * T * T * dh, "out_proj": T * d * d}


def hybrid_macs(T: int, d: int, H: int, *, n_sparse: int = 1, top_k: int = 3,
                selector_hidden: int = 64, approx_hidden: int = 64,
                skip_unused_keys: bool = False) -> dict:
    """n_sparse heads replaced by selector + top-k + gather + approximator; the others exact.
    As implemented the full QKV projection still runs (keys of replaced heads included);
    skip_unused_keys drops those keys' projection."""
    _check(T, d, H)
    if not 0 <= n_sparse <= H:
        raise ConfigError(f"n_sparse {n_sparse} must lie in 0..{H}")
    if not 1 <= top_k <= T:
        raise ConfigError(f"top-k {top_k} must lie in 1..{T} (the number of keys)")
    dh, n_exact = d // H, H - n_sparse
    qkv_cols = 3 * d - (n_sparse * dh if skip_unused_keys else 0)
    return {"qkv_proj": T * d * qkv_cols,
            "scores": n_exact * T * T * dh, "softmax": 3 * n_exact * T * T,
            "av": n_exact * T * T * dh,
            "selector": n_sparse * (T * dh * selector_hidden + T * selector_hidden * T),
            "topk": n_sparse * T * T * math.log2(top_k) if top_k > 1 else n_sparse * T * T,
            "approximator": n_sparse * (T * top_k * dh * approx_hidden
                                        + T * approx_hidden * dh),
            "out_proj": T * d * d}


def gather_moves(T: int, d: int, H: int, n_sparse: int = 1, top_k: int = 3) -> int:
    """Elements the top-k gathers move (not MACs)."""
    return n_sparse * T * top_k * (d // H)


def total(parts: dict) -> float:
    return float(sum(parts.values()))


# --------------------------------------------------------------------------- the original's counts
def original_compute_analysis(d: int, T: int, top_k: int = 8, hidden: int = 128,
                              dh: int = 64) -> tuple[float, float]:
    """compute_analysis.py: full with projections and softmax; 'sparse' = projections
    + one head's selector/top-k/approximator + the other H-1 heads as attention over k keys
    (choosing those keys not counted)."""
    H = d // dh
    full = T * T * dh * H + 3 * T * T * H + T * T * dh * H + 3 * T * d * d + T * d * d
    one = (T * dh * hidden + T * hidden * T + T * T * math.log2(top_k)
           + T * (top_k * dh) * hidden + T * hidden * dh)
    rest = (H - 1) * (2 * T * top_k * dh + 3 * T * top_k)
    return float(full), float(3 * T * d * d + T * d * d + one + rest)


def original_scaling_summary(d: int, T: int, top_k: int = 8, hidden: int = 128,
                             dh: int = 64) -> tuple[float, float]:
    """scaling_analysis_summary.py (the README's table): full = 2 T^2 d with no
    projections or softmax; sparse = one head's selector + approximator, other heads free."""
    full = 2 * T * T * d
    sparse = T * dh * hidden + T * hidden * T + T * (top_k * dh) * hidden + T * hidden * dh
    return float(full), float(sparse)


def original_gpt4_half(T: int = 8192, B: int = 8, H: int = 128, dh: int = 128,
                       top_k: int = 32, hidden: int = 512, layers: int = 1):
    """gpt4_scale_analysis.py / corrected_gpt4_analysis.py: half the heads get
    selector + approximator, the other half 'reduced exact' attention over k keys (free choice)."""
    full = 2 * B * H * T * T * dh * layers
    sel = B * T * (dh * hidden + hidden * T)
    app = B * T * (top_k * dh * hidden + hidden * dh)
    sparse = (H // 2) * (sel + app) + (H - H // 2) * 2 * B * T * top_k * dh
    return float(full), float(sparse * layers)


def original_final_gpt4(T: int, B: int = 8, H: int = 128, dh: int = 128, layers: int = 120):
    """final_gpt4_analysis.py (the README's 500x / 7,758x): every head 'sparse' at
    B H T (dh + k dh) with k = min(32, T/16): no selector T^2 term, no hidden widths."""
    k = min(32, T // 16)
    full = 2 * B * H * T * T * dh * layers
    sparse = B * H * T * (dh + k * dh) * layers
    return float(full), float(sparse)


# The configurations of the original's tables (d, T): compute_analysis and scaling_analysis_summary.
COMPUTE_ANALYSIS_CONFIGS = [(128, 64), (256, 128), (512, 256), (768, 512), (1024, 1024),
                            (1280, 2048), (2048, 4096)]
SCALING_SUMMARY_CONFIGS = [(128, 64), (256, 128), (512, 256), (768, 512), (1024, 1024),
                           (1280, 2048)]


def attention_memory(T: int, H: int, B: int = 8, top_k: int = 32, bytes_per: int = 4) -> dict:
    """Bytes of one layer's per-head score tensors, the original's way and counted consistently.
    full = B H T^2 (the attention matrix); original_sparse = B H T k (the original's 'sparse
    memory': only the chosen keys); selector_logits = B H T^2: each replaced head's selector
    emits T logits per query before its top-k, as large as the attention matrix."""
    return {"full": B * H * T * T * bytes_per, "original_sparse": B * H * T * top_k * bytes_per,
            "selector_logits": B * H * T * T * bytes_per}


# gpt4_scale_analysis.py's table: (name, d_model, heads, layers, context); batch 8,
# top-k 32, hidden 512, half of the heads replaced.
GPT4_SCALE_MODELS = [("GPT-2 Small", 768, 12, 12, 1024), ("GPT-2 Medium", 1024, 16, 24, 1024),
                     ("GPT-2 Large", 1280, 20, 36, 1024), ("GPT-2 XL", 1600, 25, 48, 1024),
                     ("GPT-3 Small", 2048, 32, 24, 2048), ("GPT-3 Medium", 2560, 40, 32, 2048),
                     ("GPT-3 Large", 4096, 64, 48, 2048), ("GPT-3", 12288, 96, 96, 2048),
                     ("GPT-4 (est.)", 16384, 128, 120, 8192),
                     ("GPT-4 Turbo", 16384, 128, 120, 128000)]


def timing_bytes(lengths, tokens: int, d: int, heads: int, hidden: int, top_k: int) -> float:
    """Rough float32 memory of timing one attention layer at the longest length: the inputs, the
    T x T scores and probabilities of every head, the selector's T x T logits and the gathered
    values (x2 for XLA's temporaries), plus the weights."""
    T = max(lengths)
    B = max(1, tokens // T)
    dh = d // heads
    acts = B * T * (4 * d) + 2 * B * heads * T * T + B * T * (hidden + T) + B * T * top_k * dh
    weights = 4 * d * d + heads * (dh * hidden + hidden * T + top_k * dh * hidden + hidden * dh)
    return 4.0 * (2 * acts + weights)
