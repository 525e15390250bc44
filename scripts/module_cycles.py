#!/usr/bin/env python3
"""Lists import cycles between the source files of a crate (file level).

A file `a.rs` depends on `b.rs` when it names `crate::b` (or `super::b` from
a sibling, or `crate::dir::b`) outside comments and `#[cfg(test)]` modules.
A `mod.rs` naming its own child modules (`mod build; pub use build::…`) is
not counted: the children are parts of that module, as in any Rust crate.

Usage: scripts/module_cycles.py crates/infer crates/train   (exit 1 on a cycle)
"""
import re
import sys
from pathlib import Path


def module_of(src: Path, f: Path) -> str:
    rel = f.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"


def code_without_tests(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]


def deps(src: Path, f: Path, modules: set) -> set:
    me = module_of(src, f)
    text = code_without_tests(f.read_text())
    out = set()
    # `use crate::{a, b::c}` groups: expand the first level
    for group in re.findall(r"crate::\{([^}]*)\}", text):
        for name in re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group):
            out.add(name)
    for path in re.findall(r"crate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)", text):
        out.add(path)
    parent = me.rsplit("::", 1)[0] if "::" in me else "crate"
    for path in re.findall(r"super::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)", text):
        out.add(path if parent == "crate" else f"{parent}::{path}")
    found = set()
    for path in out:
        parts = path.split("::")
        for k in range(len(parts), 0, -1):
            cand = "::".join(parts[:k])
            if cand in modules:
                if cand != me:
                    found.add(cand)
                break
    return found


def cycles(crate: Path):
    src = crate / "src"
    files = {module_of(src, f): f for f in src.rglob("*.rs")}
    graph = {m: deps(src, f, set(files)) for m, f in files.items()}
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


if __name__ == "__main__":
    bad = False
    for arg in sys.argv[1:]:
        for cycle in cycles(Path(arg)):
            bad = True
            print(f"{arg}: " + " -> ".join(cycle))
    sys.exit(1 if bad else 0)
