# One command to a running site (`make run`), one to the whole suite (`make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := elearn

.PHONY: run services test test-fast lint sysdeps browserdeps assets install clean bench translations i18n-update

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

# Message catalogues: msgids are the Chinese interface text; English is a translation, compiled here (only
# when the .po changed, so that test runs side by side never rewrite a catalogue the other is reading).
MO := elearn/translations/en/LC_MESSAGES/messages.mo
$(MO): elearn/translations/en/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -d elearn/translations

translations: $(MO)

# After changing interface text: refresh the catalogue, then translate the new entries in the .po file.
i18n-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o elearn/translations/messages.pot .
	$(BIN)/pybabel update -i elearn/translations/messages.pot -d elearn/translations --no-fuzzy-matching

# ffmpeg comes from Debian's package; installed only when missing. Redis too (the tests start their own
# server: shared rate limits across web nodes; ELEARN_REDIS_URL in production).
sysdeps:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  echo "installing ffmpeg from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; }
	@command -v redis-server >/dev/null || { \
	  echo "installing redis-server from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@# Certificates embed a subset of WenQuanYi Zen Hei: TrueType outlines (reportlab cannot embed the CFF of Noto CJK).
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || { \
	  echo "installing fonts-wqy-zenhei from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; }
	@# nginx: the tests of the scale-out stack (tests/stack) start one in front of two web nodes (deploy/nginx).
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  echo "installing nginx from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

# Chromium (Debian) for the browser tests; Playwright drives it, it never downloads its own.
browserdeps:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Front-end packages from the npm registry, pinned by package-lock.json: hls.js, copied into static/vendor for
# the player; and, for the browser tests only (never served), axe-core (tests/browser reads
# node_modules/axe-core/axe.min.js) and Lighthouse (its CLI runs Debian's Chromium, never a browser of its own).
NPM_STAMP := node_modules/.elearn-installed
$(NPM_STAMP): package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent
	touch $@

static/vendor/hls.min.js: $(NPM_STAMP)
	mkdir -p static/vendor
	cp node_modules/hls.js/dist/hls.min.js static/vendor/hls.min.js

assets: static/vendor/hls.min.js $(NPM_STAMP)
	@test -f node_modules/axe-core/axe.min.js || { echo "axe-core missing from node_modules"; exit 1; }

run: install sysdeps assets
	$(BIN)/elearn init-db
	$(BIN)/elearn demo --once
	$(BIN)/elearn serve --host $(HOST) --port $(PORT) --with-worker

# The test CAS server (django-mama-cas) needs a Django the app's venv does not have: a venv of its own.
CAS_VENV := .venv-services/mama-cas
$(CAS_VENV)/.installed: tests/providers/cas_server/requirements.txt
	$(PYTHON) -m venv $(CAS_VENV)
	$(CAS_VENV)/bin/pip install --quiet -r $<
	touch $@

# The test LRS (Ralph, for the xAPI tests) pins FastAPI and pydantic versions of its own: a venv of its own too.
LRS_VENV := .venv-services/lrs
$(LRS_VENV)/.installed: tests/xapi/lrs/requirements.txt
	$(PYTHON) -m venv $(LRS_VENV)
	$(LRS_VENV)/bin/pip install --quiet -r $<
	touch $@

services: $(CAS_VENV)/.installed $(LRS_VENV)/.installed

test: install sysdeps browserdeps assets services
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The gate before every commit and in CI: ruff (rules in pyproject.toml) over code, tests and benchmarks, and
# mypy (setup.cfg) over the three packages; zero findings. A package build that setuptools warns about fails.
lint: $(VENV)/.installed
	$(BIN)/ruff check elearn content media_pipeline tests benchmarks
	$(BIN)/mypy
	@$(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w "$$(mktemp -d)" . 2>&1 | tee /dev/stderr \
	  | grep -qi "warning" && { echo "package build prints warnings"; exit 1; } || true

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not slow and not browser" $(PYTEST_ARGS)

bench: install sysdeps
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/vendor instance/*.db
