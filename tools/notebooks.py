"""Generate student notebooks from the solution notebooks, and clean notebook metadata.

``solutions/NN_topic.ipynb`` is the source. In a student copy, each region of a code cell
between the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub with the
region's indentation: inside a function body ``raise NotImplementedError()``, at top level a
``...`` placeholder (a top-level raise would stop the notebook). Outputs of cells that held a
region, and of cells tagged ``exercise-check``, are cleared; every other output is kept so
students see the lesson's plots before running anything.  The line ``use_variant("solutions")``
(``course_lib.notebook.exercises``) becomes ``use_variant("notebooks")``: the copy knows it is the
student's, wherever it runs.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CHECK_TAG = "exercise-check"
_BEGIN_RE = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
_END_RE = re.compile(r"^\s*### END SOLUTION\s*$")
STUB_COMMENT = "# YOUR CODE HERE"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_VARIANT_RE = re.compile(r'^(\s*)use_variant\("solutions"\).*$', re.M)


def strip_solutions(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace each solution region of ``source`` with a stub; return (new source, regions replaced)."""
    out: list[str] = []
    inside = False
    regions = 0
    for lineno, line in enumerate(source.split("\n"), start=1):
        begin = _BEGIN_RE.match(line)
        if begin:
            if inside:
                raise ValueError(f"{where}, line {lineno}: '{BEGIN}' inside another solution region")
            inside = True
            regions += 1
            indent = begin.group(1)
            stub = "raise NotImplementedError()" if indent else "..."
            out += [f"{indent}{STUB_COMMENT}", f"{indent}{stub}"]
        elif _END_RE.match(line):
            if not inside:
                raise ValueError(f"{where}, line {lineno}: '{END}' without a matching '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{BEGIN}' is never closed by '{END}'")
    return "\n".join(out), regions


def make_student(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student version of a solution notebook (see module docstring)."""
    nb = copy.deepcopy(solution)
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        if cell.cell_type != "code":
            if BEGIN in cell.source or END in cell.source:
                raise ValueError(f"{where}: solution markers may only appear in code cells")
            continue
        cell.source, regions = strip_solutions(cell.source, where)
        cell.source = _VARIANT_RE.sub(r'\1use_variant("notebooks")', cell.source)
        if regions or CHECK_TAG in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None
    return nb


#: The kernel `make lab` installs (Makefile), exactly as JupyterLab writes it into a notebook it opens:
#: a committed notebook that says anything else opens dirty, and autosave rewrites it.
KERNELSPEC = {"display_name": "Python 3 (course)", "language": "python", "name": "python3"}


def clean_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run-specific metadata (timings, papermill bookkeeping) and set the course's kernelspec."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        for key in ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            # A widget's view carries a random model id and shows nothing without a live
            # kernel; drop it so a re-run leaves git clean (students re-run the cell).
            cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
    return nb


def write(nb: nbformat.NotebookNode, path: str | Path) -> None:
    nbformat.validate(nb)
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def student_path(solution_path: Path, notebooks_dir: Path) -> Path:
    return notebooks_dir / solution_path.name


def generate_all(root: str | Path) -> list[Path]:
    """Write ``notebooks/X.ipynb`` for every ``solutions/X.ipynb`` under ``root``; return the paths."""
    root = Path(root)
    written = []
    for sol in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = make_student(nbformat.read(sol, as_version=4), sol.name)
        dest = student_path(sol, root / "notebooks")
        write(nb, dest)
        written.append(dest)
    return written
