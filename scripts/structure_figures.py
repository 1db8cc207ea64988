"""The code's shape in figures, from its AST: gan_core's top-level modules, the largest files, files over 400 lines,
repeated file names and functions over 60 lines (over gan_core, explorer_ui, pages and app.py).

    python scripts/structure_figures.py [CHECKOUT]

tests/test_layers.py holds the first four to their limits; this prints them, with the long functions, for a note.
"""
from __future__ import annotations

import ast
import collections
import sys
from pathlib import Path

LONG_FUNCTION = 60


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
    files = [p for d in ("gan_core", "explorer_ui", "pages") for p in (root / d).rglob("*.py")] + [root / "app.py"]
    top = sorted(p.name for p in (root / "gan_core").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    sizes = sorted(((len(p.read_text().splitlines()), str(p.relative_to(root))) for p in files), reverse=True)
    names = collections.Counter(p.name for p in files if p.name != "__init__.py")
    long = sorted(((node.end_lineno - node.lineno + 1, f"{p.relative_to(root)}:{node.name}")
                   for p in files for node in ast.walk(ast.parse(p.read_text()))
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and node.end_lineno - node.lineno + 1 > LONG_FUNCTION), reverse=True)
    print(f"top-level modules in gan_core: {len(top)} ({', '.join(top)})")
    print(f"python files: {len(files)}, lines: {sum(n for n, _ in sizes)}")
    print("largest files:", ", ".join(f"{path} {n}" for n, path in sizes[:5]))
    print(f"files over 400 lines: {sum(1 for n, _ in sizes if n > 400)}")
    print("repeated file names:", {k: v for k, v in names.items() if v > 1} or "none")
    print(f"functions over {LONG_FUNCTION} lines: {len(long)}", ", ".join(f"{where} {n}" for n, where in long))
    return 0


if __name__ == "__main__":
    sys.exit(main())
