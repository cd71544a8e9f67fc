"""tsquant: one command for every job. Each subcommand hands its arguments to the tool that does
the job (`tsquant rollups --help` is `python -m db.rollups --help`), so cron lines, docs and
the `python -m …` forms stay interchangeable.

    tsquant load candles --exchange binance --symbol BTC/USDT --timeframe 1m --since 2024-08-01
    tsquant run --config config.yaml          every job of a config file
    tsquant rollups | indicators refresh | integrity | dbt build | maintenance
    tsquant score … | dispatch … | backtest --strategy … --symbol … --timeframe 1h --from … --to …
    tsquant report --symbol BTC/USDT --timeframe 1h --strategy rsi_reversion --from … --to …
    tsquant api [--host 127.0.0.1] [--port 8000] | watch | health
    tsquant backup [--dir backups/] | restore FILE --database NAME
    tsquant secrets keygen | create FILE | set FILE NAME | list FILE   (docs/security.md)
    tsquant db up|down|status|url|psql|migrate

Exit codes (docs/loaders.md): 0 done, 1 the run failed, 2 a usage or configuration error, 3 skipped
(another run holds the job's lock), 130 interrupted. Errors are one sentence on stderr.
"""

from __future__ import annotations

import importlib
import importlib.util
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass

from db.errors import EXIT_USAGE, UserError, run_main

PROG = "tsquant"


@dataclass(frozen=True)
class Command:
    """A subcommand: the module whose `main(argv)` does the job (or that runs as `python -m`),
    the arguments put in front of the user's, and one line of help."""

    module: str
    help: str
    prefix: tuple[str, ...] = ()
    as_script: bool = False  # run the module as `python -m module` (its own __main__ code)
    arrives_with: str = ""   # which work brings the module, for the error when it is missing


LOAD_DATASETS = {
    "candles": "exchange candles: backfill from --since, then incremental",
    "trades": "exchange trades: backfill from --since, then incremental",
    "quotes": "MT5 ticks (bid/ask) into market.quotes",
    "ticker": "24h ticker snapshots into market.ticker_snapshots",
    "dumps": "Binance public dump files (zip/CSV, path or URL)",
    "taapi": "taapi.io indicators into signals.raw_signals (key in KEY_TAAPI_IO, DRY_RUN=1)",
    "capture": "Binance WebSocket captures",
    "synthetic": "seeded synthetic trades (--load writes them)",
}

COMMANDS: dict[str, Command] = {
    "load": Command("loaders.cli", "load market data: " + ", ".join(LOAD_DATASETS)),
    "run": Command("loaders.cli", "run every job of a YAML config file (once, or --every SECONDS)", ("run",)),
    "rollups": Command("db.rollups", "bring the candle rollups and maintained indicators up to date"),
    "indicators": Command("db.indicators", "maintained indicators: refresh, list, add"),
    "integrity": Command("db.integrity", "data integrity report (gaps, duplicates, quarantine)"),
    "dbt": Command("db.dbt_runner", "dbt on the same database (e.g. tsquant dbt build)"),
    "score": Command("models_py", "ML scorer: train, evaluate, score (python -m models_py)",
                     as_script=True, arrives_with="the scorer of issue 12"),
    "dispatch": Command("models_py.dispatcher", "turn actionable signals into orders after the risk checks",
                        as_script=True, arrives_with="the dispatcher of issue 12"),
    "backtest": Command("db.cli", "run perf.backtest for a strategy over an instrument and time range"),
    "report": Command("db.report", "HTML report (+ PNG): candles, indicators, signals, equity, drawdown, metrics"),
    "api": Command("db.api.__main__", "read-only HTTP API (loopback unless --host), pages at /docs"),
    "watch": Command("db.watch", "live terminal table: latest price, 24h change, spread per instrument"),
    "health": Command("db.health", "database, jobs, rollups, indicators, risk state; exit 1 when stale"),
    "backup": Command("db.backup", "pg_dump backup with a manifest (also: prune, verify, basebackup, pitr-restore)"),
    "restore": Command("db.backup", "restore a dump into a new database and verify it", ("restore",)),
    "maintenance": Command("db.maintenance", "VACUUM ANALYZE, index maintenance, due policies (one cron entry)"),
    "secrets": Command("models_py.secure_config", "encrypted secrets file: keygen, create, set, unset, list, convert, rotate",
                       as_script=True),
    "db": Command("db.cluster", "the database: up, down, status, url, psql (embedded) and migrate"),
}

