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

.PHONY: lab test venv solutions students bench clean-venv help

help:
	@echo "make lab        open the course in JupyterLab (creates .venv on first use)"
	@echo "make test       run every test, notebook and nbval check (creates .venv on first use)"
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
	$(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=8 tests solutions --nbval-lax --nbval-current-env --nbval-cell-timeout=300

solutions: $(STAMP)
	$(PY) -m tools.execute_solutions
	$(PY) -m tools.make_student_notebooks

students: $(STAMP)
	$(PY) -m tools.make_student_notebooks

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; MPLBACKEND=Agg $(PY) $$f || exit 1; done

clean-venv:
	rm -rf $(VENV)

# ---- Lesson 08 on Apache Flink: a separate environment (PyFlink pins older NumPy/pandas than the
# course and needs a Java 17 runtime).  make flink: create .venv-flink from requirements/flink-lock.txt
# (a few minutes, ~700 MB); make test-flink: the Flink tests; make flink-results: the jobs' outputs
# for the lesson 08 notebook (build/flink/).
FLINK_VENV  ?= .venv-flink
FLINK_PY    := $(FLINK_VENV)/bin/python
FLINK_STAMP := $(FLINK_VENV)/.flink-installed
FLINK_VERSION ?= 2.3.0

.PHONY: flink test-flink flink-results flink-lock bench-flink

flink: $(FLINK_STAMP)

$(FLINK_STAMP): requirements/flink-lock.txt
	@command -v java >/dev/null || { echo "make flink: no java on the PATH; install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@test -x $(FLINK_PY) || $(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_PY) -m pip install --quiet --disable-pip-version-check -r requirements/flink-lock.txt
	@touch $@

test-flink: $(STAMP) $(FLINK_STAMP)
	$(PY) -m pytest -n 0 -p no:cacheprovider -m flink --durations=5 tests/test_flink.py

flink-results: $(STAMP) $(FLINK_STAMP)
	$(PY) -m course_lib.streaming.flink_results

flink-lock:
	rm -rf build/flink-lock-venv && $(PYTHON) -m venv build/flink-lock-venv
	build/flink-lock-venv/bin/python -m pip install --quiet --disable-pip-version-check apache-flink==$(FLINK_VERSION)
	{ head -2 requirements/flink-lock.txt; build/flink-lock-venv/bin/python -m pip freeze; } > requirements/flink-lock.txt.new
	mv requirements/flink-lock.txt.new requirements/flink-lock.txt && rm -rf build/flink-lock-venv

bench-flink: $(STAMP) $(FLINK_STAMP)
	MPLBACKEND=Agg $(PY) benchmarks/bench_flink.py
