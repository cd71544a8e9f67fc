"""`python -m loaders <job>`: one command per loader job, cron-friendly.

    python -m loaders candles --exchange binance --symbol BTC/USDT --timeframe 1m --since 2024-08-01
    python -m loaders trades  --exchange kraken --symbol BTC/USD
    python -m loaders ticker  --exchange coinbase --symbol BTC/USD --every 300
    python -m loaders quotes  --exchange mt5 --symbol EURUSD          (MT5 ticks; key in MT5_API_KEY)
    python -m loaders dumps   ./BTCUSDT-1m-2024-08.zip https://data.binance.vision/...zip
    python -m loaders taapi   --interval 1h                           (key in KEY_TAAPI_IO, DRY_RUN=1)
    python -m loaders run     --config config.yaml [--once | --every 60]
    python -m loaders capture|rollups|integrity|synthetic ...         (the market data tools)

Exit codes: 0 done; 1 the run failed (the message says why; committed batches stay, the next run
continues after them); 2 a usage or configuration error; 3 skipped because another run of the
same job holds its lock. Errors are one sentence on stderr, never a traceback, never a secret.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg

from db.errors import EXIT_FAILED, EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, describe, run_main
from loaders.core.config import (
    DEFAULT_BASE_URLS, Config, ConfigError, Environment, ExchangeConfig, HttpSettings, TaapiConfig,
    indicator_spec, load_config, parse_time,
)
from loaders.core.http import Redactor
from loaders.core.runs import JobLocked
from loaders.jobs.report import Progress, SeriesResult, format_report
from loaders.sources.base import source_class

log = logging.getLogger("loaders")

DELEGATED = {
    "capture": ("loaders.binance_capture", "import Binance WebSocket captures (market data tool)"),
    "rollups": ("db.rollups", "bring the candle rollups up to date"),
    "integrity": ("db.integrity", "data integrity report"),
    "synthetic": ("scripts.synthetic", "generate (and load) seeded synthetic trades"),
}


# -- arguments ------------------------------------------------------------------------------------

def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    p.add_argument("--job", help="job name: its lock, run records and watermarks (default per command)")
    p.add_argument("--every", type=float, metavar="SECONDS",
                   help="scheduled mode: run again every SECONDS until stopped (cron is recommended instead)")
    p.add_argument("--quiet", action="store_true", help="no progress output and no report")
    p.add_argument("--refresh-rollups", action="store_true", help="bring the candle rollups up to date afterwards")


def _http_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-url", help="API base URL (default: the real API; a fake server in tests)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="deadline in seconds for each attempt of a request, whole answer included (default 10)")
    p.add_argument("--retries", type=int, default=5, help="attempts per request (default 5)")
    p.add_argument("--backoff", type=float, default=0.5,
                   help="first retry delay in seconds, doubled per attempt, full jitter (default 0.5)")
    p.add_argument("--min-interval", type=float, help="minimum seconds between requests (default per source)")
    p.add_argument("--config", help="YAML config file to take this exchange's settings from")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loaders", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="<job>", required=True)
    for dataset, help_text in (("candles", "exchange candles: backfill from --since, then incremental"),
                               ("trades", "exchange trades: backfill from --since, then incremental"),
                               ("quotes", "MT5 ticks (bid/ask) into market.quotes"),
                               ("ticker", "24h ticker snapshots into market.ticker_snapshots")):
        p = sub.add_parser(dataset, help=help_text, description=help_text)
        p.add_argument("--exchange", required=True, help="binance, kraken, coinbase or mt5")
        p.add_argument("--symbol", action="append", required=True,
                       help="pair, e.g. BTC/USDT (repeat or comma-separate for several)")
        if dataset == "candles":
            p.add_argument("--timeframe", action="append", default=None,
                           help="timeframe, e.g. 1m, 1h (repeat for several; default 1m)")
        p.add_argument("--since", help="first run only: start of the backfill (YYYY-MM-DD or ISO time, UTC)")
        if dataset != "ticker":
            p.add_argument("--until", help="end of the load, exclusive (YYYY-MM-DD or ISO time, UTC; default: now)")
            p.add_argument("--backfill", action="store_true",
                           help="load history from --since up to the first stored row (or --until), "
                                "whatever the watermark; the watermark is left as it is")
        p.add_argument("--page-size", type=int, help="rows per request (default: the API's maximum)")
        p.add_argument("--max-pages", type=int, help="stop each series after this many pages (the next run continues)")
        p.add_argument("--broker-offset", type=float, help="MT5: broker server time minus UTC, in hours")
        p.add_argument("--trades-endpoint", choices=("aggTrades", "trades"), help="Binance: which trade endpoint")
        _http_args(p)
        _common(p)
    p = sub.add_parser("dumps", help="import Binance public dump files (zip/CSV, path or URL)",
                       description="Import Binance data.binance.vision kline/trade dumps; .CHECKSUM verified when present.")
    p.add_argument("locations", nargs="+", help="files, directories or URLs")
    p.add_argument("--batch-size", type=int, default=50_000, help="rows per transaction (default 50000)")
    p.add_argument("--timeout", type=float, default=60.0, help="download timeout in seconds (default 60)")
    _common(p)
    p = sub.add_parser("taapi", help="taapi.io indicators into signals.raw_signals",
                       description="Fetch taapi.io indicators (key in KEY_TAAPI_IO; DRY_RUN=1 simulates).")
    p.add_argument("--interval", action="append", help="1m, 5m, 15m, 30m, 1h, 2h, 4h, 12h, 1d, 1w (repeatable)")
    p.add_argument("--symbol", action="append", help="e.g. BTC/USDT (default from the config, else BTC/USDT)")
    p.add_argument("--exchange", help="exchange taapi computes on (default binance)")
    p.add_argument("--indicator", action="append", help="indicator name, e.g. rsi (repeatable; default rsi ema sma macd bbands atr)")
    p.add_argument("--single", action="store_true", help="use the single-indicator endpoint instead of /bulk")
    p.add_argument("--plan", choices=("free", "basic", "pro", "expert"), help="taapi plan (sets the request rate)")
    _http_args(p)
    _common(p)
    p = sub.add_parser("run", help="run every job of a config file (once, or scheduled)",
                       description="Run the jobs a YAML config lists; each job takes its own lock.")
    p.add_argument("--config", required=True, help="YAML config file (see config.example.yaml)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run every job once and exit (default)")
    mode.add_argument("--every", type=float, metavar="SECONDS", help="loop: wake every SECONDS, run the jobs that are due")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    p.add_argument("--quiet", action="store_true", help="no progress output and no report")
    p.add_argument("--refresh-rollups", action="store_true", help="bring the candle rollups up to date after each pass")
    for name, (_, help_text) in DELEGATED.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


# -- building configs from arguments ------------------------------------------------------------

def _symbols(values: list[str] | None) -> list[str]:
    return [s.strip() for v in values or [] for s in v.split(",") if s.strip()]


def _http_settings(args: argparse.Namespace, base: HttpSettings | None = None) -> HttpSettings:
    base = base or HttpSettings()
    return HttpSettings(timeout=args.timeout if args.timeout != 10.0 else base.timeout,
                        retries=args.retries if args.retries != 5 else base.retries,
                        backoff=args.backoff if args.backoff != 0.5 else base.backoff,
                        max_retry_after=base.max_retry_after,
                        min_interval=args.min_interval if args.min_interval is not None else base.min_interval)


def exchange_config(args: argparse.Namespace) -> ExchangeConfig:
    name = args.exchange.lower()
    source_class(name)  # an unknown exchange is a usage error naming the known ones
    from_file = load_config(args.config).exchanges.get(name) if args.config else None
    base_url = args.base_url or (from_file.base_url if from_file else DEFAULT_BASE_URLS.get(name))
    if not base_url:
        raise ConfigError(f"{name} has no default address: pass --base-url (the MT5 bridge URL)")
    since = parse_time(args.since, "--since") if args.since else (from_file.since if from_file else None)
    until = parse_time(args.until, "--until") if getattr(args, "until", None) else None
    backfill = bool(getattr(args, "backfill", False))
    if backfill and since is None:
        raise ConfigError("--backfill needs --since (where the backfill starts)")
    if until is not None and since is not None and until <= since:
        raise ConfigError("--until must be after --since")
    options = dict(from_file.options) if from_file else {}
    if args.broker_offset is not None:
        options["broker_utc_offset_hours"] = args.broker_offset
    if args.trades_endpoint:
        options["trades_endpoint"] = args.trades_endpoint
    return ExchangeConfig(
        name=name, base_url=base_url, pairs=_symbols(args.symbol),
        timeframes=getattr(args, "timeframe", None) or (from_file.timeframes if from_file else ["1m"]),
        datasets=[args.command], page_size=args.page_size or (from_file.page_size if from_file else None),
        since=since, until=until, backfill=backfill,
        http=_http_settings(args, from_file.http if from_file else None), options=options,
        api_key_env=from_file.api_key_env if from_file else None,
    )


def taapi_config(args: argparse.Namespace) -> TaapiConfig:
    cfg = (load_config(args.config).taapi if args.config else None) or TaapiConfig()
    if args.symbol:
        cfg.symbols = _symbols(args.symbol)
    if args.exchange:
        cfg.exchange = args.exchange
    if args.indicator:
        cfg.indicators = [indicator_spec(i, "--indicator") for i in _symbols(args.indicator)]
    if args.single:
        cfg.bulk = False
    if args.plan:
        cfg.plan = args.plan
    if args.base_url:
        cfg.base_url = args.base_url
    cfg.http = _http_settings(args, cfg.http)
    return cfg


# -- running ---------------------------------------------------------------------------------------

JobFn = Callable[[psycopg.Connection, list[SeriesResult]], Any]


def _connect(url: str | None) -> psycopg.Connection:
    from db.connection import connect

    return connect(url, application_name="tsquant-loader")


def run_jobs(url: str | None, jobs: list[tuple[str, JobFn]], *, refresh_rollups: bool = False,
             quiet: bool = False) -> tuple[int, list[SeriesResult]]:
    """Run jobs one after another on one connection; a locked job is skipped, a failed one is
    reported and the others still run. Returns (exit code, results)."""
    results: list[SeriesResult] = []
    code = EXIT_OK
    skipped = 0
    started = time.perf_counter()
    with _connect(url) as conn:
        for name, fn in jobs:
            try:
                fn(conn, results)
            except JobLocked as exc:
                skipped += 1
                log.warning("skipped: %s", exc)
                print(f"skipped: {exc}", file=sys.stderr)
            except Exception as exc:
                # A usage/configuration error or a lost connection ends every job (main says
                # why); a job that failed is reported and the others still run.
                failed, text = classify(exc)
                if failed != EXIT_FAILED or isinstance(exc, psycopg.OperationalError) or conn.closed \
                        or conn.broken:
                    raise
                code = EXIT_FAILED
                print(f"error: {name}: {text}", file=sys.stderr)
        if refresh_rollups and not conn.closed:
            conn.autocommit = True
            conn.execute("call market.refresh_rollups()")
    if not quiet:
        print("\n".join(format_report(results, elapsed=time.perf_counter() - started)))
    if code == EXIT_OK and skipped and skipped == len(jobs):
        code = EXIT_SKIPPED
    return code, results


def _exchange_job(cfg: ExchangeConfig, dataset: str, env: Environment, args: argparse.Namespace,
                  progress: Progress) -> JobFn:
    from loaders.jobs.exchange import run_exchange_job

    return lambda conn, results: run_exchange_job(
        conn, cfg, dataset, env, job=getattr(args, "job", None), max_pages=getattr(args, "max_pages", None),
        progress=progress, results=results)


def _taapi_job(cfg: TaapiConfig, env: Environment, intervals: list[str] | None, job: str | None,
               progress: Progress) -> JobFn:
    from loaders.jobs.taapi import run_taapi_job

    return lambda conn, results: run_taapi_job(conn, cfg, env, intervals=intervals, job=job,
                                               progress=progress, results=results)


def _dumps_job(locations: list[str], job: str | None, batch: int, http: HttpSettings,
               progress: Progress) -> JobFn:
    from loaders.jobs.dumps import JOB, run_dump_job

    return lambda conn, results: run_dump_job(conn, locations, job=job or JOB, batch_rows=batch,
                                              http=http, progress=progress, results=results)


def config_jobs(cfg: Config, env: Environment, progress: Progress) -> list[tuple[str, str, JobFn]]:
    """(schedule key, job name, function) for every job a config file lists."""
    from loaders.jobs.exchange import default_job
    from loaders.jobs.taapi import default_job as taapi_job_name

    ns = argparse.Namespace(job=None, max_pages=None)
    out = [(dataset, default_job(name, dataset), _exchange_job(ex, dataset, env, ns, progress))
           for name, ex in cfg.exchanges.items() for dataset in ex.datasets]
    if cfg.taapi is not None:
        out.append(("taapi", taapi_job_name(cfg.taapi.intervals), _taapi_job(cfg.taapi, env, None, None, progress)))
    if cfg.dumps:
        out.append(("dumps", "binance-dumps", _dumps_job(cfg.dumps, None, 50_000, HttpSettings(timeout=60), progress)))
    return out


def command_jobs(args: argparse.Namespace, env: Environment, progress: Progress) -> list[tuple[str, JobFn]]:
    if args.command in ("candles", "trades", "quotes", "ticker"):
        cfg = exchange_config(args)
        return [(f"{cfg.name}-{args.command}", _exchange_job(cfg, args.command, env, args, progress))]
    if args.command == "taapi":
        from loaders.jobs.taapi import default_job

        cfg = taapi_config(args)
        name = args.job or default_job(args.interval or cfg.intervals)  # labels its errors, as for exchanges
        return [(name, _taapi_job(cfg, env, args.interval, args.job, progress))]
    if args.command == "dumps":
        if args.batch_size < 1:
            raise ConfigError("--batch-size must be a positive number of rows")
        return [("dumps", _dumps_job(args.locations, args.job, args.batch_size,
                                     HttpSettings(timeout=args.timeout), progress))]
    raise ConfigError(f"unknown command {args.command}")


def scheduled(every: float, one_pass: Callable[[], int]) -> int:
    """Run `one_pass` now and then every `every` seconds until SIGTERM/SIGINT."""
    stop = {"now": False}

    def request_stop(signum: int, frame: Any) -> None:
        stop["now"] = True
        log.info("stopping after this pass (signal %d)", signum)

    signal.signal(signal.SIGTERM, request_stop)
    code = EXIT_OK
    while not stop["now"]:
        started = time.monotonic()
        try:
            code = one_pass()
        except Exception as exc:
            code, text = classify(exc)
            if code == EXIT_USAGE:
                raise
            print(f"error: {text}", file=sys.stderr)
        deadline = started + every
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    return code


def run_config(args: argparse.Namespace, env: Environment, progress: Progress) -> int:
    cfg = load_config(args.config)
    jobs = config_jobs(cfg, env, progress)
    if not jobs:
        raise ConfigError(f"{args.config} lists no jobs (add exchanges, taapi or dumps)")
    if args.every is None:
        return run_jobs(args.url, [(n, f) for _, n, f in jobs], refresh_rollups=args.refresh_rollups,
                        quiet=args.quiet)[0]
    last_run: dict[str, float] = {}

    def one_pass() -> int:
        now = time.monotonic()
        due = [(n, f) for key, n, f in jobs if now - last_run.get(n, -1e18) >= cfg.schedule.get(key, args.every)]
        for n, _ in due:
            last_run[n] = now
        return run_jobs(args.url, due, refresh_rollups=args.refresh_rollups, quiet=args.quiet)[0] if due else EXIT_OK

    return scheduled(args.every, one_pass)


# -- errors ----------------------------------------------------------------------------------------

# Besides what db/errors.py classifies, any OSError or ValueError ending a job is a failed run.
RUN_ERRORS = (OSError, ValueError)
_REDACT = Redactor()


def classify(exc: BaseException) -> tuple[int, str]:
    """(exit code, one sentence) of an exception ending a job; raises it again when it is a bug."""
    described = describe(exc)
    if described is None and isinstance(exc, RUN_ERRORS) and not isinstance(exc, BrokenPipeError):
        described = EXIT_FAILED, " ".join(str(exc).split()) or type(exc).__name__
    if described is None:
        raise exc
    return described[0], _REDACT(described[1])


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        import importlib

        module = importlib.import_module(DELEGATED[argv[0]][0])
        return run_main(module.main, argv[1:])
    return run_main(_main, argv)


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    env = Environment.from_os()
    _REDACT.add(env.taapi_key)
    _REDACT.add(env.mt5_key)
    _setup_logging(args.quiet)
    progress = Progress(enabled=not args.quiet)
    try:
        if args.command == "run":
            return run_config(args, env, progress)
        jobs = command_jobs(args, env, progress)
        if args.every:
            return scheduled(args.every, lambda: run_jobs(args.url, jobs, refresh_rollups=args.refresh_rollups,
                                                          quiet=args.quiet)[0])
        return run_jobs(args.url, jobs, refresh_rollups=args.refresh_rollups, quiet=args.quiet)[0]
    except Exception as exc:
        code, text = classify(exc)
        print(f"error: {text}", file=sys.stderr)
        return code
