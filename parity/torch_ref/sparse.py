"""Reference key selector, head approximator and hybrid (mirrors `jaxbespoke.sparse`).

Top-k uses a stable descending sort, so keys come out ordered by score with ties to the lower
index (torch.topk promises no tie order). The gather indexes V along the key axis with the
top-k indices (`unsqueeze(1)` side), the correct form; 'faithful' training inputs are built
separately as [V_t] * k, which is what the original's `unsqueeze(2)` gather amounts to.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .gpt import GPT


class KeySelector(nn.Module):
    def __init__(self, head_size=64, n_keys=64, hidden=64):
        super().__init__()
        self.fc = nn.Linear(head_size, hidden)
        self.out = nn.Linear(hidden, n_keys)

    def forward(self, q):
        return self.out(F.relu(self.fc(q)))


class HeadApproximator(nn.Module):
    def __init__(self, head_size=64, top_k=3, hidden=64):
        super().__init__()
        self.top_k = top_k
        self.fc = nn.Linear(top_k * head_size, hidden)
        self.out = nn.Linear(hidden, head_size)

    def forward(self, v_sel):
        return self.out(F.relu(self.fc(v_sel.flatten(-2))))


def topk_keys(scores, top_k, mode):
    T, S = scores.shape[-2:]
    future = torch.arange(S)[None, :] > torch.arange(T)[:, None]
    if mode == "fixed":
        scores = scores.masked_fill(future, float("-inf"))
    idx = torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :top_k]
    if mode == "faithful":
        valid = torch.ones_like(idx, dtype=torch.bool)
    else:
        valid = idx <= torch.arange(T)[:, None]
    return idx, valid


def gather_values(v, idx, valid=None):
    B, T, k = idx.shape
    out = torch.gather(v, 1, idx.reshape(B, T * k, 1).expand(B, T * k, v.shape[-1]))
    out = out.view(B, T, k, v.shape[-1])
    if valid is not None:
        out = out * valid[..., None].to(out.dtype)
    return out


def faithful_train_inputs(v, top_k):
    return v.unsqueeze(2).expand(*v.shape[:2], top_k, v.shape[-1])


def teacher_probs(q, k):
    T = q.shape[-2]
    s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    s = s.masked_fill(torch.ones(T, T).tril() == 0, float("-inf"))
    return F.softmax(s, dim=-1)


def exact_topk_attention(q, k, v, idx, valid):
    T = q.shape[-2]
    kk, vv = gather_values(k, idx), gather_values(v, idx)
    s = torch.einsum("btd,btkd->btk", q, kk) / math.sqrt(q.shape[-1])
    ok = valid & (idx <= torch.arange(T)[:, None])
    p = F.softmax(s.masked_fill(~ok, float("-inf")), dim=-1)
    return torch.einsum("btk,btkd->btd", p, vv)


class HybridGPT(nn.Module):
    def __init__(self, gpt: GPT, selectors, approximators, layer=0, heads=(0,), mode="fixed"):
        super().__init__()
        self.gpt = gpt
        self.selectors = nn.ModuleList(selectors)
        self.approximators = nn.ModuleList(approximators)
        self.layer, self.heads, self.mode = layer, tuple(heads), mode

    def head_fn(self, sel, app):
        def fn(q, k, v, y):
            idx, valid = topk_keys(sel(q), app.top_k, self.mode)
            return app(gather_values(v, idx, valid))
        return fn

    def forward(self, idx):
        fns = {h: self.head_fn(s, a)
               for h, s, a in zip(self.heads, self.selectors, self.approximators)}
        return self.gpt(idx, layer=self.layer, head_fns=fns)
