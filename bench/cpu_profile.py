"""Run a Python script under cProfile timed by the CPU its main thread uses.

``python -m bench.cpu_profile OUT SCRIPT [ARGS...]``. cProfile's default clock is the wall
clock, and on a shared machine that also counts the time the process waited for a CPU (a
``send`` of a few hundred bytes showed a millisecond): ``time.thread_time`` counts only what
the event loop's thread ran. Each reading of it is a system call, which the profile adds to
every function alike; compare shares, not absolute times.
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, script, *arguments = sys.argv[1:]
    sys.argv = [script, *arguments]
    profiler = cProfile.Profile(time.thread_time)
    try:
        profiler.runcall(runpy.run_path, script, run_name="__main__")
    finally:
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
