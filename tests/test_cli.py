"""The `tsquant` front door: every subcommand answers --help with its tool's own help (the oracle
is `python -m <module> --help`), arguments reach the right tool, real runs against a test
database, and errors are one sentence with the documented exit code."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg
import pytest

from db import cli
from tests.conftest import _admin_url

ROOT = Path(__file__).resolve().parents[1]

# subcommand -> the `python -m` form it must be identical to
SAME_AS = {
    ("load", "candles"): ["loaders", "candles"],
    ("load", "taapi"): ["loaders", "taapi"],
    ("load", "dumps"): ["loaders", "dumps"],
    ("load", "synthetic"): ["loaders", "synthetic"],
    ("load", "trades"): ["loaders", "trades"],
    ("load", "quotes"): ["loaders", "quotes"],
    ("load", "ticker"): ["loaders", "ticker"],
    ("load", "capture"): ["loaders", "capture"],
    ("run",): ["loaders", "run"],
    ("rollups",): ["db.rollups"],
    ("indicators",): ["db.indicators"],
    ("integrity",): ["db.integrity"],
    ("api",): ["db.api"],
    ("health",): ["db.health"],
    ("backup",): ["db.backup", "backup"],
    ("backup", "prune"): ["db.backup", "prune"],
    ("restore",): ["db.backup", "restore"],
    ("db", "up"): ["db.cluster"],
    ("db", "migrate"): ["db.migrate"],
    ("dbt",): ["db.dbt_runner"],
    ("secrets",): ["models_py.secure_config"],
}

# the tools that moved out of loaders/ (issue 13): the old `python -m loaders.<tool>` names of
# existing cron lines run the new modules
MOVED = {"loaders.rollups": "db.rollups", "loaders.indicators": "db.indicators",
         "loaders.integrity": "db.integrity", "loaders.synthetic": "scripts.synthetic"}


def tsquant(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "db.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def python_m(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_pyproject_declares_the_console_script():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["tsquant"] == "db.cli:console"
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "pip install -q --no-deps -e ." in setup


def test_the_installed_command_runs_this_checkout():
    script = Path(sys.executable).parent / "tsquant"
    if not Path(sys.executable).is_relative_to(ROOT):
        pytest.skip(f"the interpreter's venv is not this checkout's ({sys.executable}); make setup installs it there")
    assert script.exists(), "make setup installs .venv/bin/tsquant"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(script), "--help"], cwd="/", capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and "commands:" in done.stdout, done.stderr
    where = subprocess.run([sys.executable, "-c", "import db; print(db.__file__)"], cwd="/", capture_output=True,
                           text=True, timeout=60, env=env)
    assert Path(where.stdout.strip()).resolve().is_relative_to(ROOT.resolve())


def test_top_level_help_lists_every_command():
    done = tsquant("--help")
    assert done.returncode == 0
    for name in ("load", "run", "rollups", "indicators", "dbt", "score", "dispatch", "backtest", "report", "api",
                 "watch", "backup", "restore", "health", "db", "maintenance"):
        assert f"\n  {name} " in done.stdout, name
    assert tsquant().returncode == 2  # no command: usage, exit 2


@pytest.mark.parametrize("args, module", list(SAME_AS.items()), ids=[" ".join(a) for a in SAME_AS])
def test_help_is_the_tools_own(args, module):
    ours, theirs = tsquant(*args, "--help"), python_m(*module, "--help")
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout and ours.stdout.strip()


@pytest.mark.parametrize("old, new", list(MOVED.items()))
def test_the_old_module_names_run_the_moved_tools(old, new):
    ours, theirs = python_m(old, "--help"), python_m(new, "--help")
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout and ours.stdout.startswith(f"usage: python -m {new}")
    bad, oracle = python_m(old, "--no-such-option"), python_m(new, "--no-such-option")
    assert bad.returncode == oracle.returncode == 2 and bad.stderr == oracle.stderr != ""


def test_loaders_holds_loaders_only():
    """loaders/ top level: the CLI, the capture import job and the aliases of the moved tools; every
    other tool lives in the folder of its job (DESIGN.md §11)."""
    top = {p.stem for p in (ROOT / "loaders").glob("*.py")} - {"__init__", "__main__"}
    assert top == {"cli", "binance_capture", *(m.split(".")[1] for m in MOVED)}
    for old in MOVED:
        body = (ROOT / "loaders" / f"{old.split('.')[1]}.py").read_text()
        assert "def " not in body and "class " not in body, f"{old} is an alias only"


@pytest.mark.parametrize("name", ["report", "watch", "maintenance", "backtest", "load", "db"])
def test_help_of_the_commands_tsquant_adds(name):
    done = tsquant(name, "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage:"), done.stderr
    assert "tsquant" in done.stdout.splitlines()[0]


@pytest.mark.parametrize("name, module", [("score", "models_py"), ("dispatch", "models_py.dispatcher")])
def test_score_and_dispatch_run_the_models_py_entry_points(name, module):
    done = tsquant(name, "--help")
    if cli._module_present(module):
        assert done.returncode == 0 and done.stdout.strip(), done.stderr
    else:
        assert done.returncode == 2
        assert done.stderr.strip() == (f"error: tsquant {name} runs python -m {module}, which this checkout does not "
                                       f"have yet ({cli.COMMANDS[name].arrives_with}); update the checkout and run "
                                       "make setup")


def test_routing_puts_the_implied_words_in_front():
    assert cli.route(["backup", "--dir", "x"]) == ("backup", ["backup", "--dir", "x"])
    assert cli.route(["backup", "prune", "--dry-run"]) == ("backup", ["prune", "--dry-run"])
    assert cli.route(["backup"]) == ("backup", ["backup"])
    assert cli.COMMANDS["restore"].prefix == ("restore",) and cli.COMMANDS["run"].prefix == ("run",)


@pytest.mark.parametrize("args, fragment", [
    (["nope"], "unknown command 'nope'"),
    (["load", "bananas"], "unknown dataset 'bananas'"),
    (["db", "explode"], "unknown db command 'explode'"),
    (["report", "--symbol", "X", "--timeframe", "1h", "--strategy", "s", "--from", "yesterday", "--to", "2024-01-01"],
     "not an ISO 8601 date or time"),
])
def test_usage_errors_are_one_sentence_and_exit_2(args, fragment):
    done = tsquant(*args)
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_real_runs_against_a_database(db_url, tmp_path):
    done = tsquant("db", "migrate", "--url", db_url, "--quiet")
    assert done.returncode == 0 and "0 applied" in done.stdout, done.stdout + done.stderr
    done = tsquant("load", "synthetic", "--instruments", "1", "--days", "1", "--start", "2024-08-01",
                   "--trades-per-day", "2000", "--load", "--quiet", "--url", db_url)
    assert done.returncode == 0, done.stderr
    done = tsquant("rollups", "--url", db_url)
    assert done.returncode == 0 and "rollups refreshed" in done.stdout, done.stderr
    done = tsquant("indicators", "--url", db_url, "add", "synthetic", "BTCUSDT", "1h", "rsi")
    assert done.returncode == 0, done.stderr
    done = tsquant("indicators", "--url", db_url, "refresh")
    assert done.returncode == 0 and "1 configurations" in done.stdout, done.stdout
    with psycopg.connect(db_url) as conn:
        trades = conn.execute("select count(*) from market.trades").fetchone()[0]
        bars = conn.execute("select count(*) from market.candles_1h").fetchone()[0]
        values = conn.execute("select count(*) from ta.indicator_values").fetchone()[0]
    assert trades > 1000 and bars == 24 and values == 24 - 14  # RSI(14): no value inside the lookback
    done = tsquant("health", "--url", db_url, "--json")
    assert done.returncode == (0 if json.loads(done.stdout)["status"] == "ok" else 1), done.stdout
    dump = tmp_path / "t.dump"
    done = tsquant("backup", "--file", str(dump), env={"DATABASE_URL": db_url})
    assert done.returncode == 0 and dump.exists(), done.stderr
    copy = f"tsq_cli_copy_{os.getpid()}"
    try:
        done = tsquant("restore", str(dump), "--database", copy, env={"DATABASE_URL": db_url})
        assert done.returncode == 0 and "every relation matches" in done.stdout, done.stdout + done.stderr
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{copy}" with (force)')


def test_backtest_calls_perf_backtest_or_says_it_is_missing(db_url):
    done = tsquant("backtest", "--strategy", "s", "--symbol", "BTC/USDT", "--timeframe", "1h",
                   "--from", "2024-08-01", "--to", "2024-08-02", "--url", db_url)
    with psycopg.connect(db_url) as conn:
        present = conn.execute("select exists (select from pg_proc where proname = 'backtest'"
                               " and pronamespace = 'perf'::regnamespace)").fetchone()[0]
    if present:
        assert done.returncode == 2 and "unknown instrument BTC/USDT" in done.stderr, done.stderr
    else:
        assert done.returncode == 2 and "perf.backtest is not in this database yet" in done.stderr, done.stderr


def test_db_url_prints_the_embedded_url():
    done = tsquant("db", "url")
    assert done.returncode == 0 and done.stdout.startswith("postgresql://"), done.stderr


def test_the_readme_and_docs_name_only_real_commands():
    """Every `tsquant <word>` in the README and docs/ is a command (or `load <dataset>`), and the
    README's command table lists every command."""
    texts = {str(p.relative_to(ROOT)): p.read_text() for p in [ROOT / "README.md", ROOT / "loaders" / "README.md",
                                              *sorted((ROOT / "docs").glob("*.md"))]}
    for name, text in texts.items():
        for word, dataset in re.findall(r"(?<![/\w.-])tsquant (\w[\w-]*)(?: (\w+))?", text):
            if word in ("runs", "is", "database"):  # prose ("tsquant runs the same schema …")
                continue
            assert word in cli.COMMANDS, f"{name}: tsquant {word} is not a command"
            if word == "load" and dataset:
                assert dataset in cli.LOAD_DATASETS, f"{name}: tsquant load {dataset} is not a dataset"
    readme = texts["README.md"]
    table = readme[readme.index("## The `tsquant` command"):readme.index("## How data flows")]
    assert not [c for c in cli.COMMANDS if f"tsquant {c}" not in table]
