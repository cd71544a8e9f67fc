"""The Binance dump import job: files or URLs -> market.candles / market.trades, in batches (one
transaction each), under the lock `binance-dumps`, with one run record and a report line per file."""

from __future__ import annotations

import time

import numpy as np
import psycopg

from loaders.core.config import ExchangeConfig, HttpSettings
from loaders.core.ingest import CANDLES, TRADES
from loaders.core.runs import LoaderRun
from loaders.core.instruments import resolve
from loaders.jobs.exchange import make_http
from loaders.jobs.frames import with_symbol
from loaders.jobs.report import Progress, SeriesResult
from loaders.sources import binance_dumps as dumps

JOB = "binance-dumps"
SOURCE = "binance_dump"


def run_dump_job(conn: psycopg.Connection, locations: list[str], *, job: str = JOB,
                 batch_rows: int = 50_000, http: HttpSettings | None = None,
                 progress: Progress | None = None,
                 results: list[SeriesResult] | None = None) -> list[SeriesResult]:
    files = [dumps.describe(f) for loc in locations for f in dumps.expand(loc)]
    if not files:
        raise dumps.DumpLocationError(f"no Binance dump files found in {', '.join(locations)}")
    progress = progress or Progress(enabled=False)
    results = [] if results is None else results
    client = None
    if any(dumps.is_url(f.location) for f in files):
        client = make_http(ExchangeConfig(name="binance_dump", base_url="", pairs=[], http=http or HttpSettings()),
                           source_name="binance dumps")
    try:
        with LoaderRun(conn, job=job, source=SOURCE, dataset="candles,trades",
                       args={"files": [f.location for f in files]}) as run:
            for n, dump in enumerate(files, start=1):
                results.append(_import_one(run, dump, client, batch_rows))
                progress.update("binance dumps", n / len(files), f"{dump.name}: {results[-1].counts.loaded} loaded")
    finally:
        progress.done()
        if client is not None:
            client.close()
    return results


def _import_one(run: LoaderRun, dump: dumps.DumpFile, client, batch_rows: int) -> SeriesResult:
    result = SeriesResult(SOURCE, dump.symbol, dump.dataset, dump.timeframe)
    started = time.perf_counter()
    try:
        data, expected = dumps.fetch(dump, client)
        dumps.verify(dump, data, expected)
        text = dumps.csv_text(dump, data)
        iid = resolve(run.conn, "binance", [dump.symbol], register=True)[dump.symbol]
        if dump.dataset == "candles":
            df, rejects = dumps.parse_klines(text, dump.symbol, dump.timeframe, dump.name)
            df["source"] = SOURCE
            ds, time_col = CANDLES, "open_time"
        else:
            df, rejects = dumps.parse_trades(text, dump.symbol, dump.kind == "aggTrades", dump.name)
            ds, time_col = TRADES, "time"
        df["instrument_id"] = np.int32(iid)
        df["symbol"] = dump.symbol
        result.counts.add(run.load(ds, df, batch_size=batch_rows, rejects=with_symbol(rejects, dump.symbol)))
        result.pages = 1
        if len(df):
            result.first_us, result.last_us = int(df[time_col].min()), int(df[time_col].max())
    except BaseException as exc:
        result.error = str(exc) or type(exc).__name__
        raise
    finally:
        result.seconds = time.perf_counter() - started
    return result
