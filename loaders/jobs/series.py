"""Backfill and incremental loading of one series (source, instrument, dataset, timeframe).

A series starts at its watermark (ops.watermarks, written in the same transaction as each batch)
or, on its first run, at `since`; it then pages forward through the source until the source says
there is nothing more. Each page is one transaction (rows, quarantine, watermark, run counts):
a run killed at any point leaves whole pages behind and the next run continues after them.
Still-forming candles are never passed on (the sources drop them; counted as `forming`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import psycopg

from loaders.core.http import SourceError
from loaders.core.ingest import CANDLES, QUOTES, TRADES, Dataset
from loaders.core.runs import LoaderRun, watermark
from loaders.instruments import resolve
from loaders.jobs import frames
from loaders.jobs.report import Progress, SeriesResult
from loaders.sources.base import TIMEFRAME_SECONDS, US_PER_S, Page, Source, TradeCursor

BATCH_ROWS = 1_000_000  # a page is one batch: never split a page over two transactions
DEFAULT_CANDLE_LOOKBACK = 1000  # candles fetched on a first run without --since
DEFAULT_TICK_LOOKBACK_US = 3600 * US_PER_S


@dataclass(frozen=True)
class SeriesSpec:
    symbol: str
    dataset: str             # candles | trades | quotes | ticker
    timeframe: str = ""
    since_us: int | None = None
    max_pages: int | None = None


class SeriesLoader:
    """Loads the series of one source inside one LoaderRun."""

    def __init__(self, run: LoaderRun, source: Source, progress: Progress | None = None) -> None:
        self.run = run
        self.source = source
        self.progress = progress or Progress(enabled=False)

    @property
    def conn(self) -> psycopg.Connection:
        return self.run.conn

    def instrument_id(self, symbol: str) -> int:
        exchange_symbol = self.source.exchange_symbol(symbol)
        return resolve(self.conn, self.source.name, [exchange_symbol], register=True)[exchange_symbol]

    def load(self, spec: SeriesSpec, results: list[SeriesResult] | None = None) -> SeriesResult:
        """Load one series; its result is appended to `results` first, so a failure shows too."""
        result = SeriesResult(self.source.name, spec.symbol, spec.dataset, spec.timeframe)
        if results is not None:
            results.append(result)
        started = time.perf_counter()
        try:
            handler: Callable[[SeriesSpec, SeriesResult], None] = {
                "candles": self._candles, "trades": self._trades, "quotes": self._quotes,
                "ticker": self._ticker,
            }[spec.dataset]
            handler(spec, result)
        except BaseException as exc:
            result.error = str(exc) or type(exc).__name__
            raise
        finally:
            result.seconds = time.perf_counter() - started
            self.progress.done()
        return result

    # -- helpers --------------------------------------------------------------------------------

    def _high_water_us(self, iid: int, dataset: str, timeframe: str = "") -> tuple[int | None, int | None]:
        high, last_id = watermark(self.conn, job=self.run.job, source=self.source.source_tag,
                                  instrument_id=iid, dataset=dataset, timeframe=timeframe)
        return (None if high is None else int(pd.Timestamp(high).value // 1000)), last_id

    def _load_page(self, ds: Dataset, df: pd.DataFrame, page: Page, symbol: str,
                   result: SeriesResult, time_col: str) -> None:
        counts = self.run.load(ds, df, batch_size=BATCH_ROWS, rejects=frames.with_symbol(page.rejects, symbol))
        result.counts.add(counts)
        result.pages += 1
        result.forming_skipped += page.forming
        if len(df):
            first, last = int(df[time_col].min()), int(df[time_col].max())
            result.first_us = first if result.first_us is None else min(result.first_us, first)
            result.last_us = last if result.last_us is None else max(result.last_us, last)

    def _show(self, spec: SeriesSpec, result: SeriesResult, start_us: int, at_us: int | None,
              now_us: int) -> None:
        span = max(1, now_us - start_us)
        fraction = 1.0 if at_us is None else (at_us - start_us) / span
        self.progress.update(result.label, fraction,
                             f"page {result.pages}, loaded {result.counts.loaded}, "
                             f"dup {result.counts.duplicate}, quarantined {result.counts.quarantined}")

    @staticmethod
    def _check_pages(spec: SeriesSpec, result: SeriesResult) -> bool:
        return spec.max_pages is None or result.pages < spec.max_pages

    # -- datasets -------------------------------------------------------------------------------

    def _candles(self, spec: SeriesSpec, result: SeriesResult) -> None:
        self.source.api_timeframe(spec.timeframe)
        iid = self.instrument_id(spec.symbol)
        now_us = self.source.server_time_us()
        width_us = TIMEFRAME_SECONDS[spec.timeframe] * US_PER_S
        high_us, _ = self._high_water_us(iid, "candles", spec.timeframe)
        if high_us is not None:
            start_us = high_us + (width_us if spec.timeframe != "1M" else 1)
        elif spec.since_us is not None:
            start_us = -(-spec.since_us // width_us) * width_us if spec.timeframe != "1M" else spec.since_us
        else:
            start_us = (now_us // width_us - DEFAULT_CANDLE_LOOKBACK) * width_us
        cursor: int | None = start_us
        while cursor is not None and cursor + width_us <= now_us and self._check_pages(spec, result):
            page = self.source.fetch_candles(spec.symbol, spec.timeframe, cursor, now_us)
            df = frames.candles_frame(page.rows, instrument_id=iid, symbol=spec.symbol,
                                      timeframe=spec.timeframe, source=self.source.source_tag)
            self._load_page(CANDLES, df, page, spec.symbol, result, "open_time")
            if page.next_cursor is not None and page.next_cursor <= cursor:
                raise SourceError(f"{self.source.name}: candle paging did not advance past {cursor}")
            cursor = page.next_cursor
            self._show(spec, result, start_us, cursor, now_us)
        if result.first_us is not None:
            result.gaps = count_candle_gaps(self.conn, iid, spec.timeframe, result.first_us, result.last_us)

    def _trades(self, spec: SeriesSpec, result: SeriesResult) -> None:
        iid = self.instrument_id(spec.symbol)
        now_us = self.source.server_time_us()
        high_us, last_id = self._high_water_us(iid, "trades")
        if high_us is not None:
            cursor: TradeCursor | None = TradeCursor(high_us, last_id)
        else:
            cursor = TradeCursor(spec.since_us if spec.since_us is not None else now_us - DEFAULT_TICK_LOOKBACK_US)
        start_us = cursor.since_us
        while cursor is not None and self._check_pages(spec, result):
            page = self.source.fetch_trades(spec.symbol, cursor, now_us)
            df = frames.trades_frame(page.rows, instrument_id=iid, symbol=spec.symbol)
            self._load_page(TRADES, df, page, spec.symbol, result, "time")
            if page.next_cursor == cursor:
                raise SourceError(f"{self.source.name}: trade paging did not advance past {cursor}")
            cursor = page.next_cursor
            self._show(spec, result, start_us, None if cursor is None else cursor.since_us, now_us)

    def _quotes(self, spec: SeriesSpec, result: SeriesResult) -> None:
        iid = self.instrument_id(spec.symbol)
        now_us = self.source.server_time_us()
        high_us, _ = self._high_water_us(iid, "quotes")
        since = high_us if high_us is not None else (
            spec.since_us if spec.since_us is not None else now_us - DEFAULT_TICK_LOOKBACK_US)
        start_us = since
        cursor: int | None = since
        while cursor is not None and self._check_pages(spec, result):
            page = self.source.fetch_quotes(spec.symbol, cursor, now_us)
            df = frames.quotes_frame(page.rows, instrument_id=iid, symbol=spec.symbol)
            self._load_page(QUOTES, df, page, spec.symbol, result, "time")
            if page.next_cursor is not None and page.next_cursor <= cursor:
                raise SourceError(f"{self.source.name}: tick paging did not advance past {cursor}")
            cursor = page.next_cursor
            self._show(spec, result, start_us, cursor, now_us)

    def _ticker(self, spec: SeriesSpec, result: SeriesResult) -> None:
        iid = self.instrument_id(spec.symbol)
        row = self.source.fetch_ticker(spec.symbol)
        df = frames.tickers_frame([row], instrument_id=iid, symbol=spec.symbol)
        self._load_page(frames.TICKERS, df, Page(rows=[row]), spec.symbol, result, "time")


def count_candle_gaps(conn: psycopg.Connection, instrument_id: int, timeframe: str,
                      first_us: int, last_us: int) -> int | None:
    """Missing candles between the first and last stored candle of a range (None for 1M)."""
    if timeframe == "1M":
        return None
    width_s = TIMEFRAME_SECONDS[timeframe]
    row = conn.execute(
        """
        select coalesce(sum(greatest(0, round(extract(epoch from (s.next_time - s.open_time)) / %(w)s) - 1)), 0)
        from (
            select c.open_time, lead(c.open_time) over (order by c.open_time) as next_time
            from market.candles as c
            where c.instrument_id = %(i)s and c.timeframe = %(tf)s
                and c.open_time between to_timestamp(%(a)s / 1e6) and to_timestamp(%(b)s / 1e6)
        ) as s
        where s.next_time is not null
        """,
        {"w": width_s, "i": instrument_id, "tf": timeframe, "a": first_us, "b": last_us},
    ).fetchone()
    return int(row[0])
