#!/usr/bin/env python3
"""Finds module import cycles inside each crate of the workspace.

A crate's top-level modules (src/NAME.rs or src/NAME/) form a graph: an edge A -> B when a file
of A names `crate::B` (or, in a top-level file, `super::B`). Prints every cycle and exits 1 if
there is one; exits 0 otherwise. Run from the project's root.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
crates = [p.parent for p in root.glob("**/Cargo.toml")
          if "target" not in p.parts and "node_modules" not in p.parts and (p.parent / "src").is_dir()]


def top_module(src, path):
    rel = path.relative_to(src).parts
    if len(rel) == 1:
        stem = pathlib.Path(rel[0]).stem
        return None if stem in ("lib", "main") else stem
    return rel[0]


def find_cycles(graph):
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


failed = False
for crate in sorted(crates):
    src = crate / "src"
    modules = {top_module(src, p) for p in src.rglob("*.rs")} - {None}
    graph = {m: set() for m in modules}
    for path in src.rglob("*.rs"):
        here = top_module(src, path)
        if here is None:
            continue
        text = path.read_text()
        # Test modules may reach anywhere; only the code's own imports count.
        text = text.split("#[cfg(test)]")[0]
        # Comments and doc links are not imports.
        text = re.sub(r"//[^\n]*", "", text)
        names = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text))
        if len(path.relative_to(src).parts) == 1:
            names |= set(re.findall(r"\bsuper::([a-z_][a-z0-9_]*)", text))
        graph[here] |= {n for n in names if n in modules and n != here}
    for cycle in find_cycles(graph):
        failed = True
        print(f"{crate.relative_to(root)}: modules import each other: {' -> '.join(cycle)}")
sys.exit(1 if failed else 0)
