"""The loader part of `make demo`, fully offline: real Binance captures plus fake exchanges on
127.0.0.1 (loaders/fakes) and taapi in DRY_RUN, all through the real loaders; then the rollups are
brought up to date, a few candles per timeframe are shown, and taapi's values next to ours
(bi.taapi_crosscheck).

    from scripts.demo_pipeline import run_demo
    for line in run_demo(database_url()): print(line)

or `python -m scripts.demo_pipeline [--url URL]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import psycopg

from loaders.core.config import Environment, ExchangeConfig, HttpSettings, TaapiConfig
from loaders.core.runs import JobLocked
from loaders.jobs.exchange import run_exchange_job
from loaders.jobs.report import SeriesResult, format_report
from loaders.jobs.taapi import run_taapi_job
from db.job_health import record_command_run
from loaders.sources.binance_capture import bundled_capture_dir, bundled_captures

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CAPTURE_DIR = bundled_capture_dir()
CAPTURES = bundled_captures()
DEMO_MT5_KEY = "demo-bridge-key"          # the fake bridge's key (a real one comes from MT5_API_KEY)
SHOWN_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")


# One clock for the whole demo, lined up with the bundled captures (Binance BTCUSDT/ETHUSDT,
# 2024-08-08 23:54:15 to 2024-08-09 00:05:05 UTC): the fake exchanges serve the two days before
# the captures' first trade (enough 1h bars for MACD's 33-bar lookback) and end at the captures'
# first prices, so the candles run on without a hole; taapi (DRY_RUN) is asked after the
# captures' last trade.
FAKE_START = "2024-08-06T23:54:00"
FAKE_NOW = "2024-08-08T23:54:15"          # the captures' first trade: a forming candle at 23:54
TAAPI_NOW = "2024-08-09T00:05:30"         # after the captures' last trade
CAPTURE_FIRST_PRICES = {"BTCUSDT": 61_837.63, "ETHUSDT": 2_683.80}


def _start_fakes():
    from loaders.fakes import MarketData
    from loaders.fakes.binance import make_binance
    from loaders.fakes.coinbase import make_coinbase
    from loaders.fakes.kraken import make_kraken
    from loaders.fakes.market import utc_us
    from loaders.fakes.mt5 import make_mt5

    day = {"start_us": utc_us(FAKE_START), "now_us": utc_us(FAKE_NOW), "trades_per_minute": 3}
    btc = MarketData(**day, start_price=61_200.0, end_price=CAPTURE_FIRST_PRICES["BTCUSDT"])
    eth = MarketData(**day, seed=11, start_price=2_650.0, end_price=CAPTURE_FIRST_PRICES["ETHUSDT"])
    # EUR/USD as FX quotes it: 5 decimals, ~1 pip a minute, a 1.2 pip spread
    eur = MarketData(**{**day, "trades_per_minute": 2}, seed=5, start_price=1.09215, decimals=5,
                     volatility=0.00008, spread=0.00012)
    return {
        "binance": make_binance({"BTCUSDT": btc, "ETHUSDT": eth}).start(),
        "kraken": make_kraken({"XXBTZUSD": btc}).start(),
        "coinbase": make_coinbase({"BTC-USD": btc}).start(),
        "mt5": make_mt5({"EURUSD": eur}, api_key=DEMO_MT5_KEY, broker_offset_hours=2).start(),
    }


def _exchange_configs(fakes) -> list[tuple[ExchangeConfig, list[str]]]:
    from loaders.fakes.market import utc_us

    fast = HttpSettings(timeout=5, retries=3, min_interval=0)
    since = utc_us(FAKE_START)
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


def format_price(value: float | None, decimals: int | None) -> str:
    """A price with the instrument's precision (market.price_decimals): 61602.02, 1.08512;
    without a known precision, the shortest text that round-trips (61602.02, 1.0851)."""
    if value is None:
        return "-"
    if decimals is None:
        return repr(float(value))
    return f"{float(value):.{decimals}f}"


def _candle_samples(conn: psycopg.Connection) -> list[str]:
    lines = ["== a few candles per timeframe (market.candles_<tf>: the newest of each instrument)"]
    for tf in SHOWN_TIMEFRAMES:
        rows = conn.execute(
            f"select * from (select distinct on (c.instrument_id) i.exchange, i.symbol, c.open_time, c.open,"
            f" c.high, c.low, c.close, c.volume, c.source, market.price_decimals(c.instrument_id)"
            f" from market.candles_{tf} as c join market.instruments as i using (instrument_id)"
            f" order by c.instrument_id, c.open_time desc) as newest order by 1, 2").fetchall()
        lines.append(f"-- {tf}")
        for ex, sym, t, o, h, lo, c, v, src, decimals in rows:
            o, h, lo, c = (format_price(p, decimals) for p in (o, h, lo, c))
            lines.append(f"{ex:<9} {sym:<9} {t:%Y-%m-%d %H:%M} o {o:>11} h {h:>11} l {lo:>11} "
                         f"c {c:>11} v {v:>12.4f} ({src})")
    return lines


def maintain_taapi_indicators(conn: psycopg.Connection, cfg: TaapiConfig) -> None:
    """ta.maintain every indicator taapi is asked for, on the same exchange, symbols and
    intervals and with the same parameters (ta._taapi_params), so bi.taapi_crosscheck can
    put the two side by side; then refresh them."""
    for symbol in cfg.symbols:
        for interval in cfg.intervals:
            for spec in cfg.indicators:
                conn.execute("select ta.maintain(%s, %s, %s, %s, ta._taapi_params(%s, %s::jsonb))",
                             (cfg.exchange, symbol, interval, spec.indicator, spec.indicator,
                              json.dumps(spec.params)))
    conn.execute("select ta.refresh_indicators()")


def _crosscheck(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select x.symbol, x.timeframe, x.open_time, x.indicator, x.output, x.ours, x.theirs, x.rel_diff,"
        " market.price_decimals(market.resolve_instrument(x.exchange, x.symbol))"
        " from bi.taapi_crosscheck as x order by x.symbol, x.timeframe desc, x.indicator, x.output").fetchall()
    lines = [f"== taapi vs ours (bi.taapi_crosscheck: {len(rows)} rows; DRY_RUN, so taapi's values are"
             " simulated from our stored candles)",
             f"{'symbol':<9} {'tf':<4} {'open_time':<16} {'indicator':<14} {'output':<11} {'ours':>12} "
             f"{'taapi':>12} {'rel_diff':>9}"]
    for sym, tf, t, indicator, output, ours, theirs, rel, decimals in rows:
        # price-like outputs with the price's precision, oscillators and spreads with 4 decimals
        places = decimals if indicator.split("_")[0] in ("ema", "sma", "bbands") else 4
        rel_text = "-" if rel is None else f"{rel:.1e}"
        lines.append(f"{sym:<9} {tf:<4} {t:%Y-%m-%d %H:%M} {indicator:<14} {output:<11} "
                     f"{format_price(ours, places):>12} {format_price(theirs, places):>12} {rel_text:>9}")
    return lines


def keep_demo_history(conn: psycopg.Connection) -> list[str]:
    """The demo never deletes its own data: its captures (August 2024) may be older than the raw
    market data horizon (ops.data_classes, 2 years), and the next retention run (cron in plain
    mode, a job in TimescaleDB mode) would delete them. Then the horizon of market_data is lifted
    in this database, and the line returned says so and how to set it back."""
    row = conn.execute(
        "select retain_for::text from ops.data_classes where data_class = 'market_data'"
        " and now() - retain_for > %s::timestamptz",
        (FAKE_START + "Z",),
    ).fetchone()
    if row is None:
        return []
    conn.execute("update ops.data_classes set retain_for = null where data_class = 'market_data'")
    conn.commit()
    return [f"retention: the demo's data (from {FAKE_START[:10]}) is older than the {row[0]} horizon of raw "
            "market data, so this database now keeps market_data forever (set it back: update "
            f"ops.data_classes set retain_for = interval '{row[0]}' where data_class = 'market_data')"]


def run_demo(conn_url: str) -> list[str]:
    """Run every loader offline against the bundled captures and the fake servers; return the
    collection report, the taapi cross-check and candle samples as lines."""
    from loaders.fakes.market import utc_us

    env = Environment(mt5_key=DEMO_MT5_KEY, dry_run=True)
    fakes = _start_fakes()
    results: list[SeriesResult] = []
    started = time.perf_counter()
    try:
        with psycopg.connect(conn_url, application_name="tsquant-demo") as conn:
            kept = keep_demo_history(conn)
            _load_captures(conn, results)
            for cfg, datasets in _exchange_configs(fakes):
                for dataset in datasets:
                    try:
                        run_exchange_job(conn, cfg, dataset, env, results=results)
                    except JobLocked as exc:
                        results.append(SeriesResult(cfg.name, "-", dataset, skipped=str(exc)))
            conn.autocommit = True
            rollups_started = conn.execute("select clock_timestamp()").fetchone()[0]
            conn.execute("call market.refresh_rollups()")
            # what the rollups cron command does, so ops.job_health shows it ran
            record_command_run(conn, "rollups", rollups_started)
            # taapi in DRY_RUN computes from the stored candles: after the rollups, at the demo's clock
            taapi = TaapiConfig(symbols=["BTC/USDT", "ETH/USDT"], intervals=["1h", "15m"])
            maintain_taapi_indicators(conn, taapi)
            run_taapi_job(conn, taapi, env, job="demo-taapi", results=results, now_us=utc_us(TAAPI_NOW))
            lines = format_report(results, title="collection report (offline: captures, fake exchanges, taapi DRY_RUN)",
                                  elapsed=time.perf_counter() - started)
            if not CAPTURES:
                lines.append(f"note: no Binance captures found in {CAPTURE_DIR} (set TSQ_CAPTURE_DIR); "
                             "only the fake exchanges were loaded")
            return kept + lines + ["rollups brought up to date"] + _candle_samples(conn) + _crosscheck(conn)
    finally:
        for srv in fakes.values():
            srv.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo_pipeline", description=__doc__.split("\n\n")[0])
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
