"""Loader configuration: the YAML file (exchanges, pairs, timeframes, schedules, taapi, MT5,
dumps) and the environment (secrets, DRY_RUN). The one place loaders read either.

Secrets never come from the file: a key that looks like one (api_key, secret, password, token)
is refused with a sentence saying which environment variable to set instead. Every problem is
reported as a `ConfigError` whose message is one sentence naming the file and the key.
See config.example.yaml and docs/loaders.md for the reference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from db.connection import ConfigurationError

TAAPI_KEY_ENV = "KEY_TAAPI_IO"
MT5_KEY_ENV = "MT5_API_KEY"
DRY_RUN_ENV = "DRY_RUN"
SECRET_WORDS = ("api_key", "apikey", "secret", "password", "token", "passphrase")
EXCHANGE_DATASETS = ("candles", "trades", "ticker", "quotes")
DEFAULT_SCHEDULE = {"candles": 60, "trades": 60, "quotes": 60, "ticker": 300, "taapi": 3600,
                    "dumps": 86400}
TAAPI_PLANS = {"free": 1, "basic": 5, "pro": 30, "expert": 75}  # requests per 15 seconds
DEFAULT_BASE_URLS = {
    "binance": "https://api.binance.com",
    "kraken": "https://api.kraken.com",
    "coinbase": "https://api.exchange.coinbase.com",
    "taapi": "https://api.taapi.io",
}


class ConfigError(ConfigurationError):
    """The config file or the environment is wrong; the message is one clear sentence."""


@dataclass
class HttpSettings:
    timeout: float = 10.0
    retries: int = 5
    backoff: float = 0.5
    max_retry_after: float = 300.0
    min_interval: float | None = None      # None: the source's own default spacing


@dataclass
class ExchangeConfig:
    name: str
    base_url: str
    pairs: list[str]
    timeframes: list[str] = field(default_factory=lambda: ["1m"])
    datasets: list[str] = field(default_factory=lambda: ["candles"])
    since: int | None = None               # Unix µs where a first backfill starts
    until: int | None = None               # Unix µs, exclusive: load nothing from then on (--until)
    backfill: bool = False                 # --backfill: from `since` up to the first stored row
    page_size: int | None = None
    http: HttpSettings = field(default_factory=HttpSettings)
    options: dict[str, Any] = field(default_factory=dict)
    api_key_env: str | None = None


@dataclass
class IndicatorSpec:
    indicator: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """rsi_14, macd_12_26_9 …: the indicator and its parameter values, in a stable order."""
        values = [str(v) for k, v in sorted(self.params.items()) if k not in ("backtrack",)]
        return "_".join([self.indicator, *values])


@dataclass
class TaapiConfig:
    base_url: str = DEFAULT_BASE_URLS["taapi"]
    exchange: str = "binance"
    symbols: list[str] = field(default_factory=lambda: ["BTC/USDT"])
    intervals: list[str] = field(default_factory=lambda: ["1h"])
    indicators: list[IndicatorSpec] = field(default_factory=lambda: default_indicators())
    plan: str = "free"
    requests_per_15s: float | None = None
    bulk: bool = True
    backtrack: int = 1
    http: HttpSettings = field(default_factory=HttpSettings)

    @property
    def min_interval(self) -> float:
        rate = self.requests_per_15s or TAAPI_PLANS[self.plan]
        return 15.0 / rate


@dataclass
class Config:
    path: str = "<defaults>"
    exchanges: dict[str, ExchangeConfig] = field(default_factory=dict)
    taapi: TaapiConfig | None = None
    dumps: list[str] = field(default_factory=list)
    schedule: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SCHEDULE))


@dataclass(frozen=True)
class Environment:
    """Secrets and switches from the process environment (never from files)."""

    taapi_key: str | None = None
    mt5_key: str | None = None
    dry_run: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_os(cls, environ: Mapping[str, str] | None = None) -> "Environment":
        """Switches from the environment; secrets from the encrypted file named by
        TSQ_SECRETS_FILE when it is set (models_py.secure_config), else from the environment."""
        from models_py.secure_config import SecureConfigError, secrets_from

        env = os.environ if environ is None else environ
        try:
            secret = secrets_from(env)
        except SecureConfigError as exc:
            raise ConfigError(str(exc)) from None
        return cls(taapi_key=secret.get(TAAPI_KEY_ENV) or None, mt5_key=secret.get(MT5_KEY_ENV) or None,
                   dry_run=env.get(DRY_RUN_ENV, "").strip().lower() in ("1", "true", "yes", "on"),
                   extra={**dict(env), **dict(secret)})

    def secret(self, variable: str) -> str | None:
        if variable == TAAPI_KEY_ENV:
            return self.taapi_key
        if variable == MT5_KEY_ENV:
            return self.mt5_key
        return self.extra.get(variable) or None

    def require(self, variable: str, what: str) -> str:
        value = self.secret(variable)
        if not value:
            raise ConfigError(f"the {what} is missing: set the environment variable {variable}")
        return value


# -- parsing helpers --------------------------------------------------------------------------

def parse_time(value: Any, where: str) -> int:
    """Unix microseconds from a date, an ISO 8601 datetime (UTC unless it says otherwise)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a date (use YYYY-MM-DD or an ISO 8601 time)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


