"""tsquant report as a person opens it: the HTML file in headless Chromium (Debian's chromium and
chromium-driver, driven over the W3C WebDriver protocol) with every network request made to fail,
renders with no console error, every chart panel has coloured pixels on the screenshot, and the
numbers the charts and the metrics table hold equal the database's (drawdown recomputed with
pandas from the equity curve). The PNG beside it is a real, non-blank picture."""

from __future__ import annotations

import base64
import io
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
import requests

from tests.surface_data import STRATEGY, load_market, seed_backtest, seed_signals

ROOT = Path(__file__).resolve().parents[1]
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def report(module_db_url, tmp_path_factory):
    start = load_market(module_db_url, instruments=2, days=3, trades_per_day=5000)
    seed_signals(module_db_url)
    run_id = seed_backtest(module_db_url)
    with psycopg.connect(module_db_url) as conn:
        first, last = conn.execute("select min(open_time), max(open_time) from market.candles_1h"
                                   " where instrument_id = 1").fetchone()
    frm, to = first + pd.Timedelta(hours=5), last  # a range inside the data: the report cuts it
    out = tmp_path_factory.mktemp("report") / "btc.html"
    done = subprocess.run([sys.executable, "-m", "db.cli", "report", "--symbol", "BTCUSDT", "--timeframe", "1h",
                           "--strategy", STRATEGY, "--from", frm.isoformat(), "--to", to.isoformat(),
                           "--indicators", "rsi_14,ema_20,bbands_20_2_2", "--out", str(out), "--url", module_db_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert f"report written: {out}" in done.stdout and start
    return {"url": module_db_url, "html": out, "png": out.with_suffix(".png"), "from": frm, "to": to,
            "run_id": run_id, "stdout": done.stdout}


def test_the_html_is_self_contained_and_the_png_is_a_picture(report):
    text = report["html"].read_text()
    tags = re.sub(r"(<script[^>]*>).*?(</script>)", r"\1\2", text, flags=re.S)  # markup without the inline code
    assert re.findall(r"<script[^>]*>", tags) and not re.findall(r"<script[^>]*\bsrc=", tags)
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", tags), "no external script, style or link"
    assert "Plotly.newPlot" in text and len(text) > 1_000_000  # plotly.js is inlined
    from PIL import Image

    image = Image.open(report["png"]).convert("L")
    pixels = np.asarray(image, dtype=float)
    assert image.size[0] > 800 and image.size[1] > 600 and pixels.std() > 20


def test_unknown_names_are_one_sentence(report):
    base = [sys.executable, "-m", "db.cli", "report", "--timeframe", "1h", "--strategy", STRATEGY,
            "--from", "2024-01-01", "--to", "2024-01-02", "--url", report["url"]]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for extra, fragment in ((["--symbol", "NOPE"], "unknown instrument NOPE"),
                            (["--symbol", "BTCUSDT"], "no 1h candles of BTC/USDT on synthetic between"),
                            (["--symbol", "BTCUSDT", "--timeframe", "7m"], "timeframe '7m' has no candles view")):
        done = subprocess.run(base + extra, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr, done.stderr


# -- the browser ----------------------------------------------------------------------------------

class Browser:
    """A headless Chromium session through chromedriver's W3C WebDriver HTTP interface."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{self.base}/status", timeout=2).json()["value"]["ready"]:
                    break
            except (requests.ConnectionError, ValueError, KeyError):
                pass
            assert time.monotonic() < deadline, "chromedriver did not start"
            time.sleep(0.2)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1900", "--proxy-server=127.0.0.1:9",  # any network request fails
                "--allow-file-access-from-files"]},
            "goog:loggingPrefs": {"browser": "ALL"}}}}
        got = requests.post(f"{self.base}/session", json=caps, timeout=60).json()
        assert "sessionId" in got.get("value", {}), got
        self.session = f"{self.base}/session/{got['value']['sessionId']}"

    def call(self, method: str, path: str, body: dict | None = None):
        got = requests.request(method, f"{self.session}{path}", json=body, timeout=60).json()
        if isinstance(got.get("value"), dict) and "error" in got["value"]:
            raise AssertionError(got["value"])
        return got["value"]

    def js(self, script: str):
        return self.call("POST", "/execute/sync", {"script": script, "args": []})

    def close(self) -> None:
        try:
            requests.delete(self.session, timeout=10)
        finally:
            self.driver.terminate()
            self.driver.wait(10)


@pytest.fixture(scope="module")
def page(report):
    if not (CHROMEDRIVER and CHROMIUM):
        pytest.skip("chromium / chromium-driver are not installed (make setup installs them as root)")
    browser = Browser()
    try:
        browser.call("POST", "/url", {"url": report["html"].resolve().as_uri()})
        deadline = time.monotonic() + 60
        while not browser.js("const g = document.getElementById('report-chart');"
                             " return !!(g && g._fullLayout && document.querySelectorAll('.main-svg').length)"):
            assert time.monotonic() < deadline, "the chart never rendered"
            time.sleep(0.3)
        time.sleep(0.5)
        yield browser
    finally:
        browser.close()


def test_renders_with_no_console_error(page):
    logs = page.call("POST", "/se/log", {"type": "browser"})
    problems = [entry for entry in logs if entry["level"] in ("SEVERE", "WARNING")]
    assert problems == [], problems


def test_every_panel_is_drawn(page):
    shot = base64.b64decode(page.call("GET", "/screenshot"))
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=int)
    boxes = page.js("""
        const g = document.getElementById('report-chart'), r = g.getBoundingClientRect(), L = g._fullLayout;
        return Object.keys(L).filter(k => /^yaxis\\d*$/.test(k)).map(k => {
            const y = L[k], x = L['xaxis' + k.slice(5)];
            return {axis: k, top: r.top + y._offset, height: y._length, left: r.left + x._offset, width: x._length};
        });""")
    assert len(boxes) == 4  # candles, indicators, equity, drawdown
    ratio = 1400 / page.js("return window.innerWidth")  # device pixels per CSS pixel
    for b in boxes:
        top, left = int(b["top"] * ratio), int(b["left"] * ratio)
        crop = image[top:top + int(b["height"] * ratio), left:left + int(b["width"] * ratio)]
        coloured = (crop.max(axis=2) - crop.min(axis=2)) > 60  # traces are coloured, the grid grey
        assert crop.size and coloured.mean() > 0.002, f"{b['axis']} looks blank ({coloured.mean():.4%} coloured)"


def _traces(page) -> dict:
    return page.js("""
        const out = {};
        for (const t of document.getElementById('report-chart').data) {
            const a = v => v === undefined ? null : Array.from(v, z => (typeof z === 'number' && !isFinite(z)) ? null : z);
            out[t.uid] = {x: a(t.x), y: a(t.y), open: a(t.open), high: a(t.high), low: a(t.low), close: a(t.close)};
        }
        return out;""")


def _utc(values) -> list[pd.Timestamp]:
    return [pd.Timestamp(v, tz="UTC") for v in values]


def test_chart_numbers_equal_the_database(page, report):
    traces = _traces(page)
    with psycopg.connect(report["url"]) as conn:
        candles = conn.execute("select open_time, open, high, low, close from bi.candles_1h where symbol = 'BTC/USDT'"
                               " and open_time >= %s and open_time < %s order by open_time",
                               (report["from"], report["to"])).fetchall()
        rsi = conn.execute("select open_time, value from bi.indicator_values where symbol = 'BTC/USDT'"
                           " and timeframe = '1h' and indicator = 'rsi_14' and open_time >= %s and open_time < %s"
                           " order by open_time", (report["from"], report["to"])).fetchall()
        buys = [r[0] for r in conn.execute(
            "select bar_time from bi.trading_signals where direction = 'BUY' and bar_time >= %s and bar_time < %s"
            " order by bar_time", (report["from"], report["to"])).fetchall()]
        init_cash = conn.execute("select init_cash from perf.backtest_runs where run_id = %s",
                                 (report["run_id"],)).fetchone()[0]
        equity = pd.DataFrame(conn.execute("select bar_time, equity from perf.backtest_equity where run_id = %s"
                                           " order by bar_time", (report["run_id"],)).fetchall(),
                              columns=["t", "equity"])
    c = traces["candles"]
    assert _utc(c["x"]) == [r[0] for r in candles] and len(candles) > 40
    for k, name in enumerate(("open", "high", "low", "close"), start=1):
        assert c[name] == [r[k] for r in candles], name
    got_rsi = traces["ind:rsi_14"]
    assert _utc(got_rsi["x"]) == [r[0] for r in rsi]
    assert got_rsi["y"] == [None if r[1] is None or math.isnan(r[1]) else r[1] for r in rsi]
    assert {"ind:ema_20", "ind:bbands_20_2_2.upperband", "ind:bbands_20_2_2.lowerband"} <= set(traces)
    assert _utc(traces["signals:BUY"]["x"]) == buys and buys
    # drawdown: the oracle recomputes it from the equity curve, initial cash counted as a peak
    peak = np.maximum.accumulate(np.concatenate([[init_cash], equity["equity"].to_numpy()]))[1:]
    equity["dd"] = equity["equity"] / peak - 1
    inside = equity[(equity["t"] >= report["from"]) & (equity["t"] < report["to"])]
    assert _utc(traces["equity"]["x"]) == list(inside["t"]) and traces["equity"]["y"] == list(inside["equity"])
    assert np.allclose(traces["drawdown"]["y"], inside["dd"], rtol=1e-12, atol=1e-15)
    assert min(traces["drawdown"]["y"]) < 0


def test_metrics_table_equals_perf_performance_metrics(page, report):
    cells = page.js("return Array.from(document.querySelectorAll('#metrics td[data-metric]'),"
                    " td => [td.dataset.metric, td.dataset.value, td.textContent]);")
    shown = {m: (v, t) for m, v, t in cells}
    with psycopg.connect(report["url"]) as conn:
        row = conn.cursor(row_factory=psycopg.rows.dict_row).execute(
            "select * from perf.performance_metrics where run_id = %s", (report["run_id"],)).fetchone()
        final = conn.execute("select final_equity from perf.backtest_runs where run_id = %s",
                             (report["run_id"],)).fetchone()[0]
    assert shown["run_id"][0] == str(report["run_id"]) and float(shown["final_equity"][0]) == final
    assert int(shown["total_trades"][0]) == row["total_trades"] > 0
    for metric in ("win_rate", "net_profit", "total_return", "max_drawdown", "exposure"):
        assert float(shown[metric][0]) == row[metric], metric
    assert shown["max_drawdown"][1] == f"{row['max_drawdown'] * 100:.2f} %"
    assert shown["sharpe_ratio"] == ("", "n/a")  # not computed in the fixture: shown as such
