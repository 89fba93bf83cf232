#!/usr/bin/env python
"""Embedding strategies at equal parameter budgets on real text: a small causal LM whose input

The command line lives in jaxbespoke.scripts.embedding_strategies (installed as
`jaxbespoke-embedding-strategies`);
`python experiments/embedding_strategies.py --help` lists its flags.
"""

from jaxbespoke.scripts.embedding_strategies import entry, main  # noqa: F401 (main: the same command, callable)

if __name__ == "__main__":
    entry()
