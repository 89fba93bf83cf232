"""Reference tiny GPT (mirrors `jaxbespoke.nn.gpt`), written the PyTorch way.

Parameter names follow the Flax attribute paths so `parity.convert` copies weights by name. Two
layout choices differ from the original script and change no number: the learned positions are
(T, D) instead of (1, T, D), and the causal mask is a non-persistent buffer (not in the state dict).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.n_head, self.head_size = n_head, n_embd // n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)),
                             persistent=False)

    def qkv(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        return tuple(t.view(B, T, self.n_head, self.head_size).transpose(1, 2) for t in (q, k, v))

    def forward(self, x, head_fns=None):
        B, T, C = x.shape
        q, k, v = self.qkv(x)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_size)
        att = att.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        probs = F.softmax(att, dim=-1)
        y = probs @ v
        if head_fns:
            heads = [head_fns[h](q[:, h], k[:, h], v[:, h], y[:, h]) if h in head_fns else y[:, h]
                     for h in range(self.n_head)]
            y = torch.stack(heads, dim=1)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y), {"probs": probs, "q": q, "k": k, "v": v}


class MLP(nn.Module):
    def __init__(self, n_embd: int):
        super().__init__()
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x, head_fns=None):
        a, aux = self.attn(self.ln1(x), head_fns)
        x = x + a
        return x + self.mlp(self.ln2(x)), aux


class GPT(nn.Module):
    def __init__(self, vocab_size=64, block_size=64, n_layer=2, n_head=2, n_embd=128):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Parameter(torch.zeros(block_size, n_embd))
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx, layer=0, head_fns=None, return_aux=False):
        T = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb[:T]
        auxes = []
        for i, b in enumerate(self.blocks):
            x, aux = b(x, head_fns if i == layer else None)
            auxes.append(aux)
        logits = self.head(self.ln_f(x))
        return (logits, auxes) if return_aux else logits


def lm_loss(logits, y):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
