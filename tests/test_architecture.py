"""The engine's shape, kept by a test (issue 17): read from the source with ``ast``, nothing imported.

* no import cycle between ``studio``'s modules (lazy imports inside functions count: they only hide a cycle);
* no private name (a leading underscore) used across modules from ``studio/``, ``ui/``, ``bench/``, ``presets/``
  or ``app.py``: not imported, not passed as a keyword argument to another module's function, not read as an
  attribute that only another module defines;
* no function over :data:`MAX_FUNCTION_LINES` lines in ``studio/`` or ``ui/``.

Tests themselves may reach into privates (they check internals on purpose), so ``tests/`` is not scanned.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("studio", "ui", "bench", "presets", "app.py")
MAX_FUNCTION_LINES = 80


def _files(*names: str) -> list[Path]:
    out: list[Path] = []
    for name in names:
        path = ROOT / name
        out += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [p for p in out if ".venv" not in p.parts and ".gpu" not in p.parts]


def _module(path: Path) -> str:
    """``studio/train/trainer.py`` -> ``studio.train.trainer``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(node: ast.ImportFrom, module: str, package: bool) -> str:
    """The module an ``from … import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _parsed() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _files(*SCANNED)}


def _studio_imports(path: Path, tree: ast.Module, modules: set[str]) -> Iterator[tuple[str, int]]:
    """The ``studio`` modules that ``path`` imports (anywhere in it), with the line."""
    me = _module(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, me, _is_package(path))
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules:  # ``from studio.train import trainer``: the submodule
                    yield sub, node.lineno
                elif source in modules:
                    yield source, node.lineno


def test_no_import_cycle_inside_studio() -> None:
    trees = {p: t for p, t in _parsed().items() if _module(p).split(".")[0] == "studio"}
    modules = {_module(p) for p in trees}
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for path, tree in trees.items():
        me = _module(path)
        for target, line in _studio_imports(path, tree, modules):
            if target != me:
                graph[me].setdefault(target, line)
    cycles = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                cycles.append(" -> ".join(cycle))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles inside studio/:\n" + "\n".join(cycles)


def _defined_privates(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, module globals and attributes set on ``self``/``cls``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_private_name_crosses_a_module_line() -> None:
    trees = _parsed()
    own = {path: _defined_privates(tree) for path, tree in trees.items()}
    everyone = set().union(*own.values())
    found = []
    for path, tree in trees.items():
        where = path.relative_to(ROOT)
        mine = own[path]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(node, _module(path), _is_package(path))
                if source.split(".")[0] in ("studio", "ui") or node.level:
                    found += [f"{where}:{node.lineno} imports {a.name}" for a in node.names if _private(a.name)]
            elif isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg and _private(kw.arg) and kw.arg not in mine:
                        found.append(f"{where}:{node.lineno} passes {kw.arg}=")
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                if node.attr not in mine and node.attr in everyone:  # defined only elsewhere in this project
                    found.append(f"{where}:{node.lineno} reads .{node.attr}")
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_functions_are_short() -> None:
    long = []
    for path in _files("studio", "ui"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """The scanners themselves: a private import and a relative import resolve as intended."""
    tree = ast.parse("from .frames import _forward\nfrom studio.infer import frames\n")
    fake = ROOT / "studio" / "infer" / "video.py"
    first, second = tree.body
    assert isinstance(first, ast.ImportFrom) and isinstance(second, ast.ImportFrom)
    assert _absolute(first, _module(fake), False) == "studio.infer.frames"
    modules = {"studio.infer.frames", "studio.infer"}
    assert [m for m, _ in _studio_imports(fake, tree, modules)] == ["studio.infer.frames", "studio.infer.frames"]
    assert _module(ROOT / "studio" / "nn" / "__init__.py") == "studio.nn"
    assert _private("_x") and not _private("__all__") and not _private("x")
