#!/usr/bin/env python
"""Cost of top-k sparse MLP attention: MACs per component, the original's FLOP tables recomputed

The command line lives in jaxbespoke.scripts.attention_cost (installed as `jaxbespoke-attention-cost`);
`python experiments/attention_cost.py --help` lists its flags.
"""

from jaxbespoke.scripts.attention_cost import entry, main  # noqa: F401 (main: the same command, callable)

if __name__ == "__main__":
    entry()
