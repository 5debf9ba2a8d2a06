"""The repository's promises: one dependency list, pinned installs, students in sync with solutions."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from conftest import NOTEBOOKS, ROOT, SOLUTIONS
from tools.notebooks import make_student

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def _reqs(strings):
    return {Requirement(s).name.lower().replace("_", "-"): str(Requirement(s).specifier) for s in strings}


def pyproject_deps():
    return _reqs(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [s for s in pip_section if not s.startswith("-")]
    assert _reqs(listed) == pyproject_deps()
    assert "-e ." in pip_section, "environment.yml should install course_lib itself"


def test_lock_pins_every_dependency_and_torch_2_13_0():
    lock = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower().replace("_", "-")] = version
    assert lock["torch"] == "2.13.0"
    for name, spec in pyproject_deps().items():
        assert name in lock, f"{name} is in pyproject.toml but not pinned in requirements/lock.txt"
        assert Requirement(f"{name}{spec}").specifier.contains(lock[name], prereleases=True), (
            f"lock pins {name}=={lock[name]}, outside pyproject's range {spec}")
    assert lock["pandas"].startswith("2."), "mab2rec 1.3.1 needs pandas 2.x"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\s*$", ci, re.M), ".ci/run must call the README's test command"


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_student_notebook_is_what_the_generator_makes(path):
    expected = nbformat.writes(make_student(nbformat.read(path, as_version=4), path.name)) + "\n"
    student = NOTEBOOKS / path.name
    assert student.exists(), f"run `make students`: {student.name} is missing"
    assert student.read_text(encoding="utf-8") == expected, (
        f"notebooks/{path.name} drifted from solutions/: run `make students`")


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_solution_notebook_is_executed_clean_and_tagged(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "commit solutions executed (`make solutions`)"
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert any("parameters" in c.metadata.get("tags", []) for c in code)
    assert any("exercise-check" in c.metadata.get("tags", []) for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error output"
    plotting = sum("plt.show()" in c.source for c in code)   # slider cells store their default figure too
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images >= plotting, (f"{path.name}: {plotting} cells call plt.show() but only {images} figures are "
                                "stored; call course_lib.notebook.plots.use_course_style() so the inline backend is used")


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_stored_notebook_shows_no_record_lines(path):
    """A record is stored under its own MIME type only: a text/plain copy would print "name = value" to students."""
    from course_lib.notebook.record import MIME

    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            assert not (MIME in data and len(data) > 1), f"{path.name}: a record shows as {sorted(data)}; re-execute it"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_student_notebook_keeps_no_solution(path):
    text = path.read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text
    assert (SOLUTIONS / path.name).exists(), f"{path.name} has no source in solutions/"


def test_readme_lists_every_lesson_with_a_section():
    readme = (ROOT / "README.md").read_text()
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        assert f"](notebooks/{path.name})" in readme, f"README's lesson table does not link notebooks/{path.name}"
        assert re.search(rf"^### Lesson {path.name[:2]}\b", readme, re.M), f"README has no section for lesson {path.name[:2]}"
    assert not re.search(r"LESSON\d*_|TODO|TBD", readme), "README still has a placeholder"
