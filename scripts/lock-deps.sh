#!/usr/bin/env bash
# Refresh the lock (requirements/) after a change to pyproject.toml's dependencies: pins that
# still fit stay as they are, new requirements get the newest release that fits.
# To move every pin to the newest releases, use scripts/upgrade-deps.sh, which tests them first.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/deps.py lock "$@"
python3 scripts/deps.py check
echo "requirements/ refreshed: run scripts/test.sh, then commit requirements/ with pyproject.toml"
