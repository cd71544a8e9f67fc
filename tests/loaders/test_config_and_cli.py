"""Config file validation, `run --config` over every source, --help of every command, scheduled mode."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import psycopg
import pytest

from loaders.cli import build_parser, main
from loaders.core.config import ConfigError, load_config, parse_config
from tests.loaders.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_config_is_valid():
    cfg = load_config(ROOT / "config.example.yaml")
    assert set(cfg.exchanges) == {"binance", "kraken", "coinbase"}
    assert cfg.exchanges["binance"].datasets == ["candles", "trades", "ticker"]
    assert cfg.taapi is not None and [s.key for s in cfg.taapi.indicators] == \
        ["rsi_14", "ema_20", "sma_20", "macd", "bbands", "atr_14"]
    assert cfg.schedule["ticker"] == 300


@pytest.mark.parametrize("data,message", [
    ({"exchanges": {"binance": {"pairs": ["BTC/USDT"], "api_key": "x"}}},
     "exchanges.binance.api_key looks like a secret: secrets are read only from the environment"),
    ({"taapi": {"secret": "x"}}, "taapi.secret looks like a secret"),
    ({"exchanges": {"binance": {"pairz": ["BTC/USDT"]}}}, "unknown key 'pairz'"),
    ({"exchanges": {"bitstamp": {"pairs": ["BTC/USD"]}}}, "unknown exchange 'bitstamp'"),
    ({"exchanges": {"binance": {"pairs": ["BTC/USDT"], "datasets": ["orderbook"]}}}, "unknown dataset 'orderbook'"),
    ({"exchanges": {"binance": {"pairs": ["BTC/USDT"], "since": "last tuesday"}}}, "is not a date"),
    ({"taapi": {"plan": "platinum"}}, "taapi.plan must be one of free, basic, pro, expert"),
    ({"schedule": {"candles": -1}}, "schedule.candles must be a number >= 1"),
])
def test_config_errors_are_one_sentence_naming_the_key(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "config.yaml")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_config_file_errors_exit_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "config.yaml"
    bad.write_text("exchanges: [unclosed\n")
    assert run_cli("run", "--config", bad) == 2
    assert capsys.readouterr().err.strip() == f"error: config file {bad} is not valid YAML at line 2"
    assert run_cli("run", "--config", tmp_path / "missing.yaml") == 2


@pytest.mark.parametrize("command", ["candles", "trades", "quotes", "ticker", "dumps", "taapi", "run", "capture"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and "usage:" in capsys.readouterr().out


def _full_config(path: Path, binance, kraken, coinbase, mt5, taapi_server) -> Path:
    common = "since: 2024-08-01\n    min_interval: 0\n    timeout: 2\n    backoff: 0.01"
    path.write_text(f"""
exchanges:
  binance:
    base_url: {binance.url}
    pairs: [BTC/USDT]
    timeframes: [1m, 1h]
    datasets: [candles, trades, ticker]
    {common}
  kraken:
    base_url: {kraken.url}
    pairs: [BTC/USD]
    datasets: [candles, ticker]
    {common}
  coinbase:
    base_url: {coinbase.url}
    pairs: [BTC/USD]
    datasets: [candles, trades]
    {common}
  mt5:
    base_url: {mt5.url}
    pairs: [EURUSD]
    datasets: [candles, quotes]
    options: {{broker_utc_offset_hours: 2}}
    {common}
taapi:
  base_url: {taapi_server.url}
  intervals: [1h, 15m]
  requests_per_15s: 1000
""")
    return path


def test_run_config_once_loads_every_source_and_prints_the_collection_report(
        db_url, binance, kraken, coinbase, mt5, taapi_server, loader_env, tmp_path, capsys):
    config = _full_config(tmp_path / "config.yaml", binance, kraken, coinbase, mt5, taapi_server)
    assert run_cli("run", "--config", config, "--once", "--url", db_url, "--refresh-rollups") == 0
    out = capsys.readouterr().out
    assert "== collection report" in out and "total: in" in out
    for label in ("binance    BTC/USDT   candles  1m", "binance    BTC/USDT   candles  1h", "kraken     BTC/USD    ticker",
                  "coinbase   BTC/USD    trades", "mt5        EURUSD     quotes", "taapi      BTC/USDT   signals  15m"):
        assert label in out
    with psycopg.connect(db_url) as conn:
        jobs = dict(conn.execute("select job, status from ops.loader_runs").fetchall())
        rollup = conn.execute("select count(*) from market.candles_1h").fetchone()[0]
    assert jobs == {j: "succeeded" for j in (
        "binance-candles", "binance-trades", "binance-ticker", "kraken-candles", "kraken-ticker",
        "coinbase-candles", "coinbase-trades", "mt5-candles", "mt5-quotes", "taapi-1h-15m")}
    assert rollup > 0


def test_one_failing_job_does_not_stop_the_others_and_the_exit_code_says_so(
        db_url, binance, kraken, coinbase, mt5, taapi_server, loader_env, tmp_path, capsys):
    config = _full_config(tmp_path / "config.yaml", binance, kraken, coinbase, mt5, taapi_server)
    kraken.stop()
    assert run_cli("run", "--config", config, "--url", db_url, "--quiet") == 1
    assert "error: kraken-candles: kraken: connection failed" in capsys.readouterr().err
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from ops.loader_runs where status = 'succeeded'").fetchone()[0] == 8


def _scheduled_child(args: list[str]) -> None:
    os._exit(main(args))


def test_scheduled_mode_runs_again_every_interval_and_stops_on_sigterm(db_url, binance):
    args = ["ticker", "--exchange", "binance", "--symbol", "BTC/USDT", "--every", "0.3", "--base-url", binance.url,
            "--url", db_url, "--quiet", "--min-interval", "0"]
    proc = multiprocessing.get_context("fork").Process(target=_scheduled_child, args=(args,))
    proc.start()
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGTERM)
    proc.join(10)
    assert proc.exitcode == 0
    with psycopg.connect(db_url) as conn:
        runs = conn.execute("select count(*) from ops.loader_runs where job = 'binance-ticker' and status = 'succeeded'").fetchone()[0]
    assert runs >= 3


def test_parser_lists_the_market_data_tools_too():
    text = build_parser().format_help()
    for name in ("candles", "trades", "quotes", "ticker", "dumps", "taapi", "run", "capture", "rollups"):
        assert name in text
