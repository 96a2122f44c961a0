#!/usr/bin/env bash
# Set everything up and run the whole test suite.
# CONGVAN_TEST_DB=sqlite (default) or postgresql (the server at 127.0.0.1:5432, database test).
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh" test
cd "$ROOT"
if [ "${CONGVAN_TEST_DB:-sqlite}" = "postgresql" ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
status=0
# Three workers by default: the machines have two cores, and the tests wait on nodes, disks and
# sockets much of the time; CONGVAN_TEST_WORKERS=0 runs serially.
python -m pytest -n "${CONGVAN_TEST_WORKERS:-3}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
