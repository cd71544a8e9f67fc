"""A row the validation quarantines (stamped far in the future) never moves a watermark, and no
watermark passes the source's server time: for every source and dataset (exchange candles,
trades, MT5 quotes, tickers, Binance dumps, WebSocket captures). The run after such a page still
loads the bars and trades that follow."""

from __future__ import annotations

import psycopg
import pytest

from loaders.core.ingest import CANDLES, QUOTES, TRADES
from loaders.core.runs import LoaderRun
from loaders.fakes.binance import make_binance
from loaders.fakes.coinbase import make_coinbase
from loaders.fakes.kraken import make_kraken
from loaders.fakes.market import US, MarketData, Trade, utc_us
from loaders.fakes.mt5 import make_mt5
from loaders.jobs.frames import TICKERS
from tests.loaders.conftest import MT5_KEY
from tests.loaders.helpers import close, expected_candles, expected_trades, run_cli, stored_candles, stored_trades

EARLY_NOW = utc_us("2024-08-01T02:00:30")      # the first run's server time
LATE_NOW = utc_us("2024-08-01T03:00:30")       # the next run's
FAR_FUTURE_US = utc_us("2099-01-01T00:00:00")  # beyond any clock
FAST = ("--min-interval", "0", "--timeout", "2", "--quiet")

FAKES = {  # exchange: (factory, market key, symbol, extra CLI args)
    "binance": (make_binance, "BTCUSDT", "BTC/USDT", ()),
    "kraken": (make_kraken, "XXBTZUSD", "BTC/USD", ()),
    "coinbase": (make_coinbase, "BTC-USD", "BTC/USD", ()),
    "mt5": (lambda markets: make_mt5(markets, api_key=MT5_KEY, broker_offset_hours=2), "EURUSD", "EURUSD",
            ("--broker-offset", "2")),
}


