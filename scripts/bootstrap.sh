#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtual environment with congvan
# installed, and (for the tests) the Debian tools the tests check our output with.
# Every Python package comes from the lock (requirements/, exact versions and hashes): the tests'
# lock for `test`, the node's otherwise; congvan itself is installed last, without dependencies.
# Usage: source scripts/bootstrap.sh [test]
# CONGVAN_VENV: the virtual environment (default .venv); CONGVAN_LOCK_DIR: another lock folder
# (scripts/upgrade-deps.sh tries a new lock through it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CONGVAN_VENV:-$ROOT/.venv}"
LOCK_DIR="${CONGVAN_LOCK_DIR:-$ROOT/requirements}"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "congvan needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
# A pyproject.toml whose dependencies changed after the lock was made stops here, with the fix.
"$PYTHON" "$ROOT/scripts/deps.py" check --lock-dir "$LOCK_DIR"

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
install_locked() {
    "$VENV/bin/python" -m pip install -q --require-hashes --no-deps -r "$LOCK_DIR/$1"
    # setuptools, the build backend, is in the lock: no isolated build fetching another one.
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
}

if [ "${1:-}" = "test" ]; then
    # chromium: Debian's browser, driven by Playwright in the end-to-end tests (Playwright's
    # own browser download is never used).
    install_missing_tools openssl:openssl age:age swaks:swaks oathtool:oathtool \
        pg_isready:postgresql-client chromium:chromium \
        pdfsig:poppler-utils
    # Dovecot, the IMAP server mail clients read the node's Maildir through
    # (tests/mailgw/test_imap_dovecot.py starts its own, without root). It is in /usr/sbin,
    # which a user's PATH may leave out: look for the file.
    [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] ||
        apt_install dovecot-core dovecot-imapd
    install_locked test.txt
else
    install_locked run.txt
fi
export PATH="$VENV/bin:$PATH"
