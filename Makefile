# AidHub: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-integration lint format messages lock bench css clean

install: $(BIN)/.installed

$(BIN)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "AidHub needs Python 3.12 or newer, found " + sys.version.split()[0] + " (set PYTHON=/path/to/python3.12)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@# Static files gzipped into staticfiles/ and served from there, as in production (after
	@# editing one, run `make run` again: the server serves the collected copy).
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "AidHub is starting at http://$(HOST):$(PORT)/  (log in with a demo login above; Ctrl+C stops it)"
	@# The periodic work of celery beat (signing checkpoints, releasing claims...) beside the server.
	$(BIN)/python manage.py run_periodic & trap 'kill $$! 2>/dev/null' INT TERM EXIT; \
	WHITENOISE_USE_FINDERS=false $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite on SQLite with eager Celery: no server needed. Integration tests (real
# PostgreSQL, Redis and a Celery worker) are skipped here, with the reason shown; see test-integration.
# The end-to-end tests (tests/e2e) run in Debian's Chromium when /usr/bin/chromium is there.
test: install
	@if [ -x /usr/bin/chromium ]; then \
		echo "End-to-end tests: in /usr/bin/chromium; screenshots in test-artifacts/e2e/"; \
	else \
		echo "End-to-end tests (tests/e2e) are SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)"; \
	fi
	$(BIN)/python -m pytest -rs $(PYTEST_ARGS)

test-integration: install
	AIDHUB_INTEGRATION=1 \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/python -m pytest -rs tests/integration $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-extract translatable strings and compile the catalogues (needs GNU gettext).
messages: install
	for lang in ru ky kk uz tg; do \
		$(BIN)/python manage.py makemessages -l $$lang --no-location -i ".venv/*" -i "tests/*" -i "bench/*" -i "staticfiles/*"; \
	done
	$(BIN)/python manage.py compilemessages -i .venv

# Re-resolve pinned dependencies after editing pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.12 --universal -o requirements.lock

# Benchmarks print figures, never pass or fail; reports go to bench/results/ (see docs/scale.md).
# Needs PostgreSQL; seeds BENCH_DATABASE_URL with a month at crisis scale the first time.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/aidhub_scale
BENCH_ENTRIES ?= 1000000
bench: install
	$(BIN)/python bench/scale.py --entries $(BENCH_ENTRIES) --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python bench/pages.py --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python bench/reports.py --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python bench/ledger.py --entries $(BENCH_ENTRIES)

# static/css/site.css, inlined in every page: Bootstrap and static/css/aidhub.css trimmed by
# PurgeCSS (purgecss.config.cjs) to the rules the templates and scripts use. Run it after using
# a Bootstrap class no template used before, and commit the result; run and test never need it.
css: node_modules/.bin/purgecss
	rm -rf .css-build && mkdir .css-build
	cat static/vendor/bootstrap/bootstrap.min.css static/css/aidhub.css > .css-build/site.css
	npx --no-install purgecss --config purgecss.config.cjs --css .css-build/site.css --output .css-build/out/
	{ echo '/* Made by `make css` from Bootstrap and aidhub.css: edit those, not this. */'; \
	  sed '1s/^@charset "UTF-8";//' .css-build/out/site.css; } > static/css/site.css
	rm -rf .css-build
	@gzip -9c static/css/site.css | wc -c | xargs printf 'static/css/site.css: %s bytes gzipped\n'

node_modules/.bin/purgecss: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) staticfiles .pytest-worker.log