BACKUP_SUBCOMMANDS = ("backup", "restore", "verify", "prune", "basebackup", "pitr-restore")
DB_SUBCOMMANDS = ("up", "down", "status", "url", "psql", "migrate")


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} <command> [arguments]   ({PROG} <command> --help for its options)", "",
             __doc__.split("\n\n")[0].replace("\n", " "), "", "commands:"]
    lines += [f"  {name:<{width}}  {c.help}" for name, c in COMMANDS.items()]
    lines += ["", "\n".join(__doc__.split("\n\n")[1:]).rstrip()]
    return "\n".join(lines)


def _load_usage() -> str:
    width = max(map(len, LOAD_DATASETS))
    lines = [f"usage: {PROG} load <dataset> [options]   ({PROG} load <dataset> --help)", "", "datasets:"]
    lines += [f"  {name:<{width}}  {text}" for name, text in LOAD_DATASETS.items()]
    return "\n".join(lines)


def _module_present(name: str) -> bool:
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:  # a package: needs __main__
            return importlib.util.find_spec(f"{name}.__main__") is not None
        return spec is not None
    except ModuleNotFoundError:
        return False


def _run_script(module: str, argv: list[str]) -> int:
    """`python -m module argv…` in this process; its SystemExit becomes the exit code."""
    saved = sys.argv
    sys.argv = [f"{PROG}", *argv]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return _exit_code(exc)
    finally:
        sys.argv = saved
    return 0


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _call(main: Callable[[list[str] | None], int | None], argv: list[str]) -> int:
    """A tool's main(argv) under run_main; argparse's exits (--help, bad options) become codes."""
    try:
        return run_main(main, argv)
    except SystemExit as exc:
        return _exit_code(exc)


def delegate(name: str, argv: list[str]) -> int:
    command = COMMANDS[name]
    if command.as_script:
        if not _module_present(command.module):
            raise UserError(f"{PROG} {name} runs python -m {command.module}, which this checkout does not "
                            f"have yet ({command.arrives_with}); update the checkout and run make setup")
        return _run_script(command.module, [*command.prefix, *argv])
    module = importlib.import_module(command.module)
    return _call(module.main, [*command.prefix, *argv])


def route(argv: list[str]) -> tuple[str, list[str]]:
    """(command, arguments for its tool) after the subcommand-specific rewrites."""
    name, rest = argv[0], argv[1:]
    if name == "backup" and not (rest and rest[0] in BACKUP_SUBCOMMANDS):
        rest = ["backup", *rest]  # plain `tsquant backup [--dir …]` (and its --help) makes a dump
    return name, rest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else EXIT_USAGE
    name, rest = route(argv)
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}: one of {', '.join(COMMANDS)} ({PROG} --help)", file=sys.stderr)
        return EXIT_USAGE
    if name == "load":
        if not rest or rest[0] in ("-h", "--help"):
            print(_load_usage())
            return 0 if rest else EXIT_USAGE
        if rest[0] not in LOAD_DATASETS:
            print(f"error: unknown dataset {rest[0]!r}: one of {', '.join(LOAD_DATASETS)}", file=sys.stderr)
            return EXIT_USAGE
    if name == "db":
        return run_main(_db, rest)
    if name == "backtest":
        return _call(backtest_main, rest)
    return run_main(lambda a: delegate(name, a or []), rest)


def _db(argv: list[str] | None) -> int:
    argv = argv or []
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: {PROG} db <{'|'.join(DB_SUBCOMMANDS)}> [options]\n\n"
              "  up/down/status/url/psql  the embedded PostgreSQL (python -m db.cluster)\n"
              "  migrate                  apply db/ migrations, creating the database if needed (python -m db.migrate)")
        return 0 if argv else EXIT_USAGE
    if argv[0] not in DB_SUBCOMMANDS:
        raise UserError(f"unknown db command {argv[0]!r}: one of {', '.join(DB_SUBCOMMANDS)}")
    if argv[0] == "migrate":
        from db.migrate import main as migrate_main

        rest = argv[1:]
        return _call(migrate_main, rest if "--create-db" in rest or "--status" in rest else ["--create-db", *rest])
    from db.cluster import main as cluster_main

    return _call(cluster_main, argv)


