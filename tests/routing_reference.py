"""The slow, obvious per-token routing every vectorised embedding is tested against.

Test-only: it loops over tokens in Python, which the library never does.
"""

import numpy as np

from jaxbespoke.nn.embeddings import StandardEmbedding
from jaxbespoke.nn.strategies import PaddedEmbedding


def routing_reference(module, ids) -> np.ndarray:
    """Per-token reference of any strategy (the slow, obvious way), for tests."""
    ids = np.asarray(ids)
    if isinstance(module, StandardEmbedding):
        return np.asarray(module.table.embedding[...])[ids]
    if isinstance(module, PaddedEmbedding):
        t = np.asarray(module.table.embedding[...])
        out = np.zeros(ids.shape + (module.out_dim,), np.float32)
        for idx in np.ndindex(ids.shape):
            out[idx][: module.dim] = t[ids[idx]]
        return out
    tier_V, rows_V = np.asarray(module.tier_V[...]), np.asarray(module.rows_V[...])
    out = np.zeros(ids.shape + (module.dim,), np.float32)
    for idx in np.ndindex(ids.shape):
        tok = int(ids[idx])
        path = module.tier(int(tier_V[tok]))
        vec = np.asarray(path.table.embedding[...])[tok if module.layout == "replica"
                                                    else int(rows_V[tok])]
        if path.proj is not None:
            vec = vec @ np.asarray(path.proj.kernel[...])
            if path.proj.bias is not None:
                vec = vec + np.asarray(path.proj.bias[...])
        out[idx] = vec
    return out
