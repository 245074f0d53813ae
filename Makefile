# The two commands: `make run` and `make test`. Everything else is for the curious.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --disable-pip-version-check --quiet
MATCHING := sentinel/screening/matching
COMPILED := $(MATCHING)/compiled.json

.PHONY: run test bench lint install install-dev browser wrk clean

run: $(VENV)/.installed $(COMPILED)
	$(PY) -m sentinel.runner

# The layers (pyproject: [tool.importlinter]) and lint are checked first: a backwards import
# between apps fails the run.
test: $(VENV)/.installed-dev $(COMPILED) browser
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup

bench: $(VENV)/.installed-dev $(COMPILED) wrk
	$(PY) -m bench.run

lint: $(VENV)/.installed-dev
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install $(PIP_FLAGS) -e '.[dev]'
	touch $(VENV)/.installed $@

# Name screening's matching modules compiled with Cython (sentinel/screening/compile.py), again
# whenever one changes. Without a C compiler the sources run as they are (slower, same results).
$(COMPILED): $(wildcard $(MATCHING)/*.py) | $(VENV)/.installed
	@$(PY) -m pip install $(PIP_FLAGS) 'cython>=3.1,<4' 'setuptools>=68' \
		&& $(PY) -m sentinel.screening.compile \
		|| { echo "Name screening runs uncompiled."; touch $@; }

# Browser tests drive Debian's Chromium; install it where we can (root with apt).
# Under CI=true the browser tests fail rather than skip when it is missing.
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Chromium for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "Could not install Chromium; browser tests will skip (or fail under CI=true)."; \
	fi

# The single-POST phase of the benchmark replays requests with wrk (Debian package).
wrk:
	@if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing wrk for the benchmark..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
			|| echo "Could not install wrk; make bench will stop before it starts."; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache $(COMPILED) $(MATCHING)/*.so
