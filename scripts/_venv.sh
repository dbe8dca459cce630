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
