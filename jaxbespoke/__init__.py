"""jaxbespoke: JAX/Flax replication of bespoke token dimensions and top-k sparse MLP attention.

Data flows one way: corpus -> tiers -> model -> train -> stats -> report.
"""

__version__ = "0.1.0"
