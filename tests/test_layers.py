"""Imports inside the package run one way, down the layers:

    utils <- data <- nn <- training <- protocols <- replication, studies <- scripts

A module may import its own layer and the layers to its left, never one to its right. Every import
statement counts, also those inside functions (lazy imports still create the dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "jaxbespoke"
LAYERS = {"utils": 0, "data": 1, "nn": 2, "training": 3, "protocols": 4, "replication": 5,
          "studies": 5, "scripts": 6}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    """The rank of a jaxbespoke module; None for the package root (the public facade)."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    if parts[1] not in LAYERS:
        raise KeyError(f"{module} is in no layer: put it in one of {', '.join(LAYERS)} "
                       "(or add the layer to LAYERS and docs/ARCHITECTURE.md)")
    return LAYERS[parts[1]]


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module) of every jaxbespoke import in source, at any depth."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from jaxbespoke import nn` imports the subpackage jaxbespoke.nn
            if target == "jaxbespoke":
                out += [(node.lineno, f"jaxbespoke.{a.name}") if a.name in LAYERS
                        else (node.lineno, "jaxbespoke") for a in node.names]
            else:
                out.append((node.lineno, target))
    return [(ln, m) for ln, m in out if m == "jaxbespoke" or m.startswith("jaxbespoke.")]


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    own = layer(module)
    bad = []
    for ln, target in imported_modules(module, source, is_package):
        rank = layer(target)
        if rank is None:
            bad.append(f"{module}:{ln} imports the package root (the public facade, which "
                       "imports every layer); import the module itself")
        elif own is not None and rank > own:
            bad.append(f"{module}:{ln} imports {target}, a layer above its own")
    return bad


def package_modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_sits_in_a_layer():
    for p in package_modules():
        layer(module_name(p))  # KeyError names the stray module


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: module_name(p))
def test_imports_run_down_the_layers(path):
    if path == PKG / "__init__.py":
        return  # the facade re-exports from every layer; nothing inside imports it
    src = path.read_text(encoding="utf-8")
    assert not violations(module_name(path), src, path.name == "__init__.py")


def test_the_check_sees_upward_imports_at_any_depth():
    src = """
import numpy as np
from jaxbespoke.utils import cli

def f():
    from jaxbespoke.training.train import Trainer
    if True:
        import jaxbespoke.scripts.replicate

class C:
    def g(self):
        from ..protocols import presets
        from jaxbespoke import outputs
"""
    bad = violations("jaxbespoke.nn.models", src)
    assert [b.split(" imports ")[1].split(",")[0] for b in bad] == [
        "jaxbespoke.training.train", "jaxbespoke.scripts.replicate", "jaxbespoke.protocols",
        "the package root (the public facade"]
    top = violations("jaxbespoke.scripts.x", src)  # the top layer may import every layer
    assert len(top) == 1 and "package root" in top[0]
    assert not violations("jaxbespoke.nn.models", "from jaxbespoke.data import tiers\n"
                          "from . import init\nfrom jaxbespoke.nn.gpt import GPTConfig\n")
