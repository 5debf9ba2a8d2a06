"""The library's layers (CONTRIBUTING.md): algorithms and the simulation layer never import the notebook
machinery (course_lib.notebook) or the build tooling (tools); checked by parsing every module's imports."""

import ast
from pathlib import Path

import course_lib

ROOT = Path(course_lib.__file__).parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_algorithm_modules_do_not_import_the_notebook_machinery_or_tools():
    offenders = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "notebook":
            continue
        bad = sorted(m for m in _imports(path)
                     if m.startswith(("course_lib.notebook", "tools")) or m in ("IPython", "ipywidgets"))
        if bad:
            offenders[str(rel)] = bad
    assert not offenders, f"algorithm modules importing notebook machinery: {offenders}"


def test_the_check_finds_an_import():
    assert "course_lib.notebook.exercises" in _imports(ROOT / "notebook" / "checks" / "lesson01.py")
