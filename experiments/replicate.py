#!/usr/bin/env python
"""Replicate every reported bespoke figure: one row per figure, measured over seeds, with a verdict.

The command line lives in jaxbespoke.scripts.replicate (installed as `jaxbespoke-replicate`);
`python experiments/replicate.py --help` lists its flags.
"""

from jaxbespoke.scripts.replicate import entry, main  # noqa: F401 (main: the same command, callable)

if __name__ == "__main__":
    entry()
