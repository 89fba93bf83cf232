#!/usr/bin/env python
"""Top-k sparse MLP attention: the original pipeline (faithful and fixed) with the baselines it

The command line lives in jaxbespoke.scripts.sparse_attention (installed as `jaxbespoke-sparse-attention`);
`python experiments/sparse_attention.py --help` lists its flags.
"""

from jaxbespoke.scripts.sparse_attention import entry, main  # noqa: F401 (main: the same command, callable)

if __name__ == "__main__":
    entry()
