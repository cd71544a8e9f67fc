"""Backfill and incremental loading of one series (source, instrument, dataset, timeframe).

A series starts at its watermark (ops.watermarks, written in the same transaction as each batch)
or, on its first run, at `since`; it then pages forward through the source until the source says
there is nothing more. Each page is one transaction (rows, quarantine, watermark, run counts):
a run killed at any point leaves whole pages behind and the next run continues after them.
Still-forming candles are never passed on (the sources drop them; counted as `forming`).

`until_us` bounds a load (nothing at or after it is fetched); a backfill (`backfill`) pages from
`since` up to the first row already stored (or `until`), whatever the watermark, and leaves the
watermark as it is (rows older than it never move it). A new instrument is registered only once
the source has answered for it: a symbol the exchange rejects never becomes an instrument.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import psycopg

from db.errors import UserError
from loaders.core.http import SourceError
from loaders.core.ingest import CANDLES, QUOTES, TRADES, Dataset
from loaders.core.runs import LoaderRun, watermark
from loaders.core.instruments import resolve
from loaders.jobs import frames
from loaders.jobs.report import Progress, SeriesResult
from loaders.sources.base import TIMEFRAME_SECONDS, US_PER_S, Page, Source, TradeCursor

log = logging.getLogger("loaders")

BATCH_ROWS = 1_000_000  # a page is one batch: never split a page over two transactions
DEFAULT_CANDLE_LOOKBACK = 1000  # candles fetched on a first run without --since
DEFAULT_TICK_LOOKBACK_US = 3600 * US_PER_S
FIRST_STORED = {  # the oldest stored row of a series: where a backfill stops
    "candles": "select min(open_time) from market.candles where instrument_id = %s and timeframe = %s",
    "trades": "select min(time) from market.trades where instrument_id = %s",
    "quotes": "select min(time) from market.quotes where instrument_id = %s",
}


@dataclass(frozen=True)
class SeriesSpec:
    symbol: str
    dataset: str             # candles | trades | quotes | ticker
    timeframe: str = ""
    since_us: int | None = None
    max_pages: int | None = None
    until_us: int | None = None  # exclusive end of the load (--until)
    backfill: bool = False       # from since_us up to the first stored row, watermark untouched


class SeriesLoader:
    """Loads the series of one source inside one LoaderRun."""

    def __init__(self, run: LoaderRun, source: Source, progress: Progress | None = None) -> None:
        self.run = run
        self.source = source
        self.progress = progress or Progress(enabled=False)

    @property
    def conn(self) -> psycopg.Connection:
        return self.run.conn

    def instrument_id(self, symbol: str, known: int | None = None) -> int:
        """The instrument's id, registering it when it is new (`known`: an id already looked up)."""
        if known is not None:
            return known
        exchange_symbol = self.source.exchange_symbol(symbol)
        return resolve(self.conn, self.source.name, [exchange_symbol], register=True)[exchange_symbol]

    def known_instrument_id(self, symbol: str) -> int | None:
        """The instrument's id, or None when it is not registered (nothing is registered here)."""
        exchange_symbol = self.source.exchange_symbol(symbol)
        iid = resolve(self.conn, self.source.name, [exchange_symbol])[exchange_symbol]
        return None if iid < 0 else iid

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
        except SourceError as exc:
            if self.known_instrument_id(spec.symbol) is not None:
                result.error = str(exc)
                raise
            rejected = SourceError(f"{exc}; {spec.symbol} was not registered as an instrument")
            result.error = str(rejected)
            raise rejected from None
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
                   result: SeriesResult, time_col: str, now_us: int | None) -> None:
        """One page, one transaction; `now_us` (the source's server time) bounds the watermark."""
        counts = self.run.load(ds, df, batch_size=BATCH_ROWS, rejects=frames.with_symbol(page.rejects, symbol),
                               now_us=now_us)
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

    def _first_stored_us(self, iid: int | None, dataset: str, timeframe: str = "") -> int | None:
        if iid is None:
            return None
        params = (iid, timeframe) if dataset == "candles" else (iid,)
        first = self.conn.execute(FIRST_STORED[dataset], params).fetchone()[0]
        return None if first is None else int(pd.Timestamp(first).value // 1000)

    def _end_us(self, spec: SeriesSpec, iid: int | None, now_us: int) -> int:
        """Where this load stops (exclusive): the source's clock, --until, and for a backfill the
        first stored row."""
        first = self._first_stored_us(iid, spec.dataset, spec.timeframe) if spec.backfill else None
        return min(t for t in (now_us, spec.until_us, first) if t is not None)

    def _check_start(self, spec: SeriesSpec, result: SeriesResult, start_us: int, end_us: int,
                     now_us: int, resumed: bool) -> None:
        """Say why a load will do nothing instead of doing nothing silently."""
        if spec.since_us is not None and not resumed and spec.since_us >= now_us:
            raise UserError(f"the start (--since / since) {_utc(spec.since_us)} is after {self.source.name}'s "
                            f"clock ({_utc(now_us)}): nothing to load")
        if start_us >= end_us:
            why = ("the first stored row" if spec.backfill and end_us != spec.until_us else "--until")
            log.warning("%s: nothing to load: it would start at %s, which is not before %s (%s)",
                        result.label, _utc(start_us), _utc(end_us), why)

    @staticmethod
    def _before(page: Page, end_us: int, now_us: int) -> Page:
        """The page without rows at or after `end_us` (--until, a backfill's first stored row); paging
        stops where rows were cut. Unbounded loads (end = the source's clock) keep every row."""
        if end_us >= now_us:
            return page
        kept = [row for row in page.rows if row.time < end_us]
        if len(kept) < len(page.rows):
            page.rows, page.next_cursor = kept, None
        return page

    @staticmethod
    def _check_pages(spec: SeriesSpec, result: SeriesResult) -> bool:
        return spec.max_pages is None or result.pages < spec.max_pages

    # -- datasets -------------------------------------------------------------------------------

    def _candles(self, spec: SeriesSpec, result: SeriesResult) -> None:
        self.source.api_timeframe(spec.timeframe)
        iid = self.known_instrument_id(spec.symbol)
        now_us = self.source.server_time_us()
        width_us = TIMEFRAME_SECONDS[spec.timeframe] * US_PER_S
        high_us = None if iid is None or spec.backfill else self._high_water_us(iid, "candles", spec.timeframe)[0]
        end_us = self._end_us(spec, iid, now_us)
        if high_us is not None:
            start_us = high_us + (width_us if spec.timeframe != "1M" else 1)
        elif spec.since_us is not None:
            start_us = -(-spec.since_us // width_us) * width_us if spec.timeframe != "1M" else spec.since_us
        else:
            start_us = (end_us // width_us - DEFAULT_CANDLE_LOOKBACK) * width_us
        self._check_start(spec, result, start_us, end_us, now_us, resumed=high_us is not None)
        cursor: int | None = start_us
        while cursor is not None and cursor + width_us <= end_us and self._check_pages(spec, result):
            # the source treats end_us as "now": bars ending after it are not passed on
            page = self.source.fetch_candles(spec.symbol, spec.timeframe, cursor, end_us)
            if end_us < now_us:
                page.forming = 0  # bars cut by the end bound are not forming ones
            iid = self.instrument_id(spec.symbol, iid)
            df = frames.candles_frame(page.rows, instrument_id=iid, symbol=spec.symbol,
                                      timeframe=spec.timeframe, source=self.source.source_tag)
            self._load_page(CANDLES, df, page, spec.symbol, result, "open_time", now_us)
            if page.next_cursor is not None and page.next_cursor <= cursor:
                raise SourceError(f"{self.source.name}: candle paging did not advance past {cursor}")
            cursor = page.next_cursor
            self._show(spec, result, start_us, cursor, end_us)
        if result.first_us is not None:
            result.gaps = count_candle_gaps(self.conn, iid, spec.timeframe, result.first_us, result.last_us)

    def _trades(self, spec: SeriesSpec, result: SeriesResult) -> None:
        iid = self.known_instrument_id(spec.symbol)
        now_us = self.source.server_time_us()
        high_us, last_id = (None, None) if iid is None or spec.backfill else self._high_water_us(iid, "trades")
        end_us = self._end_us(spec, iid, now_us)
        if high_us is not None:
            cursor: TradeCursor | None = TradeCursor(high_us, last_id)
        else:
            cursor = TradeCursor(spec.since_us if spec.since_us is not None else now_us - DEFAULT_TICK_LOOKBACK_US)
        start_us = cursor.since_us
        self._check_start(spec, result, start_us, end_us, now_us, resumed=high_us is not None)
        while cursor is not None and (end_us == now_us or cursor.since_us < end_us) \
                and self._check_pages(spec, result):
            page = self._before(self.source.fetch_trades(spec.symbol, cursor, end_us), end_us, now_us)
            iid = self.instrument_id(spec.symbol, iid)
            df = frames.trades_frame(page.rows, instrument_id=iid, symbol=spec.symbol)
            self._load_page(TRADES, df, page, spec.symbol, result, "time", now_us)
            if page.next_cursor == cursor:
                raise SourceError(f"{self.source.name}: trade paging did not advance past {cursor}")
            cursor = page.next_cursor
            self._show(spec, result, start_us, None if cursor is None else cursor.since_us, end_us)

    def _quotes(self, spec: SeriesSpec, result: SeriesResult) -> None:
        iid = self.known_instrument_id(spec.symbol)
        now_us = self.source.server_time_us()
        high_us = None if iid is None or spec.backfill else self._high_water_us(iid, "quotes")[0]
        end_us = self._end_us(spec, iid, now_us)
        since = high_us if high_us is not None else (
            spec.since_us if spec.since_us is not None else now_us - DEFAULT_TICK_LOOKBACK_US)
        start_us = since
        self._check_start(spec, result, start_us, end_us, now_us, resumed=high_us is not None)
        cursor: int | None = since
        while cursor is not None and (end_us == now_us or cursor < end_us) and self._check_pages(spec, result):
            page = self._before(self.source.fetch_quotes(spec.symbol, cursor, end_us), end_us, now_us)
            iid = self.instrument_id(spec.symbol, iid)
            df = frames.quotes_frame(page.rows, instrument_id=iid, symbol=spec.symbol)
            self._load_page(QUOTES, df, page, spec.symbol, result, "time", now_us)
            if page.next_cursor is not None and page.next_cursor <= cursor:
                raise SourceError(f"{self.source.name}: tick paging did not advance past {cursor}")
            cursor = page.next_cursor
            self._show(spec, result, start_us, cursor, end_us)

    def _ticker(self, spec: SeriesSpec, result: SeriesResult) -> None:
        known = self.known_instrument_id(spec.symbol)
        row = self.source.fetch_ticker(spec.symbol)
        iid = self.instrument_id(spec.symbol, known)
        df = frames.tickers_frame([row], instrument_id=iid, symbol=spec.symbol)
        self._load_page(frames.TICKERS, df, Page(rows=[row]), spec.symbol, result, "time", None)


def _utc(us: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(us / US_PER_S))


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
