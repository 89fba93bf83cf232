"""Reference embeddings (mirror `jaxbespoke.nn.embeddings`) with the original's semantics.

Bespoke routing: each token takes exactly one tier's table and projection. The original looped over
tokens in Python; here each tier handles its tokens with one masked call. A tier with no token in
the batch is not called at all, so, as in the original, its parameters get `.grad = None` and
torch's optimisers skip them. Tokens in no tier (tier -1) embed to zeros, as in the library.
"""

from __future__ import annotations

import torch
from torch import nn


class StandardEmbedding(nn.Module):
    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.vocab_size, self.dim = vocab_size, dim
        self.table = nn.Embedding(vocab_size, dim)

    def forward(self, ids_BT: torch.Tensor) -> torch.Tensor:
        return self.table(ids_BT)


class TierPath(nn.Module):
    """One tier's table and its projection to the model width (None = nn.Identity)."""

    def __init__(self, rows: int, dim: int, out_dim: int, *, bias: bool, identity: bool):
        super().__init__()
        self.table = nn.Embedding(rows, dim)
        self.proj = None if identity else nn.Linear(dim, out_dim, bias=bias)

    def forward(self, rows_N: torch.Tensor) -> torch.Tensor:
        emb_ND = self.table(rows_N)
        return emb_ND if self.proj is None else self.proj(emb_ND)


class BespokeEmbedding(nn.Module):
    """dims: per-tier widths, most frequent tier first. layout 'replica': every table covers the
    whole vocabulary (row = token id); 'compact': table t has rows[t] rows, row = rows_V[id].
    Tier t's modules are `tiers['<t>_<name>']`, the Flax module's parameter names."""

    def __init__(self, vocab_size: int, dim: int, tier_V, dims, *, proj_bias: bool = True,
                 identity_when_equal: bool = True, layout: str = "replica", rows=None,
                 rows_V=None, names=("high", "mid", "low")):
        super().__init__()
        self.vocab_size, self.dim, self.layout = vocab_size, dim, layout
        if layout == "replica":
            rows, rows_V = (vocab_size,) * len(dims), torch.zeros(vocab_size, dtype=torch.long)
        elif layout != "compact" or rows is None or rows_V is None:
            raise ValueError(f"layout {layout!r} needs rows and rows_V (compact) or 'replica'")
        self.register_buffer("tier_V", torch.as_tensor(tier_V, dtype=torch.long).clone())
        self.register_buffer("rows_V", torch.as_tensor(rows_V, dtype=torch.long).clone())
        if len(names) != len(dims):
            raise ValueError(f"{len(names)} tier names for {len(dims)} dims")
        width = len(str(len(dims) - 1))
        self.tiers = nn.ModuleDict(
            (f"{t:0{width}d}_{name}",
             TierPath(r, d, dim, bias=proj_bias, identity=identity_when_equal and d == dim))
            for t, (name, r, d) in enumerate(zip(names, rows, dims)))

    @property
    def paths(self) -> list[TierPath]:
        """The tiers' modules in tier order."""
        return list(self.tiers.values())

    def forward(self, ids_BT: torch.Tensor) -> torch.Tensor:
        tier_BT = self.tier_V[ids_BT]
        rows_BT = ids_BT if self.layout == "replica" else self.rows_V[ids_BT]
        dtype = self.paths[0].table.weight.dtype
        out_BTD = torch.zeros(*ids_BT.shape, self.dim, dtype=dtype)
        for t, path in enumerate(self.paths):
            mine_BT = tier_BT == t
            if mine_BT.any():  # an absent tier stays out of the graph: .grad None, as originally
                out_BTD = out_BTD.index_put((mine_BT,), path(rows_BT[mine_BT]))
        return out_BTD


def per_token_forward(emb: BespokeEmbedding, ids_BT: torch.Tensor) -> torch.Tensor:
    """The original's routing, token by token (slow; tests use it to vouch for `forward`)."""
    rows = []
    for tok in ids_BT.reshape(-1).tolist():
        tier = int(emb.tier_V[tok])
        if tier < 0:
            rows.append(torch.zeros(emb.dim, dtype=emb.paths[0].table.weight.dtype))
            continue
        row = tok if emb.layout == "replica" else int(emb.rows_V[tok])
        rows.append(emb.paths[tier](torch.tensor([row]))[0])
    return torch.stack(rows).reshape(*ids_BT.shape, emb.dim)
