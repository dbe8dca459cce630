# shellcheck shell=bash
# ensure_venv EXTRAS: create .venv with Python 3.11+ and install bylab (editable) with EXTRAS,
# again only when pyproject.toml changed since the last install.
ensure_venv() {
  local extras="$1" python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bylab needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
    exit 1
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.bylab-installed${extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "installing bylab${extras} into .venv…" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    .venv/bin/python -m pip install --quiet -e ".${extras}" >&2
    touch "$stamp"
  fi
}

# ensure_side_venv DIR REQUIREMENTS: a separate environment for a tool whose pins clash with
# bylab's (ckanext-dcat needs CKAN, which needs SQLAlchemy < 2.1), reinstalled when the
# requirements file changes.
ensure_side_venv() {
  local dir="$1" requirements="$2" python="${PYTHON:-python3}"
  local stamp="$dir/.installed"
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ]; then
    echo "installing $(basename "$dir") into $dir…" >&2
    "$dir/bin/python" -m pip install --quiet -r "$requirements" >&2
    touch "$stamp"
  fi
}

# ensure_frontend: the front-end packages (chart library) from the npm registry, pinned by
# frontend/package-lock.json, installed again only when the lock file changed. bylab serves them
# itself (never from a CDN). Installs Debian's nodejs/npm when the machine has none.
ensure_frontend() {
  [ -f frontend/package-lock.json ] || return 0
  if ! command -v npm >/dev/null; then
    echo "installing Debian's nodejs and npm…" >&2
    source scripts/_services.sh
    apt_install nodejs npm
  fi
  local stamp="frontend/node_modules/.bylab-installed"
  if [ ! -f "$stamp" ] || [ frontend/package-lock.json -nt "$stamp" ]; then
    echo "installing the front-end packages into frontend/node_modules…" >&2
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$stamp"
  fi
}

# ensure_pinned_without_deps REQUIREMENTS: packages installed into .venv without their own
# requirements, for a client library whose exact pins (stapy: requests==2.28.1,
# python-dateutil==2.8.2) clash with bylab's but which works with the newer versions; its real
# needs are in the test extra.
ensure_pinned_without_deps() {
  local requirements="$1" stamp=".venv/.$(basename "$1").installed"
  if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --no-deps -r "$requirements" >&2
    touch "$stamp"
  fi
}
