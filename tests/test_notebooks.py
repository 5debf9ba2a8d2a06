"""Every notebook of both folders runs end to end under papermill.

Solutions run with their default parameters (the numbers students see are the numbers the
lesson tests assert); student notebooks run small, with their exercises unsolved, and must
report those exercises instead of failing.
"""

import json

import nbformat
import pytest

from conftest import NOTEBOOKS, ROOT, SOLUTIONS, lesson_names

LESSONS = lesson_names()
pytestmark = pytest.mark.lesson


def grouped(folder):
    """One xdist group per executed notebook, shared with that lesson's figure tests."""
    return [pytest.param(n, marks=pytest.mark.xdist_group(f"{n}-{folder}")) for n in LESSONS]


@pytest.mark.parametrize("name", grouped("solutions"))
def test_solution_runs_with_default_parameters(name, run_notebook):
    nb = run_notebook("solutions", name, small=False)
    assert any(c.cell_type == "code" for c in nb.cells)


@pytest.mark.parametrize("name", grouped("notebooks"))
def test_student_notebook_runs_small_and_reports_open_exercises(name, run_notebook):
    nb = run_notebook("notebooks", name, small=True)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    n_regions = sum(c.source.count("# YOUR CODE HERE") for c in nb.cells if c.cell_type == "code")
    assert n_regions > 0, "a lesson without exercises?"
    assert outputs.count("not solved yet") >= 1, "open exercises should be reported as not solved yet"


def test_every_lesson_has_a_student_notebook_and_parameters_cell():
    import papermill as pm

    assert LESSONS, "no solution notebooks found"
    for name in LESSONS:
        for folder in (SOLUTIONS, NOTEBOOKS):
            path = folder / f"{name}.ipynb"
            assert path.exists(), f"missing {path.relative_to(ROOT)}"
            assert pm.inspect_notebook(str(path)), f"{path.name} has no 'parameters' cell"
            nb = nbformat.read(path, as_version=4)
            assert nb.metadata["kernelspec"]["name"] == "python3"
