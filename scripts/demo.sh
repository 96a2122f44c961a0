#!/usr/bin/env bash
# Set everything up and start the three-node demo network (SQLite), until Ctrl-C.
# Usage: scripts/demo.sh [DIR] [BASE_PORT]      (default: ./demo and 8400)
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
exec congvan demo --dir "${1:-$ROOT/demo}" --base-port "${2:-8400}"
