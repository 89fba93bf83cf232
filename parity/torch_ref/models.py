"""Reference models (mirror `jaxbespoke.nn.models`)."""

from __future__ import annotations

import torch
from torch import nn

from .embeddings import BespokeEmbedding, StandardEmbedding


class PooledNextToken(nn.Module):
    """The 50-epoch model: embed each window token, mean over the window, then
    Linear(D -> V) logits."""

    def __init__(self, embed: nn.Module, vocab_size: int, dim: int):
        super().__init__()
        self.embed = embed
        self.head = nn.Linear(dim, vocab_size)

    def forward(self, x_BT: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x_BT).mean(dim=1))


def make_embedding(kind: str, vocab_size: int, dim: int, tier_V=None, *, layout="replica",
                   rows=None, rows_V=None) -> nn.Module:
    """'standard' or 'bespoke' (the focused 2D / D / D//4 tiers, biased projections)."""
    if kind == "standard":
        return StandardEmbedding(vocab_size, dim)
    if kind == "bespoke":
        return BespokeEmbedding(vocab_size, dim, tier_V, (2 * dim, dim, dim // 4),
                                layout=layout, rows=rows, rows_V=rows_V)
    raise ValueError(f"unknown model kind {kind!r}")


def make_pooled(kind: str, vocab_size: int, dim: int, tier_V=None, **kw) -> PooledNextToken:
    return PooledNextToken(make_embedding(kind, vocab_size, dim, tier_V, **kw), vocab_size, dim)
