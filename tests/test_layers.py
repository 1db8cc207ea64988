"""The house's layers, enforced: gan_core's parts import only from parts below them, nothing imports in a cycle,
no function imports a project module (that was how cycles hid), and the engine never imports the UI.

The layers are the README's "Architecture" table, top first. A part is a module or a subpackage of gan_core; the
modules inside one subpackage may import each other (downwards only: cycles are checked module by module).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("gan_core", "explorer_ui", "app", "pages")

# top first; parts in one row are independent of each other
LAYERS = [
    ["__main__"],
    ["cli"],
    ["launch", "storage"],
    ["uploads"],
    ["tasks"],
    ["train", "explore"],
    ["evaluation"],
    ["inference"],
    ["runs", "preflight"],
    ["config"],
    ["models", "algorithm", "devices"],
    ["data"],
    ["files", "latent_space"],
    ["errors", "markup"],
]
LAYER_OF = {part: depth for depth, row in enumerate(LAYERS) for part in row}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    for package in ("gan_core", "explorer_ui"):
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import of a project module in `path`; `from X import
    name` counts as importing X.name when that is a module, else X."""
    module, tree = module_name(path), ast.parse(path.read_text())
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    inside = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(fn)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if is_module(f"{base}.{a.name}") else base for a in node.names]
        else:
            continue
        found += [(t, node.lineno, id(node) in inside) for t in targets if t.split(".")[0] in PROJECT]
    return found


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def part_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "gan_core" and len(parts) > 1 else None


GRAPH = {module_name(f): imports_of(f) for f in source_files()}


def test_every_part_of_gan_core_has_a_layer():
    parts = {part_of(m) for m in GRAPH if part_of(m)}
    assert parts - set(LAYER_OF) == set(), "put the new part in LAYERS (and the README's table)"
    assert set(LAYER_OF) - parts == set(), "a layer names a part that no longer exists"


def test_no_part_imports_a_part_above_it_or_beside_it():
    wrong = []
    for module, imports in GRAPH.items():
        mine = part_of(module)
        if mine is None:
            continue
        for target, line, _ in imports:
            theirs = part_of(target)
            if target.split(".")[0] != "gan_core":
                wrong.append(f"{module}:{line} imports {target}: the engine never imports the UI")
            elif theirs and theirs != mine and LAYER_OF[theirs] <= LAYER_OF[mine]:
                where = "above" if LAYER_OF[theirs] < LAYER_OF[mine] else "beside"
                wrong.append(f"{module}:{line} imports {target}, which is {where} it")
    assert not wrong, "\n".join(wrong)


def test_no_function_imports_a_project_module():
    local = [f"{module}:{line} imports {target} inside a function" for module, imports in GRAPH.items()
             for target, line, inside in imports if inside]
    assert not local, "\n".join(local)


def test_there_is_no_import_cycle():
    graph = {m: {t for t, _, _ in imports if t in GRAPH} for m, imports in GRAPH.items()}
    # a package's __init__ that re-exports its modules is where they are imported from: not a cycle of its own
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + ".") and GRAPH_IS_PACKAGE.get(node):
                continue  # a package importing its own submodules
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


GRAPH_IS_PACKAGE = {module_name(f): f.name == "__init__.py" for f in source_files()}


@pytest.mark.parametrize("package", ["gan_core"])
def test_the_engine_has_no_streamlit(package):
    users = [f"{module_name(f)}" for f in (ROOT / package).rglob("*.py")
             if any(isinstance(n, (ast.Import, ast.ImportFrom)) and "streamlit" in ast.unparse(n)
                    for n in ast.walk(ast.parse(f.read_text())))]
    assert users == []


# --- placement by idea (issue #30): small files, named once, few modules at the top --------------------------------

MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 8


def test_no_source_file_is_over_400_lines():
    long = {str(f.relative_to(ROOT)): n for f in source_files() if (n := len(f.read_text().splitlines())) > MAX_LINES}
    assert long == {}, "split these by idea"


def test_no_two_source_files_share_a_name():
    # a name says what a file is about once in the project (pages are named for the page and keep their names)
    by_name: dict[str, list[str]] = {}
    for f in source_files():
        if f.name != "__init__.py":
            by_name.setdefault(f.name, []).append(str(f.relative_to(ROOT)))
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}


def test_gan_core_keeps_few_modules_at_its_top_level():
    top = sorted(f.name for f in (ROOT / "gan_core").glob("*.py") if f.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