class _Section:
    """Typed access to one mapping of the file, with errors that name the key."""

    def __init__(self, data: Any, where: str, allowed: tuple[str, ...]) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{where} must be a mapping of keys to values")
        for key in data:
            if any(word in str(key).lower() for word in SECRET_WORDS) and not str(key).endswith("_env"):
                raise ConfigError(f"{where}.{key} looks like a secret: secrets are read only from the "
                                  "environment, never from the config file")
            if key not in allowed:
                raise ConfigError(f"{where}: unknown key {key!r} (expected one of {', '.join(allowed)})")
        self.data = data
        self.where = where

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def string_list(self, key: str, default: list[str]) -> list[str]:
        value = self.data.get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value) or not value:
            raise ConfigError(f"{self.where}.{key} must be a non-empty list of names")
        return [str(v) for v in value]

    def number(self, key: str, default: float | None, *, minimum: float = 0.0) -> float | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise ConfigError(f"{self.where}.{key} must be a number >= {minimum:g}, got {value!r}")
        return float(value)


HTTP_KEYS = ("timeout", "retries", "backoff", "max_retry_after", "min_interval")


def _http(section: _Section) -> HttpSettings:
    defaults = HttpSettings()
    return HttpSettings(
        timeout=section.number("timeout", defaults.timeout, minimum=0.001),
        retries=int(section.number("retries", defaults.retries, minimum=1)),
        backoff=section.number("backoff", defaults.backoff),
        max_retry_after=section.number("max_retry_after", defaults.max_retry_after),
        min_interval=section.number("min_interval", None),
    )


def _exchange(name: str, data: Any, where: str) -> ExchangeConfig:
    from loaders.sources.base import source_names

    if name not in source_names():
        raise ConfigError(f"{where}: unknown exchange {name!r} (known: {', '.join(source_names())})")
    s = _Section(data, where, ("base_url", "pairs", "timeframes", "datasets", "since", "page_size",
                               "options", "api_key_env", *HTTP_KEYS))
    base_url = s.get("base_url", DEFAULT_BASE_URLS.get(name))
    if not base_url:
        raise ConfigError(f"{where}.base_url is required for {name}")
    datasets = s.string_list("datasets", ["candles"])
    unknown = [d for d in datasets if d not in EXCHANGE_DATASETS]
    if unknown:
        raise ConfigError(f"{where}.datasets: unknown dataset {unknown[0]!r} "
                          f"(expected {', '.join(EXCHANGE_DATASETS)})")
    options = s.get("options", {}) or {}
    _Section(options, f"{where}.options", ("trades_endpoint", "broker_utc_offset_hours"))
    page = s.number("page_size", None, minimum=1)
    return ExchangeConfig(
        name=name, base_url=str(base_url), pairs=s.string_list("pairs", []),
        timeframes=s.string_list("timeframes", ["1m"]), datasets=datasets,
        since=parse_time(s.get("since"), f"{where}.since") if s.get("since") is not None else None,
        page_size=int(page) if page else None, http=_http(s), options=dict(options),
        api_key_env=s.get("api_key_env", MT5_KEY_ENV if name == "mt5" else None),
    )


