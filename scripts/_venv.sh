# Sourced by scripts/dev and scripts/test: make .venv exist and hold the project with the
# extras named in $EXTRAS, reinstalling only when pyproject.toml has changed.
# TODO_VENV names another environment (CI's second pass runs the suite in a fresh one, on the
# newest releases that pyproject.toml's ranges allow).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${TODO_VENV:-"$ROOT/.venv"}

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "todo-service needs Python 3.11 or newer (python3.11, python3.12 or python3.13 on PATH)" >&2
  exit 2
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$(find_python)" -m venv "$VENV"
  fi
  local stamp
  stamp="$VENV/.installed-$EXTRAS-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "installing todo-service[$EXTRAS] into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$EXTRAS]"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}
