# verdicts — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install demo test services bench clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: install
	$(VENV)/bin/verdicts demo

services:
	bash scripts/ensure-services.sh
	bash scripts/ensure-browser.sh
	bash scripts/ensure-prism.sh

test: $(TEST_STAMP) services
	$(PY) -m pytest

bench: $(TEST_STAMP) services
	$(PY) bench/outbox.py
	$(PY) bench/detect.py
	$(PY) bench/ingest.py
	$(PY) bench/send.py
	$(PY) bench/webhook.py
	$(PY) bench/digest.py
	$(PY) bench/web.py

clean:
	rm -rf $(VENV) var tests/artifacts bench/results .pytest_cache
