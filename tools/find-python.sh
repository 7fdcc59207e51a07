#!/usr/bin/env bash
# Prints an interpreter of at least Python MAJOR.MINOR that can make virtualenvs, installing one with uv when the
# machine has none. Why: ansible-core 2.20 and later need Python 3.12 on the controller, and Debian 12 ships 3.11.
# Looks at, in order: python3 and python3.N on PATH, pyenv's versions, uv's managed Pythons; then `uv python
# install` (uv comes from PyPI; the Python it installs is a download of uv's own, so that step needs the internet).
set -euo pipefail
want=${1:?usage: tools/find-python.sh MAJOR.MINOR}
cd "$(dirname "$0")/.."

fits() {
  "$1" -c "import sys, venv, ensurepip; sys.exit(sys.version_info[:2] < tuple(map(int, '$want'.split('.'))))" \
    >/dev/null 2>&1
}

found() {
  "$1" -c "import sys; print(sys.executable)"
  exit 0
}

# The oldest that fits first: the README's "which Python for which ansible-core" is what gets tested.
for name in python3 python3.11 python3.12 python3.13 python3.14; do
  if command -v "$name" >/dev/null && fits "$name"; then found "$name"; fi
done
for candidate in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3 2>/dev/null | sort -V); do
  if fits "$candidate"; then found "$candidate"; fi
done

tools_venv=.venv-tools
if ! command -v uv >/dev/null; then
  [[ -x $tools_venv/bin/uv ]] || { python3 -m venv "$tools_venv" && "$tools_venv/bin/pip" install -q uv; }
  PATH="$PWD/$tools_venv/bin:$PATH"
fi
if candidate=$(uv python find ">=$want" 2>/dev/null) && fits "$candidate"; then found "$candidate"; fi
echo "tools/find-python.sh: no Python >= $want here; installing one with uv" >&2
if ! uv python install "$want" >&2; then
  echo "tools/find-python.sh: could not install Python $want: install it (Debian 13's python3.13 and" \
       "python3.13-venv, pyenv, or uv) and put it on PATH" >&2
  exit 1
fi
found "$(uv python find "$want")"