def _watermarks(db_url: str) -> list[tuple[str, str, int]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("select dataset, timeframe, (extract(epoch from high_water) * 1e6)::bigint"
                            " from ops.watermarks order by 1, 2").fetchall()


def _max_stored(db_url: str, table: str, time_col: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(f"select (extract(epoch from max({time_col})) * 1e6)::bigint from {table}").fetchone()[0]


def _quarantined(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [r[0] for r in conn.execute("select reason from market.quarantine order by 1")]


def _with_future_trade(market: MarketData) -> MarketData:
    last = market.trades[-1]
    market.trades.append(Trade(last.trade_id + 1, FAR_FUTURE_US, last.price, 0.01, False))
    return market


def _run(exchange: str, market: MarketData, db_url: str, *args: str) -> int:
    factory, key, symbol, extra = FAKES[exchange]
    with factory({key: market}) as srv:
        return run_cli(*args, "--exchange", exchange, "--symbol", symbol, "--since", "2024-08-01",
                       "--base-url", srv.url, "--url", db_url, *extra, *FAST)


@pytest.mark.parametrize("exchange", ["binance", "kraken", "coinbase"])
def test_a_future_trade_does_not_end_the_trade_series(db_url, loader_env, exchange):
    assert _run(exchange, _with_future_trade(MarketData(now_us=EARLY_NOW)), db_url,
                "trades", "--page-size", "100") == 0
    assert _quarantined(db_url) == ["time_in_future"]
    [(_, _, high)] = _watermarks(db_url)
    assert high == _max_stored(db_url, "market.trades", "time") <= EARLY_NOW
    late = MarketData(now_us=LATE_NOW)
    assert _run(exchange, late, db_url, "trades", "--page-size", "100") == 0
    assert close(stored_trades(db_url, exchange), expected_trades(late))     # the following trades came


def test_a_future_tick_does_not_end_the_mt5_quote_series(db_url, loader_env):
    assert _run("mt5", _with_future_trade(MarketData(now_us=EARLY_NOW)), db_url, "quotes", "--page-size", "50") == 0
    assert _quarantined(db_url) == ["time_in_future"]
    [(_, _, high)] = _watermarks(db_url)
    assert high == _max_stored(db_url, "market.quotes", "time") <= EARLY_NOW
    late = MarketData(now_us=LATE_NOW)
    assert _run("mt5", late, db_url, "quotes", "--page-size", "50") == 0
    with psycopg.connect(db_url) as conn:
        times = [r[0] for r in conn.execute("select (extract(epoch from time) * 1e6)::bigint from market.quotes"
                                            " order by time, update_id")]
    assert times == [t.time_us for t in late.trades]


def _future_candle(exchange: str, reply, width_s: int) -> None:
    """Add a candle stamped far in the future to a page, in the API's own shape. Only Binance's
    can reach the validation (the others' sources drop it as still forming): each source is tried."""
    fut_s = FAR_FUTURE_US // US
    body = reply.body
    if exchange == "binance" and body:      # open time far ahead, close time that looks final
        body.append([fut_s * 1000, "1", "1", "1", "1", "1", body[-1][6], "1", 1, "0", "0", "0"])
    elif exchange == "kraken":
        key = next(k for k in body["result"] if k != "last")
        body["result"][key].append([fut_s, "1", "1", "1", "1", "1", "1", 1])
    elif exchange == "coinbase" and body:
        body.insert(0, [fut_s, 1, 1, 1, 1, 1])
    elif exchange == "mt5" and body.get("rates"):
        body["rates"].append({"time": fut_s, "open": 1, "high": 1, "low": 1, "close": 1, "tick_volume": 1,
                              "spread": 1, "real_volume": 0})


CANDLE_PATHS = {"binance": "/api/v3/klines", "kraken": "/0/public/OHLC", "coinbase": "/products/", "mt5": "/rates"}


@pytest.mark.parametrize("exchange", ["binance", "kraken", "coinbase", "mt5"])
def test_a_future_candle_does_not_end_the_candle_series(db_url, loader_env, exchange):
    factory, key, symbol, extra = FAKES[exchange]

    def run(market: MarketData, inject: bool) -> int:
        with factory({key: market}) as srv:
            if inject:
                for (method, path), handler in list(srv.routes.items()):
                    if path.startswith(CANDLE_PATHS[exchange]):
                        srv.route(method, path, lambda req, h=handler: _patched(h, req))
                for i, (method, prefix, handler) in enumerate(srv.prefix_routes):
                    srv.prefix_routes[i] = (method, prefix, lambda req, h=handler: _patched(h, req))
            return run_cli("candles", "--exchange", exchange, "--symbol", symbol, "--since", "2024-08-01",
                           "--page-size", "40", "--base-url", srv.url, "--url", db_url, *extra, *FAST)

    def _patched(handler, req):
        reply = handler(req)
        if reply.status == 200 and (exchange != "coinbase" or req.path.endswith("/candles")):
            _future_candle(exchange, reply, 60)
        return reply

    assert run(MarketData(now_us=EARLY_NOW), inject=True) == 0
    [(_, _, high)] = _watermarks(db_url)
    assert high == _max_stored(db_url, "market.candles", "open_time") <= EARLY_NOW
    late = MarketData(now_us=LATE_NOW)
    assert run(late, inject=False) == 0
    want = expected_candles(late, 60, fill_quiet=exchange in ("binance", "kraken"))
    if exchange == "mt5":       # MT5 volume is tick_volume: the trade count
        counts = {c.open_time_us: float(c.count) for c in late.candles(60, fill_quiet=False)}
        want = [r[:5] + (counts[r[0]],) for r in want]
    assert close(stored_candles(db_url, exchange, "1m"), want)               # the following bars came


def test_a_future_ticker_snapshot_is_quarantined_and_sets_no_watermark(db_url):
    market = MarketData(now_us=EARLY_NOW)
    with make_binance({"BTCUSDT": market}) as srv:
        good = srv.routes[("GET", "/api/v3/ticker/24hr")]

        def future(req):
            reply = good(req)
            reply.body["closeTime"] = FAR_FUTURE_US // 1000
            return reply

        srv.route("GET", "/api/v3/ticker/24hr", future)
        assert run_cli("ticker", "--exchange", "binance", "--symbol", "BTC/USDT", "--base-url", srv.url,
                       "--url", db_url, *FAST) == 0
        srv.route("GET", "/api/v3/ticker/24hr", good)
        assert run_cli("ticker", "--exchange", "binance", "--symbol", "BTC/USDT", "--base-url", srv.url,
                       "--url", db_url, *FAST) == 0
    assert _quarantined(db_url) == ["time_in_future"]
    assert [w[2] for w in _watermarks(db_url)] == [EARLY_NOW]


# -- the shared mechanism: LoaderRun.load for every dataset, with the source's clock ---------------

def _frame(ds, iid: int, times: list[int]):
    import pandas as pd

    n = len(times)
    base = {"instrument_id": [iid] * n}
    if ds is TRADES:
        cols = {"time": times, "trade_id": list(range(1, n + 1)), "price": [10.0] * n, "quantity": [1.0] * n,
                "side": ["b"] * n}
    elif ds is QUOTES:
        cols = {"time": times, "update_id": list(range(1, n + 1)), "bid": [9.0] * n, "ask": [10.0] * n,
                "bid_size": [1.0] * n, "ask_size": [1.0] * n, "last": [float("nan")] * n,
                "volume": [float("nan")] * n}
    elif ds is CANDLES:
        cols = {"timeframe": ["1m"] * n, "open_time": times, "open": [10.0] * n, "high": [10.0] * n,
                "low": [10.0] * n, "close": [10.0] * n, "volume": [1.0] * n, "quote_volume": [10.0] * n,
                "trade_count": [1] * n, "source": ["test"] * n}
    else:
        cols = {"time": times, **{c: [10.0] * n for c in ("bid", "ask", "last", "open_24h", "high_24h",
                                                          "low_24h", "volume_24h", "quote_volume_24h")}}
    df = pd.DataFrame({**base, **cols})
    for c in ("time", "open_time", "trade_id", "update_id"):
        if c in df:
            df[c] = df[c].astype("int64")
    return df


@pytest.mark.parametrize("ds", [TRADES, QUOTES, CANDLES, TICKERS], ids=lambda d: d.name)
def test_the_watermark_moves_only_over_stored_rows_and_never_past_the_server_time(db_url, ds):
    minute = 60 * US
    now = EARLY_NOW
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        stored = [now - 3 * minute, now - 2 * minute]
        ahead = now + 2 * minute                     # within the clock-skew tolerance: stored …
        with LoaderRun(conn, job="wm", source="test", dataset=ds.name) as run:
            c = run.load(ds, _frame(ds, iid, stored + [FAR_FUTURE_US]), now_us=now)
            assert (c.loaded, c.quarantined) == (2, 1)
            assert _watermarks(db_url)[0][2] == stored[-1]          # the quarantined row did not count
            c = run.load(ds, _frame(ds, iid, [stored[0], ahead]).iloc[::-1], now_us=now)
            assert (c.loaded, c.duplicate) == (1, 1)
            assert _watermarks(db_url)[0][2] == now                 # … but the watermark stops at now
            run.load(ds, _frame(ds, iid, [stored[0]]), now_us=now)  # a duplicate never moves it back
            assert _watermarks(db_url)[0][2] == now


# -- files: Binance dumps and WebSocket captures (this machine's clock) -----------------------------

def test_a_future_row_in_a_dump_file_does_not_move_its_watermark(db_url, market, tmp_path):
    from tests.loaders.test_mt5_and_dumps import _kline_lines, _trade_lines, _zip

    klines = _kline_lines(market, 60, micros=False)
    future_kline = f"{FAR_FUTURE_US // 1000},1,1,1,1,1,{FAR_FUTURE_US // 1000 + 59_999},1,1,0,0,0"
    trades = _trade_lines(market, micros=False)
    last = market.trades[-1]
    future_trade = f"{last.trade_id + 1},1.00,1.00000,1.00000000,{FAR_FUTURE_US // 1000},True,True"
    files = [_zip(tmp_path, "BTCUSDT-1m-2024-08.zip", klines[:50] + [future_kline] + klines[50:]),
             _zip(tmp_path, "BTCUSDT-trades-2024-08.zip", trades + [future_trade])]
    assert run_cli("dumps", *map(str, files), "--url", db_url, "--quiet") == 0
    assert _quarantined(db_url) == ["time_in_future", "time_in_future"]
    assert close(stored_candles(db_url, "binance", "1m"), expected_candles(market, 60, fill_quiet=True))
    marks = dict(((d, tf), hw) for d, tf, hw in _watermarks(db_url))
    assert marks == {("candles", "1m"): _max_stored(db_url, "market.candles", "open_time"),
                     ("trades", ""): _max_stored(db_url, "market.trades", "time")}


def test_a_future_line_in_a_capture_does_not_move_its_watermarks(db_url, tmp_path):
    import json

    start_ms = utc_us("2024-08-08T23:54:15") // 1000
    lines = []
    for n in range(5):
        at = FAR_FUTURE_US // 1000 if n == 4 else start_ms + n * 1000
        trade = {"e": "trade", "E": at, "s": "BTCUSDT", "t": 100 + n, "p": "61837.63", "q": "0.02", "T": at,
                 "m": True, "M": True}
        quote = {"u": 500 + n, "s": "BTCUSDT", "b": "61837.63", "B": "1", "a": "61837.64", "A": "1"}
        lines.append(f"{at * 1_000_000} {json.dumps({'stream': 'btcusdt@trade', 'data': trade})}")
        lines.append(f"{at * 1_000_000 + 1000} {json.dumps({'stream': 'btcusdt@bookTicker', 'data': quote})}")
    path = tmp_path / "capture.ws"
    path.write_text("\n".join(lines) + "\n")
    assert run_cli("capture", str(path), "--url", db_url, "--quiet") == 0
    assert _quarantined(db_url) == ["time_in_future", "time_in_future"]
    assert sorted(w[2] for w in _watermarks(db_url)) == [(start_ms + 3000) * 1000, (start_ms + 3000) * 1000 + 1]
