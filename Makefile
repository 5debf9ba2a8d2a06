# The course's commands.  The two a student needs:
#   make lab    create .venv if missing, install the course, open JupyterLab on your own
#               copies of the lessons in work/ (solutions beside them in work/solutions/)
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
# make lab: your working folder (git-ignored), seeded from notebooks/ with each lesson it lacks;
# course updates never overwrite a lesson in it (a fresh copy: make fresh LESSON=01).
WORK ?= work
# make lab copies solutions/ read-only into $(WORK)/solutions/ at each start; instructors hide them
# with SOLUTIONS=hide (make lab SOLUTIONS=hide removes that folder).
SOLUTIONS ?= show
# JupyterLab settings for the course's Lab (no news pop-up), inside .venv, not in your home.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# pytest workers; set JOBS=1 to run serially.
JOBS ?= 2

# Markers of the tiers (pyproject.toml): lesson, slow, services, gpu, browser.
FAST   := not lesson and not slow and not services and not gpu and not browser
PYTEST := $(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=8
NBVAL  := --nbval-lax --nbval-current-env --nbval-cell-timeout=300

.PHONY: lab fresh test test-fast test-lessons test-slow test-services test-gpu venv solutions students bench clean-venv help

help:
	@echo "make lab        open the course in JupyterLab on your copies in $(WORK)/ (creates .venv on first use)"
	@echo "                SOLUTIONS=hide: without the solutions folder; LAB_ARGS=...: JupyterLab options"
	@echo "make fresh LESSON=01  a fresh copy of one lesson in $(WORK)/ (yours is kept, renamed)"
	@echo "make test       run every test, notebook and nbval check (creates .venv on first use)"
	@echo "make test-fast  unit tests only (no notebook runs, slow, service, GPU or browser tests)"
	@echo "make test-lessons  the lesson notebooks under papermill and nbval"
	@echo "make test-slow / test-services / test-gpu  one tier each"
	@echo "make solutions  re-execute solutions/ in place, then regenerate notebooks/"
	@echo "make students   regenerate notebooks/ from solutions/"
	@echo "make bench      run the speed benchmarks in benchmarks/"

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	@test -x $(PY) || { echo "== Creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "== Installing the course into $(VENV): the versions pinned in requirements/lock.txt"
	@echo "   (PyTorch CPU, SciPy, scikit-learn, JupyterLab, Playwright, ...): about 0.5 GB to download,"
	@echo "   2.1 GB on disk, about 5 minutes the first time on a two-core laptop; later runs skip this step."
	$(PY) -m pip install --disable-pip-version-check -c requirements/lock.txt -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	@touch $@

$(LAB_SETTINGS): tools/lab_overrides.json | $(STAMP)
	@mkdir -p $(dir $@)
	@cp $< $@

lab: $(STAMP) $(LAB_SETTINGS)
	@mkdir -p $(WORK)
	@for f in notebooks/[0-9][0-9]_*.ipynb; do n=$$(basename $$f); \
	  if [ ! -e "$(WORK)/$$n" ]; then cp "$$f" "$(WORK)/$$n"; echo "== New lesson in your folder: $(WORK)/$$n"; fi; done
	@if [ -d "$(WORK)/solutions" ]; then chmod -R u+w "$(WORK)/solutions" && rm -rf "$(WORK)/solutions"; fi
	@if [ "$(SOLUTIONS)" != hide ]; then mkdir -p "$(WORK)/solutions" && \
	  cp solutions/[0-9][0-9]_*.ipynb "$(WORK)/solutions/" && chmod -R a-w "$(WORK)/solutions"; fi
	@echo "== Your lessons: $(WORK)/ (yours; git ignores them and course updates never overwrite them)."
	@if [ "$(SOLUTIONS)" != hide ]; then echo "   Solutions, read-only: $(WORK)/solutions/ (refreshed at each start)."; fi
	@echo "   A fresh copy of one lesson after a course update: make fresh LESSON=01"
	$(VENV)/bin/jupyter lab --notebook-dir=$(WORK) $(LAB_ARGS)

fresh:
	@case "$(LESSON)" in [0-9][0-9]) ;; *) echo "usage: make fresh LESSON=01  (two digits)"; exit 2;; esac
	@set -e; found=; mkdir -p "$(WORK)"; for f in notebooks/$(LESSON)_*.ipynb; do [ -e "$$f" ] || continue; \
	  found=1; n=$$(basename $$f); \
	  if [ -e "$(WORK)/$$n" ]; then old="$(WORK)/$${n%.ipynb}-old-$$(date +%Y%m%d-%H%M%S).ipynb"; \
	    mv "$(WORK)/$$n" "$$old"; echo "== Your copy is kept as $$old"; fi; \
	  cp "$$f" "$(WORK)/$$n"; echo "== Fresh copy: $(WORK)/$$n"; done; \
	  [ -n "$$found" ] || { echo "no lesson notebooks/$(LESSON)_*.ipynb"; exit 2; }

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
