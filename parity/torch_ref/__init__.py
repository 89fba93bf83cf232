"""PyTorch references written from docs/experiments.md, one module per library module they mirror.

Parameter and buffer names mirror the Flax modules' attribute paths (a torch `weight` stands for
nnx's `kernel` / `embedding`), so `parity.convert` maps a state dict by name alone.
"""
