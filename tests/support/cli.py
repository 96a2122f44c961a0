"""Run the installed ``congvan`` command as an operator would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from keys.passwords import TEST_HASHING_VARIABLE

CONGVAN = str(Path(sys.executable).with_name("congvan"))


@dataclass
class Cli:
    """Runs ``congvan``; every line it writes to stderr (its log) goes to ``log_path``."""

    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {key: value for key, value in os.environ.items() if not key.startswith("CONGVAN_")}
        fast = {TEST_HASHING_VARIABLE: os.environ.get(TEST_HASHING_VARIABLE, "")}
        return {**base, "CONGVAN_LOG_FORMAT": "json", **fast, **self.env, **(extra or {})}

    def __call__(
        self,
        *args: str | Path,
        stdin: str | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CONGVAN, *map(str, args)],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environment(env),
            timeout=timeout,
            check=False,
        )
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(
                f"congvan {' '.join(map(str, args))} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result
