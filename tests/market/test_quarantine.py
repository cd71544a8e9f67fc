"""Bad input: every impossible row lands in market.quarantine with its reason and payload, the
database constraints reject the same rows on their own, and the counts of a run add up."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import psycopg
import pytest

from loaders.binance_capture import import_files
from loaders.core.ingest import CANDLES, QUOTES, TRADES, load_batch

T0 = int(pd.Timestamp("2024-05-01 12:00", tz="UTC").value // 1000)


def _iid(conn) -> int:
    return conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]


def _quarantined(conn) -> dict[str, int]:
    return dict(conn.execute("select reason, count(*) from market.quarantine group by reason").fetchall())


def test_each_impossible_trade_is_quarantined_with_its_reason(conn: psycopg.Connection) -> None:
    iid = _iid(conn)
    far_future = int((pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=2)).value // 1000)
    rows = [
        # time, instrument, trade_id, price, quantity, side, expected reason
        (T0, iid, 1, 100.0, 1.0, b"b", None),
        (T0 + 1, iid, 2, 100.5, 0.5, b"s", None),
        (T0 + 2, iid, 3, 0.0, 1.0, b"b", "non_positive_price"),
        (T0 + 3, iid, 4, -5.0, 1.0, b"b", "non_positive_price"),
        (T0 + 4, iid, 5, float("nan"), 1.0, b"b", "non_finite_value"),
        (T0 + 5, iid, 6, float("inf"), 1.0, b"b", "non_finite_value"),
        (T0 + 6, iid, 7, 100.0, 0.0, b"b", "non_positive_quantity"),
        (T0 + 7, iid, 8, 100.0, -2.0, b"b", "non_positive_quantity"),
        (T0 + 8, iid, 9, 100.0, 1.0, b"x", "invalid_side"),
        (far_future, iid, 10, 100.0, 1.0, b"b", "time_in_future"),
        (int(pd.Timestamp("1990-01-01", tz="UTC").value // 1000), iid, 11, 100.0, 1.0, b"b", "time_too_old"),
        (T0 + 9, -1, 12, 100.0, 1.0, b"b", "unknown_instrument"),
        (T0, iid, 1, 100.0, 1.0, b"b", "duplicate"),  # identical repeat
        (T0 + 1, iid, 2, 999.0, 0.5, b"s", "conflicting_duplicate"),  # same key, other price
    ]
    df = pd.DataFrame(rows, columns=["time", "instrument_id", "trade_id", "price", "quantity", "side", "want"])
    df["side"] = df["side"].to_numpy().astype("S1")
    df["symbol"] = "BTCUSDT"
    c = load_batch(conn, TRADES, df.drop(columns="want"), source="test")
    want = df["want"].value_counts().to_dict()
    assert c.rows_in == len(df)
    assert c.loaded == 2 and c.duplicate == 1 and c.quarantined == len(df) - 3
    assert c.rows_in == c.loaded + c.quarantined + c.duplicate
    got = _quarantined(conn)
    assert got == {k: v for k, v in want.items() if k != "duplicate"}
    payload = conn.execute("select payload from market.quarantine where reason = 'non_positive_price'"
                           " order by payload limit 1").fetchone()[0]
    assert json.loads(payload)["price"] in (0.0, -5.0)
    assert conn.execute("select count(*) from market.trades").fetchone()[0] == 2


def test_each_impossible_candle_is_quarantined_with_its_reason(conn: psycopg.Connection) -> None:
    iid = _iid(conn)
    rows = [
        (100, 110, 95, 105, 10.0, None),
        (100, 99, 95, 98, 1.0, "high_below_open_close"),   # high < open
        (100, 104, 95, 105, 1.0, "high_below_open_close"),  # high < close
        (100, 110, 101, 105, 1.0, "low_above_open_close"),  # low > open
        (100, 110, 96, 95.5, 1.0, "low_above_open_close"),  # low > close
        (100, 110, 95, 105, -1.0, "negative_volume"),
        (0, 110, 95, 105, 1.0, "non_positive_price"),
        (100, 110, 95, float("nan"), 1.0, "non_finite_value"),
    ]
    df = pd.DataFrame([(iid, "1m", T0 + i * 60_000_000, o, h, lo, c, v, np.nan, np.nan, "test", want)
                       for i, (o, h, lo, c, v, want) in enumerate(rows)],
                      columns=CANDLES.names + ["want"])
    c = load_batch(conn, CANDLES, df.drop(columns="want"), source="test")
    assert (c.rows_in, c.loaded, c.quarantined, c.duplicate) == (8, 1, 7, 0)
    assert _quarantined(conn) == df["want"].dropna().value_counts().to_dict()


def test_crossed_and_negative_quotes_are_quarantined(conn: psycopg.Connection) -> None:
    iid = _iid(conn)
    df = pd.DataFrame({
        "time": [T0, T0 + 1, T0 + 2], "instrument_id": [iid] * 3, "update_id": [1, 2, 3],
        "bid": [100.0, 101.0, 100.0], "ask": [100.5, 100.9, 100.5], "bid_size": [1.0, 1.0, -1.0],
        "ask_size": [1.0, 1.0, 1.0], "last": [np.nan] * 3, "volume": [np.nan] * 3,
    })
    c = load_batch(conn, QUOTES, df, source="test")
    assert (c.loaded, c.quarantined) == (1, 2)
    assert _quarantined(conn) == {"crossed_quote": 1, "negative_volume": 1}


def test_a_row_conflicting_with_a_stored_row_is_quarantined_not_overwritten(conn: psycopg.Connection) -> None:
    iid = _iid(conn)
    first = pd.DataFrame({"time": [T0, T0 + 10], "instrument_id": [iid, iid], "trade_id": [1, 2],
                          "price": [100.0, 101.0], "quantity": [1.0, 1.0], "side": np.array([b"b", b"s"])})
    load_batch(conn, TRADES, first, source="test")
    again = first.copy()
    again.loc[1, "price"] = 150.0
    c = load_batch(conn, TRADES, again, source="test")
    assert (c.loaded, c.duplicate, c.quarantined) == (0, 1, 1)
    assert _quarantined(conn) == {"conflicts_with_stored_row": 1}
    assert conn.execute("select price from market.trades where trade_id = 2").fetchone()[0] == 101.0


@pytest.mark.parametrize("sql, constraint", [
    ("insert into market.trades values (now(), 1, 1, 0, 1, 'b')", "trades_price_positive"),
    ("insert into market.trades values (now(), 1, 1, 'NaN', 1, 'b')", "trades_price_positive"),
    ("insert into market.trades values (now(), 1, 1, 1, -1, 'b')", "trades_quantity_positive"),
    ("insert into market.quotes (time, instrument_id, bid, ask) values (now(), 1, 2, 1)", "quotes_not_crossed"),
    ("insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
     " values ({iid}, '1m', now(), 10, 9, 8, 9, 1, 't')", "candles_high_valid"),
    ("insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
     " values ({iid}, '1m', now(), 10, 12, 10.5, 11, 1, 't')", "candles_low_valid"),
    ("insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
     " values ({iid}, '1m', now(), 10, 12, 9, 11, -1, 't')", "candles_volume_non_negative"),
])
def test_database_constraints_reject_impossible_rows(conn: psycopg.Connection, sql: str, constraint: str) -> None:
    iid = _iid(conn)
    with pytest.raises(psycopg.errors.CheckViolation) as err:
        with conn.transaction():
            conn.execute(sql.format(iid=iid))
    assert err.value.diag.constraint_name == constraint


def test_malformed_capture_lines_are_quarantined_and_the_run_counts_add_up(db_url: str, tmp_path) -> None:
    good = ('1723161254087896568 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",'
            '"t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}')
    lines = [
        good,
        good,  # the same message twice: a duplicate
        good.replace('"p":"61837.63000000"', '"p":"-1"').replace("3735683259", "3735683260"),
        good.replace('"q":"0.02000000"', '"q":"0"').replace("3735683259", "3735683261"),
        good.replace('"p":"61837.63000000"', '"p":"abc"'),
        good.replace('"t":3735683259,', ''),
        '1723161254087896569 {"stream":"btcusdt@trade","data":',
        'garbage',
        '1723161254116723068 {"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"10","B":"1","a":"9","A":"1"}}',
        '1723161254116723069 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate"}}',
    ]
    path = tmp_path / "bad.ws.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    with psycopg.connect(db_url) as conn:
        run_id, total, _ = import_files(conn, [path])
        reasons = dict(conn.execute("select reason, count(*) from market.quarantine where run_id = %s group by reason",
                                    (run_id,)).fetchall())
        run = conn.execute("select status, rows_in, rows_loaded, rows_quarantined, rows_duplicate, rows_skipped"
                           " from ops.loader_runs where run_id = %s", (run_id,)).fetchone()
    assert reasons == {"non_positive_price": 1, "non_positive_quantity": 1, "malformed": 3,
                       "missing_field": 1, "crossed_quote": 1}
    assert run == ("succeeded", 9, 1, 7, 1, 1)
    assert total.balanced
