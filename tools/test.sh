#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages, a virtualenv with rb2ansible and its
# test extras) and runs every test. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-test-system-deps.sh
if ! python3 -m venv --help >/dev/null 2>&1; then
  apt-get install -y -qq python3-venv >/dev/null
fi

venv=${RB2A_TEST_VENV:-.venv-test}
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
# A real (non-editable) install: the tests use the console script and the packaged collection.
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps .
"$venv/bin/python" -m pip install -q ".[test]"

# Tools such as ansible-runner look for ansible-playbook on PATH.
export PATH="$PWD/$venv/bin:$PATH"
set +e
"$venv/bin/python" -m pytest -p no:cacheprovider "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "tools/test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit $status
