"""The taapi job: indicator values for the configured exchange/symbols/intervals into
signals.raw_signals (seed 000's signaux_bruts), one run record, lock `taapi-<interval>…`.

Replaces the seed's per-interval scripts (main_signal_to_db_1h.py, …_15m.py): one command,
`python -m loaders taapi --interval 1h`. Requests are spaced by the plan's rate (free 1, basic 5,
pro 30, expert 75 requests per 15 s); a 429 waits for Retry-After (or backs off) and retries.
DRY_RUN=1 makes no HTTP call and writes rows flagged simulated = true: the values are our own
indicators (ta.indicator_series) of the stored candles of the same bar, so they are plausible and
line up with the maintained indicators (bi.taapi_crosscheck); nothing is made up.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import psycopg

from loaders.core.config import ConfigError, Environment, ExchangeConfig, TAAPI_KEY_ENV, TaapiConfig
from loaders.core.http import SourceError
from loaders.core.ingest import Counts, write_quarantine
from loaders.core.runs import LoaderRun
from loaders.jobs.exchange import make_http
from loaders.jobs.report import Progress, SeriesResult
from loaders.sources import taapi
from loaders.sources.base import US_PER_S

SOURCE = "taapi"


def to_json(value: Any) -> str:
    """JSON text with datetimes serialised as ISO 8601, recursively (seed 000's fix for raw_json)."""
    def default(obj: Any) -> Any:
        if isinstance(obj, (datetime, date)):
            return obj.isoformat()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
    return json.dumps(value, default=default, sort_keys=True)


@dataclass(frozen=True)
class SignalRow:
    req: taapi.Request
    value: float | None
    outputs: dict[str, float]
    source_time_us: int
    raw: dict[str, Any]
    simulated: bool


def requests_for(cfg: TaapiConfig, intervals: list[str]) -> list[taapi.Request]:
    return [taapi.Request(cfg.exchange, symbol, taapi.check_interval(interval), spec, cfg.backtrack)
            for interval in intervals for symbol in cfg.symbols for spec in cfg.indicators]


def default_job(intervals: list[str]) -> str:
    return "taapi-" + "-".join(intervals)


def _row(result: taapi.Result, now_us: int, simulated: bool) -> SignalRow:
    req = result.request
    outputs = taapi.outputs_of(result.body)
    stamp = result.body.get("timestamp")
    source_us = int(stamp) * US_PER_S if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) \
        else taapi.candle_open_us(req.interval, now_us, req.backtrack)
    raw = {"result": result.body, "request": {"id": req.id, "params": req.params()},
           "received_at": datetime.utcfromtimestamp(now_us / US_PER_S)}
    return SignalRow(req, taapi.main_value(req.spec.indicator, outputs), outputs, source_us, raw, simulated)


def _insert(conn: psycopg.Connection, rows: list[SignalRow], run_id: int | None) -> list[bool]:
    """Insert the rows; for each, whether it was new (False: already stored, a duplicate)."""
    inserted = []
    for row in rows:
        cur = conn.execute(
            "insert into signals.raw_signals (source, exchange, symbol, timeframe, indicator,"
            " indicator_key, params, value, outputs, source_time, raw_json, simulated, run_id)"
            " values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::jsonb,"
            " to_timestamp(%s::double precision / 1e6), %s::jsonb, %s, %s)"
            " on conflict on constraint raw_signals_once do nothing",
            (SOURCE, row.req.exchange, row.req.symbol, row.req.interval, row.req.spec.indicator,
             row.req.spec.key, to_json(row.req.params()), row.value, to_json(row.outputs),
             row.source_time_us, to_json(row.raw), row.simulated, run_id),
        )
        inserted.append(cur.rowcount == 1)
    return inserted


def _store(run: LoaderRun, results: list[taapi.Result], now_us: int, simulated: bool,
           per_series: dict[tuple[str, str], SeriesResult]) -> None:
    """One transaction: rows, quarantined results, run counts."""
    rows: list[SignalRow] = []
    bad: list[tuple[str, str | None, int | None, str]] = []
    for result in results:
        series = per_series[(result.request.symbol, result.request.interval)]
        try:
            if result.error:
                raise ValueError(result.error)
            rows.append(_row(result, now_us, simulated))
        except (ValueError, TypeError, AttributeError) as exc:
            reason = "source_error" if result.error else "malformed"
            bad.append((reason, result.request.symbol, None,
                        to_json({"id": result.request.id, "error": str(exc), "body": result.body})))
            series.counts.quarantined += 1
            series.counts.reasons[reason] = series.counts.reasons.get(reason, 0) + 1
        series.counts.rows_in += 1
    with run.conn.transaction():
        with run.conn.cursor() as cur:
            write_quarantine(cur, run_id=run.run_id, source=SOURCE, dataset="raw_signals", rows=bad)
        inserted = _insert(run.conn, rows, run.run_id)
        batch = Counts(rows_in=len(results), loaded=sum(inserted), quarantined=len(bad),
                       duplicate=len(rows) - sum(inserted))
        for reason, *_ in bad:
            batch.reasons[reason] = batch.reasons.get(reason, 0) + 1
        run.record_batch(batch)
    for row, new in zip(rows, inserted):
        counts = per_series[(row.req.symbol, row.req.interval)].counts
        if new:
            counts.loaded += 1
        else:
            counts.duplicate += 1


