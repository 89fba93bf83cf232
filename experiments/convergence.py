#!/usr/bin/env python
"""Replicate the original 50-epoch comparison of standard and bespoke embeddings, with statistics.

The command line lives in jaxbespoke.scripts.convergence (installed as `jaxbespoke-convergence`);
`python experiments/convergence.py --help` lists its flags.
"""

from jaxbespoke.scripts.convergence import entry, main  # noqa: F401 (main: the same command, callable)

if __name__ == "__main__":
    entry()
