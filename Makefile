# Hall Desk (一厅通): `make run` opens the desk, `make test` runs the whole suite.
# Both work on a fresh Debian machine that has only Python, git and make.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages a fresh machine may lack: Qt's offscreen/xcb libraries, libpulse0 (QtTextToSpeech),
# poppler-utils (PDF checks in tests), chromium (status page tests).
DEB_PACKAGES := libegl1 libgl1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 libxkbcommon0 \
	libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libx11-xcb1 libpulse0 poppler-utils chromium

.PHONY: install system-deps run test lint bench clean postgres

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "system packages: all present"; exit 0; fi; \
	echo "system packages missing:$$missing"; \
	if [ "$$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else \
		echo "请以 root 身份安装这些系统包 / please install as root: apt-get install$$missing"; exit 1; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "不是 Debian/Ubuntu 系统，请手动安装 / not a Debian system, install by hand:$$missing"; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing \
		|| { echo "无法安装系统包 / could not install:$$missing"; exit 1; }

# The county database: start the local PostgreSQL cluster if it is installed and down.
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then \
			echo "starting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
		fi; \
	fi

# The first `make run` asks for the first admin's login and password (typed twice): on a trial machine that
# one person gets every role (DESK_ADMIN_ROLES), so the desk opens ready to register. A real hall adds its
# clerks, mediators and supervisors with `desk user add` or the window's 账户 > 用户管理.
run: install
	DESK_ADMIN_ROLES=admin,desk,mediator,supervisor $(VENV)/bin/desk init
	$(VENV)/bin/desk

test: install postgres
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check desk tests bench tools
	$(VENV)/bin/ruff format --check desk tests bench tools main.py
	$(VENV)/bin/mypy
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check desk tests bench tools
	$(VENV)/bin/ruff format --check desk tests bench tools main.py
	$(VENV)/bin/mypy

bench: install
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache
