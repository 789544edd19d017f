"""The layering docs/architecture.md promises, checked on the source: no import loop, no step
importing another step, and one module that writes a refusal."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "api", "eval")
# The question path's steps (docs/architecture.md): each may use shared modules and stores,
# never another step.
STEPS = {
    "rag.retrieve",
    "rag.rerank",
    "rag.read",
    "rag.evidence",
    "rag.decide",
    "rag.cite",
    "rag.verify",
    "rag.rewrite",
    "rag.guard",
    "rag.answer",
    "rag.compose",
}
# Wiring, not steps: they build steps from settings (rag.steps builds the question path;
# the registry builds answerers, with the judged decision model when one is committed).
WIRING = {"rag.steps", "rag.service", "rag.kind_answers", "rag.answer.registry"}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each module's imports of this project's modules (top level and inside functions)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
            graph[_module(path)] = {m for m in found if m.split(".")[0] in PACKAGES}
    return graph


def _step(module: str) -> str | None:
    if module in WIRING:
        return None
    return next((s for s in STEPS if module == s or module.startswith(s + ".")), None)


def test_no_step_imports_another_step() -> None:
    crossings = [
        f"{module} -> {target}"
        for module, targets in _imports().items()
        if (own := _step(module)) is not None
        for target in targets
        if (other := _step(target)) is not None and other != own
    ]
    assert crossings == []


def test_there_is_no_import_loop() -> None:
    graph = _imports()
    known = set(graph)

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    edges = {m: {r for t in ts if (r := resolve(t)) and r != m} for m, ts in graph.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    loops: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(edges.get(module, ())):
            if state.get(nxt) == 1:
                loops.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert loops == []


def test_only_rag_refusal_writes_a_refusal() -> None:
    """``abstained`` is set true in one place: ``rag.refusal.refuse``."""
    writers = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                sets_attr = (
                    isinstance(node, ast.Assign)
                    and any(
                        isinstance(t, ast.Attribute) and t.attr == "abstained" for t in node.targets
                    )
                    and isinstance(node.value, ast.Constant)
                    and node.value.value is True
                )
                in_dict = isinstance(node, ast.Dict) and any(
                    isinstance(k, ast.Constant)
                    and k.value == "abstained"
                    and isinstance(v, ast.Constant)
                    and v.value is True
                    for k, v in zip(node.keys, node.values, strict=True)
                )
                if sets_attr or in_dict:
                    writers.append(_module(path))
    assert sorted(set(writers)) == ["rag.refusal"]
