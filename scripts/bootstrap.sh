#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtual environment with congvan
# installed, and (for the tests) the Debian tools the tests check our output with.
# Usage: source scripts/bootstrap.sh [test]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CONGVAN_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "congvan needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: $*" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# Each argument is TOOL:PACKAGE; the package is installed when the tool is not on the PATH.
install_missing_tools() {
    local missing=()
    for tool_and_package in "$@"; do
        command -v "${tool_and_package%%:*}" >/dev/null 2>&1 || missing+=("${tool_and_package##*:}")
    done
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv  # Debian's python3 ships venv without ensurepip
        "$PYTHON" -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "test" ]; then
    # chromium: Debian's browser, driven by Playwright in the end-to-end tests (Playwright's
    # own browser download is never used).
    install_missing_tools openssl:openssl age:age swaks:swaks oathtool:oathtool \
        pg_isready:postgresql-client chromium:chromium \
        pdfsig:poppler-utils
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
else
    "$VENV/bin/python" -m pip install -q -e "$ROOT"
fi
export PATH="$VENV/bin:$PATH"
