"""Shared fixtures: execute lesson notebooks once per test session and read their records.

Small parameters for a test run live in each solution notebook's metadata,
``metadata.course.test_parameters``; the student generator copies them to notebooks/.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from course_lib.notebook.record import read_records

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
#: Seconds a single cell may run before the test fails (a hang fails instead of stalling CI).
CELL_TIMEOUT = 300


def lesson_names() -> list[str]:
    """``NN_topic`` stems of every solution notebook."""
    return [p.stem for p in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))]


def test_parameters(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    return dict(nb.metadata.get("course", {}).get("test_parameters", {}))


class NotebookRunner:
    """Executes a notebook with papermill into a temp folder, at most once per (folder, name, size)."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self._done: dict[tuple[str, str, bool], nbformat.NotebookNode] = {}

    def __call__(self, folder: str, name: str, small: bool) -> nbformat.NotebookNode:
        key = (folder, name, small)
        if key not in self._done:
            src = ROOT / folder / f"{name}.ipynb"
            params = test_parameters(src) if small else {}
            declared = set(pm.inspect_notebook(str(src)))
            unknown = set(params) - declared
            assert not unknown, f"{src.name}: test parameters {sorted(unknown)} are not in its parameters cell"
            out = self.out_dir / f"{folder}-{name}-{'small' if small else 'default'}.ipynb"
            env_before = os.environ.pop("COURSE_NOTEBOOK_VARIANT", None)
            try:
                pm.execute_notebook(str(src), str(out), parameters=params, kernel_name=KERNEL,
                                    cwd=str(src.parent), progress_bar=False, log_output=False,
                                    execution_timeout=CELL_TIMEOUT)
            except pm.PapermillExecutionError as err:
                pytest.fail(f"{folder}/{name}.ipynb failed in cell {err.exec_count} with "
                            f"{err.ename}: {err.evalue}\n--- cell source ---\n{err.source}", pytrace=False)
            finally:
                if env_before is not None:
                    os.environ["COURSE_NOTEBOOK_VARIANT"] = env_before
            self._done[key] = nbformat.read(out, as_version=4)
        return self._done[key]


@pytest.fixture(scope="session")
def run_notebook(tmp_path_factory) -> NotebookRunner:
    return NotebookRunner(tmp_path_factory.mktemp("executed"))


@pytest.fixture(scope="session")
def solution_records(run_notebook):
    """``solution_records("01_online_learning")``: records of the solution run with default parameters."""
    return lambda name: read_records(run_notebook("solutions", name, small=False))


@pytest.fixture(scope="session")
def student_records(run_notebook):
    """Records of the student notebook run with its small test parameters."""
    return lambda name: read_records(run_notebook("notebooks", name, small=True))


@pytest.fixture(scope="module")
def r(request, solution_records):
    """In a ``tests/test_lessonNN.py`` module: the records of the solution named by its ``NAME``."""
    return solution_records(request.module.NAME)
