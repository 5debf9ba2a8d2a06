# The course's commands.  The two a student needs:
#   make lab    create .venv if missing, install the course, open JupyterLab on notebooks/
#   make test   create .venv if missing, install the course, run the whole test suite
# Both are quick once .venv exists: the install step re-runs only when
# pyproject.toml or requirements/lock.txt change.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.course-installed
# One thread per BLAS/torch pool: the same numbers on every machine, and two
# notebooks can run side by side on a two-core laptop.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export JUPYTER_PREFER_ENV_PATH := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port 8899".
LAB_ARGS ?=
# pytest workers; set JOBS=1 to run serially.
JOBS ?= 2

# Markers of the tiers (pyproject.toml): lesson, slow, services, gpu, browser.
FAST   := not lesson and not slow and not services and not gpu and not browser
PYTEST := $(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=8
NBVAL  := --nbval-lax --nbval-current-env --nbval-cell-timeout=300

.PHONY: lab test test-fast test-lessons test-slow test-services test-gpu venv solutions students bench clean-venv help

help:
	@echo "make lab        open the course in JupyterLab (creates .venv on first use)"
	@echo "make test       run every test, notebook and nbval check (creates .venv on first use)"
	@echo "make test-fast  unit tests only (no notebook runs, slow, service, GPU or browser tests)"
	@echo "make test-lessons  the lesson notebooks under papermill and nbval"
	@echo "make test-slow / test-services / test-gpu  one tier each"
	@echo "make solutions  re-execute solutions/ in place, then regenerate notebooks/"
	@echo "make students   regenerate notebooks/ from solutions/"
	@echo "make bench      run the speed benchmarks in benchmarks/"

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/lock.txt -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	@touch $@

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: $(STAMP)
	$(PYTEST) tests solutions $(NBVAL)

test-fast: $(STAMP)
	$(PYTEST) -m "$(FAST)" tests

test-lessons: $(STAMP)
	$(PYTEST) -m lesson tests solutions $(NBVAL)

test-slow: $(STAMP)
	$(PYTEST) -m slow tests

test-services: $(STAMP)
	$(PYTEST) -m services tests

test-gpu: $(STAMP)
	$(PYTEST) -m gpu tests

solutions: $(STAMP)
	$(PY) -m tools.execute_solutions
	$(PY) -m tools.make_student_notebooks

students: $(STAMP)
	$(PY) -m tools.make_student_notebooks

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; MPLBACKEND=Agg $(PY) $$f || exit 1; done

clean-venv:
	rm -rf $(VENV)