def run_taapi_job(conn: psycopg.Connection, cfg: TaapiConfig, env: Environment, *,
                  intervals: list[str] | None = None, job: str | None = None,
                  progress: Progress | None = None, now_us: int | None = None,
                  results: list[SeriesResult] | None = None) -> list[SeriesResult]:
    """Fetch (or simulate, DRY_RUN) every configured indicator and store the values."""
    intervals = intervals or cfg.intervals
    reqs = requests_for(cfg, intervals)
    progress = progress or Progress(enabled=False)
    results = [] if results is None else results
    per_series = {(s, i): SeriesResult(SOURCE, s, "signals", i) for i in intervals for s in cfg.symbols}
    results.extend(per_series.values())
    started = time.perf_counter()
    client = None if env.dry_run else _client(cfg, env)
    args = {"intervals": intervals, "symbols": cfg.symbols, "exchange": cfg.exchange,
            "indicators": [s.key for s in cfg.indicators], "bulk": cfg.bulk, "dry_run": env.dry_run,
            "plan": cfg.plan, "base_url": cfg.base_url}
    try:
        with LoaderRun(conn, job=job or default_job(intervals), source=SOURCE, dataset="raw_signals",
                       args=args) as run:
            moment = int(time.time() * US_PER_S) if now_us is None else now_us
            for n, batch in enumerate(_batches(conn, client, reqs, cfg.bulk, moment), start=1):
                _store(run, batch, moment, env.dry_run, per_series)
                progress.update(f"taapi {','.join(intervals)}", n * len(batch) / max(1, len(reqs)),
                                f"{run.counts.loaded} stored, {run.counts.quarantined} errors")
    except BaseException as exc:
        rejected = isinstance(exc, SourceError) and exc.status in (401, 403)
        failure = SourceError(f"taapi.io rejected the key in {TAAPI_KEY_ENV} ({exc})") if rejected else exc
        for series in per_series.values():  # every row of the report shows that the run failed
            series.error = series.error or " ".join(str(failure).split()) or type(failure).__name__
        if rejected:
            raise failure from None
        raise
    finally:
        progress.done()
        if client is not None:
            client.http.close()
        for series in per_series.values():
            series.seconds = time.perf_counter() - started
    return results


def _client(cfg: TaapiConfig, env: Environment) -> taapi.Taapi:
    key = env.taapi_key
    if not key:
        raise ConfigError(f"the taapi.io key is missing: set {TAAPI_KEY_ENV} (or DRY_RUN=1 to simulate)")
    as_exchange = ExchangeConfig(name="taapi", base_url=cfg.base_url, pairs=cfg.symbols, http=cfg.http)
    http = make_http(as_exchange, source_name="taapi", default_min_interval=cfg.min_interval,
                     secrets=(key,))
    return taapi.Taapi(http, key)


def _batches(conn: psycopg.Connection, client: taapi.Taapi | None, reqs: list[taapi.Request], bulk: bool,
             now_us: int):
    """Lists of results, one list per HTTP call (or per simulated bulk-sized chunk)."""
    if client is None:
        for start in range(0, len(reqs), taapi.MAX_BULK_CALCULATIONS):
            chunk = reqs[start:start + taapi.MAX_BULK_CALCULATIONS]
            yield [simulated_result(conn, r, now_us) for r in chunk]
        return
    if bulk:
        chunk: list[taapi.Result] = []
        for result in client.fetch_bulk(reqs):
            chunk.append(result)
            if len(chunk) == taapi.MAX_BULK_CALCULATIONS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        return
    for req in reqs:
        yield [client.fetch_single(req)]


SIMULATION = """
    select o.key, v.value
    from ta.indicator_series(
        %(instrument)s, %(interval)s, %(indicator)s, ta._taapi_params(%(indicator)s, %(params)s::jsonb),
        to_timestamp(%(bar)s / 1e6), to_timestamp(%(bar)s / 1e6)
    ) as s
    cross join lateral (values (1, s.value1), (2, s.value2), (3, s.value3)) as v (pos, value)
    cross join lateral (select ta._taapi_output(%(indicator)s, v.pos) as key) as o
    where o.key is not null
    order by v.pos
"""


def simulated_result(conn: psycopg.Connection, req: taapi.Request, now_us: int) -> taapi.Result:
    """DRY_RUN: the value taapi would give for the bar, computed by our own kernel
    (ta.indicator_series) from the stored candles of the same instrument and interval, shaped
    like taapi's answer; an error result when there is nothing to compute it from."""
    open_us = taapi.candle_open_us(req.interval, now_us, req.backtrack)
    bar = datetime.fromtimestamp(open_us / US_PER_S, timezone.utc).strftime("%Y-%m-%d %H:%M")
    what = f"{req.spec.key} of {req.exchange} {req.symbol} {req.interval} at {bar} UTC"
    try:
        with conn.transaction():
            instrument = conn.execute("select market.resolve_instrument(%s, %s)",
                                      (req.exchange, req.symbol)).fetchone()[0]
            if instrument is None:
                return taapi.Result(req, error=f"DRY_RUN: cannot simulate {what}: no such instrument is stored")
            values = conn.execute(SIMULATION, {
                "instrument": instrument, "interval": req.interval, "indicator": req.spec.indicator,
                "params": to_json(req.params()), "bar": open_us}).fetchall()
    except psycopg.Error as exc:
        reason = exc.diag.message_primary or type(exc).__name__
        return taapi.Result(req, error=f"DRY_RUN: cannot simulate {what}: {reason}")
    if not values or any(v is None for _, v in values):
        return taapi.Result(req, error=f"DRY_RUN: cannot simulate {what}: no stored candle or not enough"
                                       " history before it")
    return taapi.Result(req, {**dict(values), "timestamp": open_us // US_PER_S, "simulated": True})
