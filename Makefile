# The two commands of the README. Both create .venv on first use and reuse it after.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.policybench-installed

.PHONY: bench test clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The default benchmark: ACT, SmolVLA and Diffusion on the so100 profile, 3 refill cycles
# each after 2 of warm-up. Diffusion runs
# 10 denoising steps here (its default is 100) so that the whole run fits in about 3 minutes
# on a 2-core CPU; pass BENCH_ARGS to change anything.
BENCH_ARGS ?= --refills 3 --set diffusion.num_inference_steps=10
bench: $(STAMP)
	$(VENV)/bin/policybench run $(BENCH_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)
