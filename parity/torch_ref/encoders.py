"""Reference encoders (mirror `jaxbespoke.nn.encoders`), built from the original's own torch modules:
`nn.TransformerEncoderLayer` (batch_first, post-LN ReLU or pre-LN GELU) with its packed
`nn.MultiheadAttention`, learned positions, an optional final LayerNorm and a Linear head.

The framework test's pre-LN block was hand-written in the original; with dropout off it computes
the same function as `nn.TransformerEncoderLayer(norm_first=True, activation='gelu')`, which is
what parity compares (dropout RNGs cannot match across frameworks). Torch names differ from the
Flax attribute names; `to_flax_names` / `to_torch_names` map between them.
"""

from __future__ import annotations

import re

import torch
from torch import nn

# torch module name -> flax attribute name, inside each layer
_RENAME = [("self_attn.in_proj_weight", "attn.in_kernel"), ("self_attn.in_proj_bias", "attn.in_bias"),
           ("self_attn.out_proj", "attn.out"), ("linear1", "ff1"), ("linear2", "ff2"),
           ("norm1", "ln1"), ("norm2", "ln2")]


class EncoderLM(nn.Module):
    def __init__(self, vocab_size, dim, heads, ffn, layers, *, norm="post", positions=None,
                 final_norm=False, head_bias=True, causal=False, dropout=0.1):
        super().__init__()
        self.causal = causal
        self.embed = nn.Module()
        self.embed.table = nn.Embedding(vocab_size, dim)
        self.pos = nn.Embedding(positions, dim) if positions else None
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(dim, heads, ffn, dropout, batch_first=True,
                                       norm_first=norm == "pre",
                                       activation="relu" if norm == "post" else "gelu")
            for _ in range(layers)])
        self.norm = nn.LayerNorm(dim) if final_norm else None
        self.head = nn.Linear(dim, vocab_size, bias=head_bias)

    def init_weights_normal02(self):
        """The original's `_init_weights`: every Linear (out_proj included) and Embedding
        N(0, 0.02), zero biases; the packed in_proj is a bare Parameter and keeps xavier."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, x_BT):
        T = x_BT.shape[1]
        h = self.embed.table(x_BT)
        if self.pos is not None:
            h = h + self.pos(torch.arange(T))[None]
        mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=h.dtype) if self.causal else None
        for layer in self.layers:
            h = layer(h, src_mask=mask, is_causal=False)
        if self.norm is not None:
            h = self.norm(h)
        return self.head(h)


def to_flax_names(state: dict) -> dict:
    out = {}
    for k, v in state.items():
        for a, b in _RENAME:
            k = re.sub(rf"(layers\.\d+\.){re.escape(a)}", rf"\g<1>{b}", k)
        out[k] = v
    return out
