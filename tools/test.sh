#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages, a virtualenv with rb2ansible and its test extras)
# and runs the tests. This is the README's test command and what CI runs.
#
#   tools/test.sh [PYTEST ARGS]              the newest ansible-core pip finds for python3, in .venv-test
#   tools/test.sh --core 2.20 [PYTEST ARGS]  the latest ansible-core 2.20.x, in .venv-test-2.20
#   tools/test.sh --ci                       CI: the full suite on the newest core, `-m localhost` on the others,
#                                            then the localhost and SSH integration tests with --fast (Mitogen)
set -euo pipefail
cd "$(dirname "$0")/.."

# The supported ansible-core minors, oldest first (pyproject.toml's range; tests/unit/test_versions.py checks),
# and the oldest controller Python each accepts.
CORES=(2.18 2.19 2.20 2.21)
declare -A CONTROLLER_PYTHON=([2.18]=3.11 [2.19]=3.11 [2.20]=3.12 [2.21]=3.12)

# Runs pytest with the given args in the virtualenv for core ("" for python3's newest); returns pytest's status.
test_under_core() (
  local core=$1
  shift
  local venv=${RB2A_TEST_VENV:-.venv-test}${core:+-$core}
  if [[ ! -x $venv/bin/python ]]; then
    local python=python3
    [[ -z $core ]] || python=$(bash tools/find-python.sh "${CONTROLLER_PYTHON[$core]}")
    "$python" -m venv "$venv"
  fi
  # A real (non-editable) install: the tests use the console script and the packaged collection.
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q --force-reinstall --no-deps .
  "$venv/bin/python" -m pip install -q ".[test]" ${core:+"ansible-core==$core.*"}

  # Tools such as ansible-runner look for ansible-playbook on PATH.
  export PATH="$PWD/$venv/bin:$PATH"
  set +e
  "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
  local status=$?
  set -e
  if [[ $status -eq 5 ]]; then
    echo "tools/test.sh: pytest collected no tests; that is a failure" >&2
    return 1
  fi
  return $status
)

# Every supported core, each in its own virtualenv, one after another (the lab's hosts and the machine's two
# cores are shared): the newest runs everything, the others the tests that need no lab host. Goes on after a
# failure so that one run shows every core's state.
test_every_core() {
  local failed=() newest=${CORES[-1]} core
  for core in "${CORES[@]}"; do
    local args=(-m localhost tests/unit tests/integration)
    [[ $core != "$newest" ]] || args=()
    echo "tools/test.sh: ansible-core $core: pytest ${args[*]:-(the full suite)}"
    local started=$SECONDS
    # A script of its own, so that `set -e` holds inside (it does not in a function called by `||`).
    bash tools/test.sh --core "$core" "${args[@]}" || failed+=("$core")
    echo "tools/test.sh: ansible-core $core: done in $((SECONDS - started)) s"
  done
  # Then the integration tests on localhost and the loopback SSH hosts (not the nspawn machines) with every
  # rb2ansible run under --fast (tests/conftest.py), once, under 2.19 (python3's newest core here; its venv is made).
  echo "tools/test.sh: ansible-core 2.19 --fast: pytest -m 'not machines' --fast tests/integration"
  local started=$SECONDS
  bash tools/test.sh --core 2.19 -m "not machines" --fast tests/integration || failed+=("2.19 (--fast)")
  echo "tools/test.sh: ansible-core 2.19 --fast: done in $((SECONDS - started)) s"
  if ((${#failed[@]})); then
    echo "tools/test.sh: failed under ansible-core ${failed[*]}" >&2
    return 1
  fi
}

bash tools/install-test-system-deps.sh
if ! python3 -m venv --help >/dev/null 2>&1; then
  apt-get install -y -qq python3-venv >/dev/null
fi

case ${1:-} in
  --ci) test_every_core ;;
  --core)
    if [[ -z ${CONTROLLER_PYTHON[${2:-}]:-} ]]; then
      echo "tools/test.sh: --core takes one of ${CORES[*]}" >&2
      exit 2
    fi
    test_under_core "$2" "${@:3}" ;;
  *) test_under_core "" "$@" ;;
esac
