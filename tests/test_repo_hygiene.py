"""The checkout tells the truth about itself (issue 9, item 14): `.PHONY` names exactly the
Makefile's targets, dbt's generated files are git-ignored, and every cron line of the rollups job
in the README and the docs has the same schedule."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_phony_lists_exactly_the_makefile_targets():
    text = (ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split())
    targets = set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", text, re.M))
    assert phony == targets, f"only in .PHONY: {sorted(phony - targets)}; not in .PHONY: {sorted(targets - phony)}"


def test_dbt_generated_files_are_ignored():
    paths = ["dbt_project/.user.yml", "dbt_project/target/manifest.json", "dbt_project/logs/dbt.log",
             ".user.yml"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert sorted(ignored) == sorted(paths)


def test_rollups_cron_cadence_is_the_same_everywhere():
    schedules = {}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in doc.read_text().splitlines():
            m = re.match(r"^((?:\S+\s+){5})cd \S+ && \S*(?:python -m loaders[ .]rollups|tsquant rollups)\b", line)
            if m:
                schedules.setdefault(" ".join(m.group(1).split()), []).append(doc.name)
    assert len(schedules) == 1, f"the rollups job is scheduled differently: {schedules}"
    (schedule,) = schedules
    prose = " ".join((ROOT / "docs" / "market-data.md").read_text().split())
    assert schedule == "* * * * *" and "run `tsquant rollups` every minute" in prose
