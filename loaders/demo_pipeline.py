"""The loader part of `make demo`, fully offline: real Binance captures plus fake exchanges on
127.0.0.1 (loaders/fakes) and taapi in DRY_RUN, all through the real loaders; then the rollups are
brought up to date and a few candles per timeframe are shown.

    from loaders.demo_pipeline import run_demo
    for line in run_demo(database_url()): print(line)

or `python -m loaders.demo_pipeline [--url URL]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

from loaders.core.config import Environment, ExchangeConfig, HttpSettings, TaapiConfig
from loaders.core.runs import JobLocked
from loaders.jobs.exchange import run_exchange_job
from loaders.jobs.report import SeriesResult, format_report
from loaders.jobs.taapi import run_taapi_job
from loaders.sources.binance_capture import bundled_capture_dir, bundled_captures

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CAPTURE_DIR = bundled_capture_dir()
CAPTURES = bundled_captures()
DEMO_MT5_KEY = "demo-bridge-key"          # the fake bridge's key (a real one comes from MT5_API_KEY)
SHOWN_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")


def _start_fakes():
    from loaders.fakes import MarketData
    from loaders.fakes.binance import make_binance
    from loaders.fakes.coinbase import make_coinbase
    from loaders.fakes.kraken import make_kraken
    from loaders.fakes.market import utc_us
    from loaders.fakes.mt5 import make_mt5

    end = utc_us("2024-08-02T00:00:30")     # one day of history, a forming candle at the end
    btc = MarketData(now_us=end, trades_per_minute=3)
    eth = MarketData(now_us=end, seed=11, start_price=3_200.0, trades_per_minute=3)
    eur = MarketData(now_us=end, seed=5, start_price=1.09, trades_per_minute=2)
    return {
        "binance": make_binance({"BTCUSDT": btc, "ETHUSDT": eth}).start(),
        "kraken": make_kraken({"XXBTZUSD": btc}).start(),
        "coinbase": make_coinbase({"BTC-USD": btc}).start(),
        "mt5": make_mt5({"EURUSD": eur}, api_key=DEMO_MT5_KEY, broker_offset_hours=2).start(),
    }


def _exchange_configs(fakes) -> list[tuple[ExchangeConfig, list[str]]]:
    fast = HttpSettings(timeout=5, retries=3, min_interval=0)
    since = 1_722_470_400_000_000             # 2024-08-01
    return [
        (ExchangeConfig("binance", fakes["binance"].url, ["BTC/USDT", "ETH/USDT"], ["1m", "1h"],
                        since=since, page_size=500, http=fast), ["candles", "ticker"]),
        (ExchangeConfig("kraken", fakes["kraken"].url, ["BTC/USD"], ["1m", "15m"], since=since, http=fast),
         ["candles", "trades", "ticker"]),
        (ExchangeConfig("coinbase", fakes["coinbase"].url, ["BTC/USD"], ["1m", "1h"], since=since, http=fast),
         ["candles", "trades", "ticker"]),
        (ExchangeConfig("mt5", fakes["mt5"].url, ["EURUSD"], ["1m"], since=since, http=fast,
                        options={"broker_utc_offset_hours": 2}), ["candles", "quotes"]),
    ]


def _load_captures(conn: psycopg.Connection, results: list[SeriesResult]) -> None:
    if not CAPTURES:
        return
    from loaders.binance_capture import import_files

    started = time.perf_counter()
    _, _, per = import_files(conn, CAPTURES, job="demo-binance-capture")
    for dataset, counts in per.items():
        results.append(SeriesResult("capture", "BTC+ETH", dataset, counts=counts,
                                    seconds=time.perf_counter() - started))


def _candle_samples(conn: psycopg.Connection) -> list[str]:
    lines = ["== a few candles per timeframe (market.candles_<tf>: the newest of each instrument)"]
    for tf in SHOWN_TIMEFRAMES:
        rows = conn.execute(
            f"select * from (select distinct on (c.instrument_id) i.exchange, i.symbol, c.open_time, c.open,"
            f" c.high, c.low, c.close, c.volume, c.source"
            f" from market.candles_{tf} as c join market.instruments as i using (instrument_id)"
            f" order by c.instrument_id, c.open_time desc) as newest order by 1, 2").fetchall()
        lines.append(f"-- {tf}")
        lines += [f"{ex:<9} {sym:<9} {t:%Y-%m-%d %H:%M} o {o:>10.6g} h {h:>10.6g} l {lo:>10.6g} "
                  f"c {c:>10.6g} v {v:>12.4f} ({src})" for ex, sym, t, o, h, lo, c, v, src in rows]
    return lines


def run_demo(conn_url: str) -> list[str]:
    """Run every loader offline against the bundled captures and the fake servers; return the
    collection report and candle samples as lines."""
    env = Environment(mt5_key=DEMO_MT5_KEY, dry_run=True)
    fakes = _start_fakes()
    results: list[SeriesResult] = []
    started = time.perf_counter()
    try:
        with psycopg.connect(conn_url, application_name="tsquant-demo") as conn:
            _load_captures(conn, results)
            for cfg, datasets in _exchange_configs(fakes):
                for dataset in datasets:
                    try:
                        run_exchange_job(conn, cfg, dataset, env, results=results)
                    except JobLocked as exc:
                        results.append(SeriesResult(cfg.name, "-", dataset, skipped=str(exc)))
            taapi = TaapiConfig(symbols=["BTC/USDT", "ETH/USDT"], intervals=["1h", "15m"])
            run_taapi_job(conn, taapi, env, job="demo-taapi", results=results)
            conn.autocommit = True
            conn.execute("call market.refresh_rollups()")
            lines = format_report(results, title="collection report (offline: captures, fake exchanges, taapi DRY_RUN)",
                                  elapsed=time.perf_counter() - started)
            if not CAPTURES:
                lines.append(f"note: no Binance captures found in {CAPTURE_DIR} (set TSQ_CAPTURE_DIR); "
                             "only the fake exchanges were loaded")
            return lines + ["rollups brought up to date"] + _candle_samples(conn)
    finally:
        for srv in fakes.values():
            srv.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders.demo_pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = parser.parse_args(argv)
    from db.connection import ConfigurationError, database_url

    try:
        for line in run_demo(args.url or database_url()):
            print(line)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
