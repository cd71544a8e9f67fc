"""Exchange jobs (seed 004's OHLCV and ticker collectors): one run per (exchange, dataset) over
the configured pairs and timeframes, under the job's lock, with one run record."""

from __future__ import annotations

import logging

import psycopg

from loaders.core.config import Environment, ExchangeConfig
from loaders.core.http import HttpClient, RateLimiter, RetryPolicy, WeightBudget
from loaders.core.runs import LoaderRun
from loaders.jobs.report import Progress, SeriesResult
from loaders.jobs.series import SeriesLoader, SeriesSpec
from loaders.sources.base import Source, source_class

log = logging.getLogger("loaders")


def default_job(exchange: str, dataset: str) -> str:
    """Job name (lock, run records, watermarks) of an exchange dataset: e.g. binance-candles."""
    return f"{exchange}-{dataset}"


def make_http(cfg: ExchangeConfig, *, source_name: str, default_min_interval: float = 0.0,
              secrets: tuple[str, ...] = (), headers: dict[str, str] | None = None,
              body_check=None, weight: WeightBudget | None = None) -> HttpClient:
    interval = cfg.http.min_interval if cfg.http.min_interval is not None else default_min_interval
    return HttpClient(
        cfg.base_url, source=source_name, timeout=cfg.http.timeout,
        retry=RetryPolicy(attempts=cfg.http.retries, base_delay=cfg.http.backoff,
                          max_retry_after=cfg.http.max_retry_after),
        limiter=RateLimiter(interval), weight=weight, secrets=secrets, headers=headers or {},
        body_check=body_check,
    )


def make_source(cfg: ExchangeConfig, env: Environment) -> Source:
    """The source object for an exchange config, with its HTTP client (seed 004 ExchangeFactory)."""
    cls = source_class(cfg.name)
    secrets: tuple[str, ...] = ()
    headers: dict[str, str] = {}
    if cls.api_key_header:
        key = env.require(cfg.api_key_env or f"{cfg.name.upper()}_API_KEY", f"{cfg.name} API key")
        secrets, headers = (key,), {cls.api_key_header: key}
    weight = WeightBudget(*cls.weight_header) if cls.weight_header else None
    http = make_http(cfg, source_name=cfg.name, default_min_interval=cls.min_interval,
                     secrets=secrets, headers=headers, body_check=cls.body_check, weight=weight)
    return cls(http, page_size=cfg.page_size, **cfg.options)


def series_of(cfg: ExchangeConfig, dataset: str, *, since_us: int | None = None,
              max_pages: int | None = None) -> list[SeriesSpec]:
    since = since_us if since_us is not None else cfg.since
    timeframes = cfg.timeframes if dataset == "candles" else [""]
    return [SeriesSpec(pair, dataset, tf, since, max_pages, until_us=cfg.until, backfill=cfg.backfill)
            for pair in cfg.pairs for tf in timeframes]


def run_exchange_job(conn: psycopg.Connection, cfg: ExchangeConfig, dataset: str, env: Environment, *,
                     job: str | None = None, since_us: int | None = None, max_pages: int | None = None,
                     progress: Progress | None = None,
                     results: list[SeriesResult] | None = None) -> list[SeriesResult]:
    """Load one dataset of one exchange for every configured pair (and timeframe); each series'
    result is appended to `results` (pass a list to keep them when the run fails).

    Raises JobLocked when another run of the job holds the lock; any other failure marks the run
    failed (its committed pages stay) and propagates."""
    source = make_source(cfg, env)
    specs = series_of(cfg, dataset, since_us=since_us, max_pages=max_pages)
    args = {"exchange": cfg.name, "dataset": dataset, "pairs": cfg.pairs, "base_url": cfg.base_url,
            "timeframes": cfg.timeframes if dataset == "candles" else [],
            **({"until": cfg.until} if cfg.until is not None else {}),
            **({"backfill": True, "since": cfg.since} if cfg.backfill else {})}
    results = [] if results is None else results
    try:
        with LoaderRun(conn, job=job or default_job(cfg.name, dataset), source=source.source_tag,
                       dataset=dataset, args=args) as run:
            loader = SeriesLoader(run, source, progress)
            for spec in specs:
                loader.load(spec, results)
    finally:
        source.http.close()
    return results
