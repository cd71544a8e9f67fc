"""Replay every exchange dataset from the fake servers: backfill, incremental, forming candles,
gaps, quirks, ticker snapshots. Oracle: the fake's own deterministic market data."""

from __future__ import annotations

import psycopg
import pytest

from loaders.fakes.market import US
from tests.loaders.helpers import (
    close, expected_candles, expected_trades, last_run, run_cli, stored_candles, stored_trades,
)

SINCE = "2024-08-01"
FAST = ("--min-interval", "0", "--timeout", "2")


@pytest.mark.parametrize("exchange,symbol,fixture,fills_quiet", [
    ("binance", "BTC/USDT", "binance", True),
    ("kraken", "BTC/USD", "kraken", True),
    ("coinbase", "BTC/USD", "coinbase", False),
])
def test_candle_backfill_pages_through_history_and_never_stores_the_forming_candle(
        request, db_url, market, exchange, symbol, fixture, fills_quiet):
    srv = request.getfixturevalue(fixture)
    code = run_cli("candles", "--exchange", exchange, "--symbol", symbol, "--timeframe", "1m",
                   "--timeframe", "5m", "--since", SINCE, "--page-size", "40", "--base-url", srv.url,
                   "--url", db_url, "--quiet", *FAST)
    assert code == 0
    for tf, width in (("1m", 60), ("5m", 300)):
        stored = stored_candles(db_url, exchange, tf)
        assert close(stored, expected_candles(market, width, fill_quiet=fills_quiet))
        assert market.forming_open_us(width) not in {r[0] for r in stored}
    if exchange != "kraken":   # Kraken serves its whole (720-candle) history in one answer
        assert srv.count("/api/v3/klines" if exchange == "binance" else "/products/") > 2
    status, rows_in, loaded, quarantined, duplicate, error, _ = last_run(db_url, f"{exchange}-candles")
    assert (status, quarantined, duplicate, error) == ("succeeded", 0, 0, None)
    assert rows_in == loaded == len(expected_candles(market, 60, fill_quiet=fills_quiet)) + \
        len(expected_candles(market, 300, fill_quiet=fills_quiet))


@pytest.mark.parametrize("exchange,symbol,fixture", [
    ("binance", "BTC/USDT", "binance"), ("kraken", "BTC/USD", "kraken"), ("coinbase", "BTC/USD", "coinbase"),
])
def test_trade_backfill_then_incremental_run_loads_each_trade_once(request, db_url, market, exchange,
                                                                   symbol, fixture):
    srv = request.getfixturevalue(fixture)
    args = ("trades", "--exchange", exchange, "--symbol", symbol, "--since", SINCE, "--page-size", "100",
            "--base-url", srv.url, "--url", db_url, "--quiet", *FAST)
    assert run_cli(*args) == 0
    assert close(stored_trades(db_url, exchange), expected_trades(market))
    assert run_cli(*args) == 0          # incremental: starts from the watermark
    assert close(stored_trades(db_url, exchange), expected_trades(market))
    status, rows_in, loaded, *_ = last_run(db_url, f"{exchange}-trades")
    assert status == "succeeded" and loaded == 0


def test_binance_plain_trades_endpoint_starts_from_recent_trades_then_pages_by_id(db_url, binance, market):
    args = ("trades", "--exchange", "binance", "--symbol", "BTC/USDT", "--trades-endpoint", "trades",
            "--page-size", "100", "--since", SINCE, "--base-url", binance.url, "--url", db_url, "--quiet", *FAST)
    assert run_cli(*args) == 0
    assert close(stored_trades(db_url, "binance"), expected_trades(market)[-100:])


def test_incremental_candle_run_fetches_only_what_is_new(db_url, binance, market):
    args = ("candles", "--exchange", "binance", "--symbol", "BTCUSDT", "--since", SINCE, "--page-size", "50",
            "--base-url", binance.url, "--url", db_url, "--quiet", *FAST)
    assert run_cli(*args, "--max-pages", "2") == 0
    assert len(stored_candles(db_url, "binance", "1m")) == 100
    before = binance.count("/api/v3/klines")
    assert run_cli(*args) == 0
    assert close(stored_candles(db_url, "binance", "1m"), expected_candles(market, 60, fill_quiet=True))
    assert binance.count("/api/v3/klines") - before == 2      # 100 → 180: two pages, no re-reads
    first_new = [r for r in binance.requests if r.path == "/api/v3/klines"][before]
    assert int(first_new.query["startTime"]) * 1000 == market.start_us + 100 * 60 * US


@pytest.mark.parametrize("exchange,symbol,fixture", [
    ("binance", "BTC/USDT", "binance"), ("kraken", "BTC/USD", "kraken"), ("coinbase", "BTC/USD", "coinbase"),
])
def test_ticker_snapshot_is_stored_once_per_exchange_time(request, db_url, market, exchange, symbol, fixture):
    srv = request.getfixturevalue(fixture)
    args = ("ticker", "--exchange", exchange, "--symbol", symbol, "--base-url", srv.url, "--url", db_url,
            "--quiet", *FAST)
    assert run_cli(*args) == 0 and run_cli(*args) == 0
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select extract(epoch from time)::bigint, last, bid, ask from market.ticker_snapshots").fetchall()
    assert len(rows) == 1
    t, last, bid, ask = rows[0]
    assert t == market.now_us // US
    assert last == pytest.approx(market.trades[-1].price) and bid < last < ask
    assert last_run(db_url, f"{exchange}-ticker")[4] == 1       # second snapshot: a duplicate


def test_coinbase_gaps_are_reported_in_the_collection_report(db_url, coinbase, market, capsys):
    assert run_cli("candles", "--exchange", "coinbase", "--symbol", "BTC-USD", "--since", SINCE,
                   "--base-url", coinbase.url, "--url", db_url, *FAST) == 0
    report = capsys.readouterr().out
    line = next(l for l in report.splitlines() if l.startswith("coinbase"))
    fields = line.split()
    assert fields[4:11] == ["177", "177", "0", "0", "1", "3", "2024-08-01"]  # 3 quiet minutes = 3 gaps
    assert "total: in 177 = loaded 177 + quarantined 0 + duplicate 0" in report


def test_unknown_symbol_fails_with_one_sentence_naming_the_exchange(db_url, binance, kraken, capsys):
    assert run_cli("candles", "--exchange", "binance", "--symbol", "NOPE/USDT", "--base-url", binance.url,
                   "--url", db_url, "--quiet", *FAST) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: binance-candles: binance: HTTP 400: Invalid symbol.")
    assert run_cli("candles", "--exchange", "kraken", "--symbol", "NOPE/USD", "--base-url", kraken.url,
                   "--url", db_url, "--quiet", *FAST) == 1
    assert "EQuery:Unknown asset pair" in capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err


def test_unsupported_timeframe_is_a_usage_error(db_url, coinbase, capsys):
    assert run_cli("candles", "--exchange", "coinbase", "--symbol", "BTC-USD", "--timeframe", "4h",
                   "--base-url", coinbase.url, "--url", db_url, "--quiet") == 2
    assert "coinbase has no 4h candles" in capsys.readouterr().err
