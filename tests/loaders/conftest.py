"""Fake-server fixtures for the loader tests (real HTTP on 127.0.0.1). Database fixtures come
from tests/conftest.py (conn, db_url, db_mode)."""

from __future__ import annotations

import pytest

from loaders.fakes import MarketData
from loaders.fakes.binance import make_binance
from loaders.fakes.coinbase import make_coinbase
from loaders.fakes.kraken import make_kraken
from loaders.fakes.mt5 import make_mt5
from loaders.fakes.taapi import make_taapi

TAAPI_KEY = "taapi-SECRET-0123456789abcdef"
MT5_KEY = "mt5-SECRET-fedcba9876543210"


@pytest.fixture(scope="session")
def market() -> MarketData:
    """Three hours of deterministic BTC trades, now = 03:00:30 (a forming candle at 03:00)."""
    return MarketData()


@pytest.fixture
def binance(market):
    with make_binance({"BTCUSDT": market}) as srv:
        yield srv


@pytest.fixture
def kraken(market):
    with make_kraken({"XXBTZUSD": market}) as srv:
        yield srv


@pytest.fixture
def coinbase(market):
    with make_coinbase({"BTC-USD": market}) as srv:
        yield srv


@pytest.fixture
def mt5(market):
    with make_mt5({"EURUSD": market}, api_key=MT5_KEY, broker_offset_hours=2) as srv:
        yield srv


@pytest.fixture
def taapi_server():
    with make_taapi(secret=TAAPI_KEY) as srv:
        yield srv


@pytest.fixture
def loader_env(monkeypatch):
    """Secrets in the environment, as in production (never in files)."""
    monkeypatch.setenv("KEY_TAAPI_IO", TAAPI_KEY)
    monkeypatch.setenv("MT5_API_KEY", MT5_KEY)
    monkeypatch.delenv("DRY_RUN", raising=False)
