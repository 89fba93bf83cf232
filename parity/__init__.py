"""PyTorch references of the library's modules, weight conversion, and the parity checks.

torch is imported only under this folder; `jaxbespoke` never imports it.
"""
