"""The package works when installed non-editably: ``pip install .`` into a scratch directory, then a lesson
notebook runs against that copy from a folder outside the repository (package data included)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOTEBOOKS, ROOT
from conftest import test_parameters as small_parameters

pytestmark = [pytest.mark.slow, pytest.mark.lesson]


def test_non_editable_install_runs_lesson_07(tmp_path):
    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and egg-info beside the sources
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "course_lib", src / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(src)], check=True, cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(NOTEBOOKS / "07_ab_testing.ipynb", work / "07.ipynb")
    env = {**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg"}
    env.pop("COURSE_NOTEBOOK_VARIANT", None)
    where = subprocess.run([sys.executable, "-c", "import course_lib, course_lib.sim.world as w; "
                            "print(course_lib.__file__); print(w.load_world().n_products)"],
                           check=True, cwd=work, env=env, capture_output=True, text=True).stdout.split()
    assert Path(where[0]).is_relative_to(site) and where[1] == "200"
    params = json.dumps(small_parameters(NOTEBOOKS / "07_ab_testing.ipynb"))
    run = ("import json, sys, papermill as pm; pm.execute_notebook('07.ipynb', 'out.ipynb', kernel_name='python3', "
           f"parameters=json.loads(sys.argv[1]), cwd='.', progress_bar=False, execution_timeout=300)")
    subprocess.run([sys.executable, "-c", run, params], check=True, cwd=work, env=env)
    out = json.loads((work / "out.ipynb").read_text())
    assert not [o for c in out["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
