"""MT5 REST bridge (rates, ticks, broker time offset) and Binance public dump imports."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import psycopg
import pytest

from loaders.fakes import FakeServer, Reply
from loaders.fakes.market import US
from tests.loaders.helpers import close, expected_candles, last_run, run_cli, stored_candles, stored_trades

# -- MT5 -----------------------------------------------------------------------------------------


def test_mt5_rates_are_shifted_from_broker_time_to_utc(db_url, mt5, market, loader_env):
    assert run_cli("candles", "--exchange", "mt5", "--symbol", "EURUSD", "--timeframe", "5m", "--since",
                   "2024-08-01", "--broker-offset", "2", "--page-size", "10", "--base-url", mt5.url,
                   "--url", db_url, "--quiet", "--min-interval", "0") == 0
    counts = {c.open_time_us: float(c.count) for c in market.candles(300, fill_quiet=False)}
    expected = [r[:5] + (counts[r[0]],) for r in expected_candles(market, 300, fill_quiet=False)]
    assert close(stored_candles(db_url, "mt5", "5m"), expected)
    first = [r for r in mt5.requests if r.path == "/rates"][0]
    assert int(first.query["from"]) == market.start_us // US + 7200      # asked in broker time


def test_mt5_ticks_become_quotes_with_stable_ids_for_ticks_sharing_a_millisecond(db_url, mt5, market, loader_env):
    args = ("quotes", "--exchange", "mt5", "--symbol", "EURUSD", "--since", "2024-08-01", "--broker-offset", "2",
            "--page-size", "50", "--base-url", mt5.url, "--url", db_url, "--quiet", "--min-interval", "0")
    assert run_cli(*args) == 0 and run_cli(*args) == 0
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select (extract(epoch from time) * 1e6)::bigint, update_id, bid, ask, last, volume"
                            " from market.quotes order by time, update_id").fetchall()
    assert len(rows) == len(market.trades)
    assert [r[0] for r in rows] == [t.time_us for t in market.trades]
    assert all(r[3] - r[2] == pytest.approx(0.5) and r[4] is None for r in rows)   # FX: last 0 -> NULL
    shared = [r for r in rows if r[1] % 1000 == 1]
    assert shared, "the fake has ticks sharing a millisecond"
    assert last_run(db_url, "mt5-quotes")[2] == 0                                   # rerun: nothing new


# -- Binance dumps -------------------------------------------------------------------------------


def _kline_lines(market, width_s: int, micros: bool) -> list[str]:
    scale = 1 if micros else 1000
    return [f"{c.open_time_us // scale},{c.open:.2f},{c.high:.2f},{c.low:.2f},{c.close:.2f},{c.volume:.8f},"
            f"{(c.open_time_us + width_s * US) // scale - 1},{c.quote_volume:.8f},{c.count},0,0,0"
            for c in market.candles(width_s, fill_quiet=True)[:-1]]


def _trade_lines(market, micros: bool) -> list[str]:
    scale = 1 if micros else 1000
    return [f"{t.trade_id},{t.price:.2f},{t.quantity:.5f},{t.price * t.quantity:.8f},{t.time_us // scale},"
            f"{'True' if t.buyer_is_maker else 'False'},True" for t in market.trades]


def _zip(folder: Path, name: str, lines: list[str], *, checksum: str | None = "good") -> Path:
    path = folder / name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name.replace(".zip", ".csv"), "\n".join(lines) + "\n")
    path.write_bytes(buffer.getvalue())
    if checksum is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if checksum == "good" else "0" * 64
        Path(str(path) + ".CHECKSUM").write_text(f"{digest}  {name}\n")
    return path


def test_dump_files_load_klines_in_milliseconds_and_trades_in_microseconds(db_url, market, tmp_path):
    _zip(tmp_path, "BTCUSDT-1m-2024-08.zip", _kline_lines(market, 60, micros=False))
    _zip(tmp_path, "BTCUSDT-trades-2025-01-01.zip", _trade_lines(market, micros=True), checksum=None)
    assert run_cli("dumps", str(tmp_path), "--url", db_url, "--quiet", "--batch-size", "100") == 0
    assert close(stored_candles(db_url, "binance", "1m"), expected_candles(market, 60, fill_quiet=True))
    trades = stored_trades(db_url, "binance")
    assert [t[0] for t in trades] == [t.time_us for t in market.trades]
    assert [t[4] for t in trades] == ["s" if t.buyer_is_maker else "b" for t in market.trades]
    assert run_cli("dumps", str(tmp_path), "--url", db_url, "--quiet") == 0          # re-import: duplicates
    status, rows_in, loaded, quarantined, duplicate, *_ = last_run(db_url, "binance-dumps")
    assert (status, loaded, quarantined, duplicate) == ("succeeded", 0, 0, rows_in)


def test_checksum_mismatch_stops_with_a_clear_sentence(db_url, market, tmp_path, capsys):
    path = _zip(tmp_path, "BTCUSDT-1m-2024-08.zip", _kline_lines(market, 60, micros=False), checksum="bad")
    assert run_cli("dumps", str(path), "--url", db_url, "--quiet") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: dumps: BTCUSDT-1m-2024-08.zip: checksum mismatch") and "download it again" in err
    assert stored_candles(db_url, "binance", "1m") == []


def test_dump_with_header_and_bad_rows_quarantines_them(db_url, market, tmp_path):
    lines = ["open_time,open,high,low,close,volume,close_time,quote_volume,count,tbb,tbq,ignore"]
    lines += _kline_lines(market, 60, micros=False)[:10] + ["1722470400000,abc,1,1,1,1,1,1,1,0,0,0"]
    _zip(tmp_path, "BTCUSDT-1m-2024-08-01.zip", lines)
    assert run_cli("dumps", str(tmp_path), "--url", db_url, "--quiet") == 0
    status, rows_in, loaded, quarantined, duplicate, *_ = last_run(db_url, "binance-dumps")
    assert (rows_in, loaded, quarantined) == (11, 10, 1)


def test_dump_from_a_url_with_checksum(db_url, market, tmp_path):
    archive = _zip(tmp_path, "BTCUSDT-5m-2024-08.zip", _kline_lines(market, 300, micros=False))
    base = "/data/spot/monthly/klines/BTCUSDT/5m/"
    with FakeServer("data.binance.vision") as srv:
        srv.route("GET", base + archive.name, lambda req: Reply(body=archive.read_bytes()))
        srv.route("GET", base + archive.name + ".CHECKSUM",
                  lambda req: Reply(body=Path(str(archive) + ".CHECKSUM").read_bytes()))
        assert run_cli("dumps", srv.url + base + archive.name, "--url", db_url, "--quiet") == 0
    assert close(stored_candles(db_url, "binance", "5m"), expected_candles(market, 300, fill_quiet=True))


def test_not_a_dump_file_name_is_a_clear_error(db_url, tmp_path, capsys):
    bad = tmp_path / "prices.zip"
    bad.write_bytes(b"")
    assert run_cli("dumps", str(bad), "--url", db_url, "--quiet") == 2  # a usage error
    assert "prices.zip is not a Binance dump file name" in capsys.readouterr().err
