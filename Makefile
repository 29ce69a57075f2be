# zgc_space: the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench sample system clean

# Debian packages: headless Chromium for the real-browser map tests, a CJK font for printed maps
# and Word documents, LibreOffice Writer (headless build) for the documents' PDF and poppler-utils to check those
# PDFs. Installed through apt-get when run as root; otherwise say what is missing.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libreoffice-writer-nogui poppler-utils
system:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
	    && command -v soffice >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1; then \
	  true; \
	elif [ "$$(id -u)" = "0" ]; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    $(SYSTEM_PACKAGES) >/dev/null; \
	else \
	  echo "note: install Debian packages $(SYSTEM_PACKAGES) (needs root) for browser tests, printed maps and PDF documents"; \
	fi

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e ".[test,dev,fast]"
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
