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

install_debian_packages() {
    local missing=()
    for tool_and_package in "$@"; do
        local tool="${tool_and_package%%:*}" package="${tool_and_package##*:}"
        command -v "$tool" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        install_debian_packages "false:python3-venv"
        "$PYTHON" -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "test" ]; then
    install_debian_packages openssl:openssl age:age swaks:swaks oathtool:oathtool psql:postgresql-client
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
else
    "$VENV/bin/python" -m pip install -q -e "$ROOT"
fi
export PATH="$VENV/bin:$PATH"
