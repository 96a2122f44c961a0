"""``congvan doctor --dir D``: one line per check, how to fix what is wrong, an exit code a
monitoring script can use (0 healthy or warnings only, 1 a problem, 2 settings that do not
load)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from config.cli import dir_option, run
from config.errors import ConfigError
from config.logging import configure_logging
from config.settings import load_settings
from office.doctor.findings import PROBLEM, WARNING, Finding

LABELS = {"ok": "OK", WARNING: "WARN", PROBLEM: "FAIL"}


def show(finding: Finding) -> None:
    click.echo(f"{LABELS[finding.status]:<4} {finding.check}: {finding.message}")
    if finding.remedy and finding.status != "ok":
        click.echo(f"     → {finding.remedy}")


def summary(findings: list[Finding]) -> str:
    problems = sum(finding.status == PROBLEM for finding in findings)
    warnings = sum(finding.status == WARNING for finding in findings)
    if not problems and not warnings:
        return f"all {len(findings)} checks passed"
    return f"{_count(problems, 'problem')}, {_count(warnings, 'warning')} in {len(findings)} checks"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@click.command()
@dir_option
def doctor(node_dir: Path) -> None:
    """Check this node: settings, keys, database, certificates, CRL, directory, peers, disk."""
    from office.doctor.checks import run_checks
    from office.doctor.local import settings_unusable

    try:
        settings = load_settings(node_dir)
    except ConfigError as error:
        show(settings_unusable(node_dir, error))
        sys.exit(2)
    configure_logging(settings.log, base_dir=settings.node_dir)
    findings = run(run_checks, settings)
    for finding in findings:
        show(finding)
    click.echo(summary(findings))
    sys.exit(1 if any(finding.status == PROBLEM for finding in findings) else 0)
