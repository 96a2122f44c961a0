#!/usr/bin/env bash
# Upgrades met on purpose: resolve every dependency to its newest release into a scratch lock,
# install that lock into a venv of its own, and run what CI runs (ruff, mypy, the suite on
# SQLite and PostgreSQL) against it. All green: the new lock replaces requirements/ and the
# changed pins are printed. Anything red: requirements/ is left as it was, and what broke and
# which pins moved are printed. Extra arguments go to pytest (e.g. -x to stop early).
# CONGVAN_UPGRADE_DIR: where the scratch lock, venv and log go (default: a new temporary folder).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${CONGVAN_UPGRADE_DIR:-$(mktemp -d /tmp/congvan-upgrade.XXXXXX)}"
mkdir -p "$WORK/requirements"
cd "$ROOT"

echo "== resolving the newest releases into $WORK/requirements"
cp requirements/tools.in requirements/tools.txt "$WORK/requirements/"
python3 scripts/deps.py lock --upgrade --lock-dir "$WORK/requirements"
echo "== pins that move"
python3 scripts/deps.py diff requirements "$WORK/requirements" | tee "$WORK/pins.txt"

echo "== CI against them, in $WORK/venv (log: $WORK/ci.log)"
status=0
CONGVAN_VENV="$WORK/venv" CONGVAN_LOCK_DIR="$WORK/requirements" PYTEST_ADDOPTS="$*" \
    bash .ci/run >"$WORK/ci.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    echo "== the newest releases break congvan (exit $status); requirements/ is unchanged" >&2
    grep -E "^(FAILED|ERROR) |^=+ .*(passed|failed|error).* =+$|^Found [0-9]+ error|^error:" \
        "$WORK/ci.log" >&2 || tail -n 40 "$WORK/ci.log" >&2
    echo "whole log: $WORK/ci.log; pins tried: $WORK/pins.txt" >&2
    exit 1
fi
cp "$WORK/requirements/"{test.txt,run.txt,tools.txt} requirements/
echo "== all green: requirements/ now holds the newest releases; commit it"
