# meterlink — every developer and CI entry point.
# `make run` and `make test` are the two set-up commands: both create .venv first.

VENV     := .venv
PY       := $(VENV)/bin/python
MICROPY  := $(VENV)/bin/micropython
STAMP    := $(VENV)/.installed
CONFIG   ?= tools/run-config.json
BOARD    ?= esp32-devkit
PORT     ?=

.PHONY: venv test run bench mpy deploy console flash capture typecheck clean help

venv: $(STAMP)

$(STAMP): requirements-dev.txt requirements-typings.txt tools/install_umqtt.py
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --upgrade --target $(VENV)/typings -r requirements-typings.txt
	$(PY) tools/install_umqtt.py
	touch $(STAMP)

test: venv
	$(PY) -m pytest -q host_tests

run: venv
	$(PY) tools/run_local.py --config $(CONFIG)

bench: venv
	$(PY) tools/bench.py

typecheck: venv
	$(PY) tools/typecheck.py

mpy: venv
	$(PY) tools/deploy.py mpy --board $(BOARD)

deploy: venv
	$(PY) tools/deploy.py deploy --board $(BOARD) --port "$(PORT)" $(if $(DRY_RUN),--dry-run) $(if $(DEPLOY_CONFIG),--config $(DEPLOY_CONFIG))

.PHONY: romfs
romfs: venv
	$(PY) tools/romfs.py --board $(BOARD)

console: venv
	$(PY) tools/deploy.py console --port "$(PORT)"

flash: venv
	$(PY) tools/deploy.py flash --board $(BOARD) --port "$(PORT)" --firmware "$(FIRMWARE)"

capture: venv
	$(PY) tools/deploy.py capture --port "$(PORT)" $(if $(OUT),--out $(OUT)) $(if $(BAUD),--baud $(BAUD)) $(if $(PARITY),--parity $(PARITY)) $(if $(BITS),--bits $(BITS)) $(if $(SECONDS),--seconds $(SECONDS))

clean:
	rm -rf build .pytest_cache .hypothesis

# The targets and their options, from the README's table (one place to keep them).
help:
	@sed -n '/<!-- section: development -->/,/<!-- \/section: development/p' README.md | grep '^| `make' | \
		sed -e 's/^| `//' -e 's/` | /\n    /' -e 's/ |$$//'