# --------------------------------------------------------------------------------------------
# tsquant backtest: perf.backtest (SQL), called with the parameters it declares

BACKTEST_OPTIONS = {
    # option dest -> candidate parameter names of perf.backtest (without p_)
    "strategy": ("strategy", "strategy_name", "signal_source"),
    "timeframe": ("timeframe",),
    "start": ("start_time", "start", "from_time", "time_from"),
    "end": ("end_time", "end", "to_time", "time_to"),
    "init_cash": ("init_cash", "initial_cash"),
    "fees_bps": ("fees_bps", "fee_bps"),
    "slippage_bps": ("slippage_bps",),
    "sizing": ("sizing",),
    "size_value": ("size_value",),
    "stop_loss_pct": ("stop_loss_pct", "stop_loss"),
    "take_profit_pct": ("take_profit_pct", "take_profit"),
    "signal_relation": ("signal_relation", "signals"),
}


def backtest_main(argv: list[str] | None = None) -> int:
    import argparse

    from db.report import parse_time

    p = argparse.ArgumentParser(prog=f"{PROG} backtest", description=(
        "Backtest a strategy's signals in the database (perf.backtest): trades, equity curve and "
        "metrics are written to perf.* under a new run id, which is printed with its metrics."))
    p.add_argument("--strategy", required=True, help="strategy name (signal_source of bi.trading_signals)")
    p.add_argument("--symbol", required=True, help="e.g. BTC/USDT")
    p.add_argument("--exchange", help="needed when the symbol trades on several exchanges")
    p.add_argument("--timeframe", required=True, help="bar timeframe, e.g. 1h")
    p.add_argument("--from", dest="start", required=True, type=parse_time, help="first bar (ISO 8601, UTC)")
    p.add_argument("--to", dest="end", required=True, type=parse_time, help="end, exclusive (ISO 8601, UTC)")
    p.add_argument("--init-cash", type=float)
    p.add_argument("--fees-bps", type=float)
    p.add_argument("--slippage-bps", type=float)
    p.add_argument("--sizing", choices=("all_in", "fixed_fraction", "risk"))
    p.add_argument("--size-value", type=float)
    p.add_argument("--stop-loss-pct", type=float)
    p.add_argument("--take-profit-pct", type=float)
    p.add_argument("--signal-relation", help="relation to read signals from (default: the function's)")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = p.parse_args(argv)
    if args.end <= args.start:
        raise UserError("--to must be later than --from")
    from psycopg import sql

    from db.connection import connect
    from db.report import resolve_instrument

    with connect(args.url, autocommit=True) as conn:
        params = [r[0] for r in conn.execute(
            "select unnest(p.proargnames) from pg_catalog.pg_proc as p"
            " where p.oid = (select min(oid) from pg_catalog.pg_proc where proname = 'backtest'"
            " and pronamespace = 'perf'::regnamespace)").fetchall()]
        if not params:
            raise UserError("perf.backtest is not in this database yet (it arrives with issue 11): "
                            "update the checkout and run tsquant db migrate")
        instrument_id, exchange, symbol = resolve_instrument(conn, args.symbol, args.exchange)
        names = {n.removeprefix("p_"): n for n in params if n}
        values = {"instrument_id": instrument_id, "exchange": exchange, "symbol": symbol}
        for dest, candidates in BACKTEST_OPTIONS.items():
            values.update({c: getattr(args, dest) for c in candidates})
        chosen = {names[k]: v for k, v in values.items() if k in names and v is not None}
        call = sql.SQL("select perf.backtest({})").format(sql.SQL(", ").join(
            sql.SQL("{} => %s").format(sql.Identifier(k)) for k in chosen))
        result = conn.execute(call, list(chosen.values())).fetchone()[0]
        run_id = result if isinstance(result, int) else conn.execute(
            "select max(run_id) from perf.backtest_runs").fetchone()[0]
        print(f"backtest run {run_id}: {args.strategy} on {exchange} {symbol} {args.timeframe}, "
              f"{args.start:%Y-%m-%d %H:%M} to {args.end:%Y-%m-%d %H:%M} UTC")
        from db.report import metrics_rows

        for label, value in metrics_rows(conn, run_id):
            print(f"  {label:<24} {value}")
    return 0


def console() -> None:
    """The console script's entry point (pyproject.toml [project.scripts])."""
    sys.exit(main())


if __name__ == "__main__":
    console()
