# One-line wrappers; the scripts say what each step does and why.
PYTHON ?= python3

.PHONY: install run test lint format bench messages

install:
	PYTHON=$(PYTHON) bash scripts/install.sh

run: install
	bash scripts/run.sh

test: install
	bash scripts/test.sh

lint: install
	.venv/bin/ruff format --check . && .venv/bin/ruff check . && .venv/bin/lint-imports && .venv/bin/mypy

format: install
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench: install
	bash scripts/bench.sh

messages: install
	DEBUG=1 .venv/bin/python manage.py makemessages -l ru -l en --no-obsolete -i ".venv/*" -i "bench/*" -i "tests/*" -i "staticfiles/*" && DEBUG=1 .venv/bin/python manage.py compilemessages -i ".venv"
