"""Reference key selector, head approximator and hybrid (mirrors `jaxbespoke.nn.sparse`).

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


def run_original(seed: int = 1337, *, train_steps=300, collect_batches=32, selector_iters=400,
                 approx_iters=600, eval_batches=10, vocab_size=64, block_size=64,
                 corpus_size=50_000, batch=32, top_k=3, lr=3e-3) -> dict:
    """The original script's pipeline in plain PyTorch on CPU, for timing side by
    side with ours: same stages, sizes and optimisers, the bug included (the approximator's
    training input comes from V expanded to (N, T, T, d), 1 GB at the default sizes, gathered
    along the wrong axis). Returns the two numbers it printed and the seconds it took."""
    import time

    from .gpt import GPT, lm_loss

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    data = torch.randint(0, vocab_size, (corpus_size,))

    def get_batch():
        ix = torch.randint(0, corpus_size - block_size - 1, (batch,))
        x = torch.stack([data[i:i + block_size] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
        return x, y

    model = GPT(vocab_size, block_size)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(train_steps):
        x, y = get_batch()
        loss = lm_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    Q, V, P = [], [], []
    with torch.no_grad():
        for _ in range(collect_batches):
            _, aux = model(get_batch()[0], return_aux=True)
            Q.append(aux[0]["q"][:, 0]), V.append(aux[0]["v"][:, 0]), P.append(aux[0]["probs"][:, 0])
    Q, V, P = torch.cat(Q), torch.cat(V), torch.cat(P)
    N, T, hs = V.shape
    topk = torch.topk(P, top_k, dim=-1).indices
    target = (P @ V).reshape(N * T, hs)

    sel = KeySelector(hs, T, 64)
    opt = torch.optim.AdamW(sel.parameters(), lr=lr)
    q_flat, t1 = Q.reshape(N * T, hs), topk[..., 0].reshape(-1)
    for _ in range(selector_iters):
        loss = F.cross_entropy(sel(q_flat), t1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    # the original's gather: V expanded along a new axis 2, so slot j of query t holds V_t
    expanded = V.unsqueeze(2).expand(N, T, T, hs).reshape(N * T, T, hs)
    idx = topk.reshape(N * T, top_k, 1).expand(N * T, top_k, hs)
    x_train = torch.gather(expanded, 1, idx).reshape(N * T, top_k * hs)
    del expanded
    app = HeadApproximator(hs, top_k, 64)
    opt = torch.optim.AdamW(app.parameters(), lr=lr)
    for _ in range(approx_iters):
        loss = F.mse_loss(app.out(F.relu(app.fc(x_train))), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    hybrid = HybridGPT(model, [sel], [app], mode="faithful")
    errs = []
    with torch.no_grad():
        for _ in range(eval_batches):
            x, _ = get_batch()
            y1, y2 = model(x), hybrid(x)
            errs.append(float(torch.linalg.norm(y1 - y2) / (torch.linalg.norm(y1) + 1e-9)))
        _, aux = model(get_batch()[0], return_aux=True)
        q = aux[0]["q"][:, 0]
        acc = float((sel(q).argmax(-1) == aux[0]["probs"][:, 0].argmax(-1)).float().mean())
    return {"logits_rel_err": sum(errs) / len(errs), "selector_top1_acc": acc,
            "seconds": time.perf_counter() - t0}
