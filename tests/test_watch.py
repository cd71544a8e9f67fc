"""tsquant watch as a person uses it: in a tmux pane (send-keys, capture-pane) the table shows the
hand-computed latest price, 24 h change and spread, redraws when a new candle arrives, and q quits
with exit 0. --once prints the same table for pipes and cron."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def watch_db(db_url):
    """BTC/USDT: close 100 25 h ago, 110 now, bid/ask 109.9/110.1; ETH/USDT: 2000 now, no quote."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        btc = conn.execute("select market.register_instrument('testex', 'BTCUSDT')").fetchone()[0]
        eth = conn.execute("select market.register_instrument('testex', 'ETHUSDT')").fetchone()[0]
        conn.execute(
            "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source) values"
            " (%(b)s, '1m', date_trunc('minute', now()) - interval '25 hours', 100, 100, 100, 100, 'test'),"
            " (%(b)s, '1m', date_trunc('minute', now()) - interval '2 minutes', 110, 110, 110, 110, 'test'),"
            " (%(e)s, '1m', date_trunc('minute', now()) - interval '2 minutes', 2000, 2000, 2000, 2000, 'test')",
            {"b": btc, "e": eth})
        conn.execute("insert into market.quotes (time, instrument_id, bid, ask) values (now(), %s, 109.9, 110.1)", (btc,))
        conn.execute("call market.refresh_rollups()")
    return db_url, btc


def _cells(text: str, symbol: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if f" {symbol} " in ln)
    return line.split()


def test_once_prints_the_databases_figures(watch_db):
    url, _ = watch_db
    done = subprocess.run([sys.executable, "-m", "db.cli", "watch", "--once", "--url", url], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    # exchange symbol last change pct bid ask bps date time; spread 0.2 of mid 110 = 18.18 bps
    assert _cells(done.stdout, "BTC/USDT")[:8] == ["testex", "BTC/USDT", "110.00", "+10", "+10.00", "109.90",
                                                   "110.10", "18.2"]
    assert _cells(done.stdout, "ETH/USDT")[:8] == ["testex", "ETH/USDT", "2,000.00", "-", "-", "-", "-", "-"]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (make setup installs it as root)")
def test_live_table_in_tmux_refreshes_and_quits_on_q(watch_db):
    url, btc = watch_db
    session = f"tsq-watch-{os.getpid()}"
    command = (f"cd {shlex.quote(str(ROOT))} && PYTHONPATH={shlex.quote(str(ROOT))} {shlex.quote(sys.executable)}"
               f" -m db.cli watch --interval 0.5 --url {shlex.quote(url)}; echo exit=$?; sleep 60")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "20", command], check=True)

    def screen_with(fragment: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                  text=True).stdout
            if fragment in text:
                return text
            assert time.monotonic() < deadline, f"{fragment!r} never appeared on the screen:\n{text}"
            time.sleep(0.2)

    try:
        text = screen_with("BTC/USDT")
        assert "q quits" in text.splitlines()[0]
        assert _cells(text, "BTC/USDT")[2:8] == ["110.00", "+10", "+10.00", "109.90", "110.10", "18.2"]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)"
                         " values (%s, '1m', date_trunc('minute', now()) - interval '1 minute', 121, 121, 121, 121, 'test')",
                         (btc,))
        text = screen_with("121.00")
        assert _cells(text, "BTC/USDT")[2:5] == ["121.00", "+21", "+21.00"]
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        text = screen_with("exit=")
        assert "watch stopped" in text and "exit=0" in text
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