def indicator_spec(item: Any, where: str) -> IndicatorSpec:
    if isinstance(item, str):
        return IndicatorSpec(item.lower())
    if isinstance(item, dict) and isinstance(item.get("indicator"), str):
        params = {k: v for k, v in item.items() if k != "indicator"}
        return IndicatorSpec(item["indicator"].lower(), params)
    raise ConfigError(f"{where}: each indicator is a name or a mapping with an 'indicator' key")


def _taapi(data: Any, where: str) -> TaapiConfig:
    s = _Section(data, where, ("base_url", "exchange", "symbols", "intervals", "indicators", "plan",
                               "requests_per_15s", "bulk", "backtrack", *HTTP_KEYS))
    plan = str(s.get("plan", "free"))
    if plan not in TAAPI_PLANS:
        raise ConfigError(f"{where}.plan must be one of {', '.join(TAAPI_PLANS)}, got {plan!r}")
    raw = s.get("indicators")
    indicators = default_indicators() if raw is None else [
        indicator_spec(item, f"{where}.indicators") for item in (raw if isinstance(raw, list) else [raw])
    ]
    return TaapiConfig(
        base_url=str(s.get("base_url", DEFAULT_BASE_URLS["taapi"])), exchange=str(s.get("exchange", "binance")),
        symbols=s.string_list("symbols", ["BTC/USDT"]), intervals=s.string_list("intervals", ["1h"]),
        indicators=indicators, plan=plan, requests_per_15s=s.number("requests_per_15s", None, minimum=0.01),
        bulk=bool(s.get("bulk", True)), backtrack=int(s.number("backtrack", 1)), http=_http(s),
    )


def default_indicators() -> list[IndicatorSpec]:
    return [IndicatorSpec("rsi", {"period": 14}), IndicatorSpec("ema", {"period": 20}),
            IndicatorSpec("sma", {"period": 20}), IndicatorSpec("macd"), IndicatorSpec("bbands"),
            IndicatorSpec("atr", {"period": 14})]


def parse_config(data: Any, path: str = "<config>") -> Config:
    top = _Section(data, path, ("exchanges", "taapi", "dumps", "schedule"))
    exchanges_section = _Section(top.get("exchanges", {}), f"{path}: exchanges",
                                 tuple(top.get("exchanges", {}) or {}))
    exchanges = {str(name).lower(): _exchange(str(name).lower(), value, f"{path}: exchanges.{name}")
                 for name, value in exchanges_section.data.items()}
    taapi = _taapi(top.get("taapi"), f"{path}: taapi") if top.get("taapi") is not None else None
    dumps = top.get("dumps", []) or []
    if not isinstance(dumps, list) or not all(isinstance(d, str) for d in dumps):
        raise ConfigError(f"{path}: dumps must be a list of file paths or URLs")
    schedule_section = _Section(top.get("schedule", {}), f"{path}: schedule", tuple(DEFAULT_SCHEDULE))
    schedule = dict(DEFAULT_SCHEDULE)
    for key in schedule_section.data:
        schedule[key] = schedule_section.number(key, None, minimum=1)
    return Config(path=path, exchanges=exchanges, taapi=taapi, dumps=list(dumps), schedule=schedule)


class _TextDatesLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text: parse_time then checks them, so a bad date (2024-02-30)
    is reported with the file and key instead of as a bare "day is out of range for month"."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file {file} does not exist")
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_TextDatesLoader)  # noqa: S506 (safe)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {file} is not valid YAML{where}") from None
    return parse_config(data or {}, str(file))
