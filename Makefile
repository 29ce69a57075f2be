# zgc_space: the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench sample system clean

# Debian packages: headless Chromium for the real-browser map tests and a CJK font for
# printed maps. Installed through apt-get when run as root; otherwise say what is missing.
system:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  true; \
	elif [ "$$(id -u)" = "0" ]; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else \
	  echo "note: install Debian packages chromium and fonts-noto-cjk (needs root) for browser tests and printed maps"; \
	fi

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e ".[test,dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP) system
	$(VENV)/bin/zgc-space demo

test: $(STAMP) system
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check zgc_space tests benchmarks
	$(VENV)/bin/mypy zgc_space

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Rebuild sample_data/ from the seeded generator (the committed files are its output).
sample: $(STAMP)
	$(PY) -m zgc_space.datasets.sample sample_data

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
