# The README's commands. Each creates its virtual environment on first use and reuses it after.
#
#   make bench / make test        the newest LeRobot: a Python >= 3.12 found on this machine
#                                 (python3.12, python3.13, or one that pyenv installed), else python3
#   make test-fast                the unit tests that build no LeRobot policy, while you work
#   make lint                     ruff (checks and format), mypy (strict on the settings and results modules) and
#                                 lint-imports (the layers)
#   make test-lerobot044          the oldest supported LeRobot, 0.4.4, on Python 3.10/3.11
#
# PYTHON=... overrides the interpreter of `make bench` / `make test`; PYTHON_OLD=... that of
# `make test-lerobot044`.
newest_python = $(firstword $(foreach p,$(1),$(shell $(p) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && echo $(p))))
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
CANDIDATES := python3.12 python3.13 $(sort $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3)) $(sort $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3))
PYTHON ?= $(or $(call newest_python,$(CANDIDATES)),python3)
old_python = $(firstword $(foreach p,$(1),$(shell $(p) -c 'import sys; assert (3, 10) <= sys.version_info < (3, 12)' >/dev/null 2>&1 && echo $(p))))
OLD_CANDIDATES := python3.11 python3 python3.10 $(sort $(wildcard $(PYENV_ROOT)/versions/3.11*/bin/python3)) $(sort $(wildcard $(PYENV_ROOT)/versions/3.10*/bin/python3))
PYTHON_OLD ?= $(or $(call old_python,$(OLD_CANDIDATES)),python3.11)

VENV := .venv
VENV_OLD := .venv-lerobot044

.PHONY: bench test test-fast lint test-lerobot044 clean-venv

$(VENV)/.policybench-installed: pyproject.toml Makefile
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test,runtimes,lint,cluster,groot,wallx]"
	touch $@

$(VENV_OLD)/.policybench-installed: pyproject.toml Makefile
	test -x $(VENV_OLD)/bin/python || $(PYTHON_OLD) -m venv $(VENV_OLD)
	$(VENV_OLD)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_OLD)/bin/python -m pip install --quiet -e ".[test,runtimes,cluster]"
	touch $@

# The default benchmark: ACT, SmolVLA and Diffusion on the so100 profile, 6 refill cycles
# each after 2 of warm-up, Diffusion at 10 denoising steps (its default is 100) so that the
# whole run takes a few minutes on a 2-core CPU; pass BENCH_ARGS to change anything.
BENCH_ARGS ?= --refills 6 --set diffusion.num_inference_steps=10
bench: $(VENV)/.policybench-installed
	$(VENV)/bin/policybench run $(BENCH_ARGS)

test: $(VENV)/.policybench-installed
	$(VENV)/bin/python -m pytest -q

# Tests marked slow build real LeRobot policies (tests/conftest.py fails one that builds without the mark).
test-fast: $(VENV)/.policybench-installed
	$(VENV)/bin/python -m pytest -q -m "not slow" tests/unit

lint: $(VENV)/.policybench-installed
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/ruff format --check src tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-lerobot044: $(VENV_OLD)/.policybench-installed
	$(VENV_OLD)/bin/python -m pytest -q

clean-venv:
	rm -rf $(VENV) $(VENV_OLD)
