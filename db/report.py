"""`tsquant report`: one self-contained HTML file (plotly.js inlined: opens with no network) and a
PNG of the same (mplfinance), for an instrument, timeframe, strategy and time range.

    tsquant report --symbol BTC/USDT --timeframe 1h --strategy rsi_reversion \\
        --from 2024-08-01 --to 2024-09-01 [--indicators rsi_14,ema_20] [--run-id N] [--out reports/]

Panels: candles with the maintained indicators that overlay price (moving averages, bands, VWAP)
and the strategy's signal markers (bi.trading_signals: BUY below the bar, SELL above), the other
indicators (RSI, MACD, …) below, then the equity curve and drawdown of the strategy's backtest
run (perf.backtest_runs / perf.backtest_equity; the latest run of that strategy, instrument and
timeframe overlapping the range unless --run-id), and its metrics (perf.performance_metrics).
Every number comes from the database as it is; drawdown is computed in SQL from the equity.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from db.errors import UserError, run_main

MAX_BARS = 50_000
# Indicators drawn over the price (same scale); every other one gets the panel below the candles.
OVERLAYS = ("sma", "ema", "wma", "dema", "tema", "kama", "bbands", "vwap", "midpoint", "sar")

METRICS = (
    ("total_trades", "Closed trades"), ("win_rate", "Win rate"), ("profit_factor", "Profit factor"),
    ("expectancy", "Expectancy"), ("avg_win", "Average win"), ("avg_loss", "Average loss"),
    ("net_profit", "Net profit"), ("total_return", "Total return"), ("annual_return", "Annual return"),
    ("annual_volatility", "Annual volatility"), ("sharpe_ratio", "Sharpe ratio"),
    ("sortino_ratio", "Sortino ratio"), ("max_drawdown", "Max drawdown"),
    ("max_drawdown_duration", "Max drawdown duration (bars)"), ("calmar_ratio", "Calmar ratio"),
    ("exposure", "Exposure"),
)
PERCENT = {"win_rate", "total_return", "annual_return", "annual_volatility", "max_drawdown", "exposure"}


# --------------------------------------------------------------------------------------------
# Shared helpers (also used by tsquant backtest)

def parse_time(value: str) -> dt.datetime:
    """ISO 8601 date or time; UTC when no offset is given."""
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r} (e.g. 2024-08-01 or "
                                         "2024-08-01T12:00)") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def resolve_instrument(conn, symbol: str, exchange: str | None) -> tuple[int, str, str]:
    """(instrument_id, exchange, canonical symbol) of a symbol in any registered spelling."""
    rows = conn.execute(
        "select i.instrument_id, i.exchange, i.symbol from market.instruments as i"
        " where (i.symbol = %(s)s or i.exchange_symbol = %(s)s) and (%(e)s::text is null or i.exchange = %(e)s)"
        " order by i.exchange",
        {"s": symbol, "e": exchange},
    ).fetchall()
    if not rows:
        raise UserError(f"unknown instrument {symbol}" + (f" on {exchange}" if exchange else "")
                        + ": see select exchange, symbol from market.instruments")
    if len(rows) > 1:
        raise UserError(f"{symbol} trades on {', '.join(r[1] for r in rows)}: pass --exchange")
    return rows[0]


def metrics(conn, run_id: int | None) -> list[tuple[str, str, Any]]:
    """(column, label, value) of a run's latest perf.performance_metrics row (all instruments)."""
    if run_id is None:
        return []
    cols = ", ".join(c for c, _ in METRICS)
    row = conn.execute(
        f"select {cols} from perf.performance_metrics where run_id = %s"  # noqa: S608 (fixed names)
        " order by (symbol is null) desc, date desc, metrics_id desc limit 1", (run_id,)).fetchone()
    if row is None:
        return []
    return [(c, label, v) for (c, label), v in zip(METRICS, row)]


def format_metric(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if column in PERCENT:
        return f"{value * 100:.2f} %"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.4f}"


def metrics_rows(conn, run_id: int | None) -> list[tuple[str, str]]:
    return [(label, format_metric(c, v)) for c, label, v in metrics(conn, run_id)]


# --------------------------------------------------------------------------------------------
# What the report shows, read from the database

@dataclass
class ReportData:
    exchange: str
    symbol: str
    timeframe: str
    strategy: str
    start: dt.datetime
    end: dt.datetime
    candles: pd.DataFrame
    indicators: pd.DataFrame            # open_time, indicator, output, value
    signals: pd.DataFrame               # bar_time, direction, strength, signal_type
    run: dict[str, Any] | None
    equity: pd.DataFrame                # bar_time, equity, drawdown
    metrics: list[tuple[str, str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return (f"{self.symbol} {self.timeframe} on {self.exchange} — {self.strategy}, "
                f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC")


def _frame(conn, query: str, params: tuple, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(query, params).fetchall()
    return pd.DataFrame(rows, columns=columns)


def read(conn, *, symbol: str, exchange: str | None, timeframe: str, strategy: str, start: dt.datetime,
         end: dt.datetime, indicators: list[str] | None = None, run_id: int | None = None) -> ReportData:
    if end <= start:
        raise UserError("--to must be later than --from")
    timeframes = [r[0] for r in conn.execute(
        "select t.timeframe from market.timeframes as t where to_regclass('bi.candles_' || t.timeframe) is not null"
        " order by t.bucket_width").fetchall()]
    if timeframe not in timeframes:
        raise UserError(f"timeframe {timeframe!r} has no candles view: one of {', '.join(timeframes)}")
    instrument_id, exchange, symbol = resolve_instrument(conn, symbol, exchange)
    n = conn.execute(f"select count(*) from bi.candles_{timeframe} where instrument_id = %s"  # noqa: S608
                     " and open_time >= %s and open_time < %s", (instrument_id, start, end)).fetchone()[0]
    if n == 0:
        raise UserError(f"no {timeframe} candles of {symbol} on {exchange} between {start:%Y-%m-%d %H:%M} "
                        f"and {end:%Y-%m-%d %H:%M} UTC")
    if n > MAX_BARS:
        raise UserError(f"the range holds {n} {timeframe} bars; at most {MAX_BARS} fit a report: narrow "
                        "--from/--to or choose a larger timeframe")
    candles = _frame(conn, f"select open_time, open, high, low, close, volume from bi.candles_{timeframe}"  # noqa: S608
                     " where instrument_id = %s and open_time >= %s and open_time < %s order by open_time",
                     (instrument_id, start, end), ["open_time", "open", "high", "low", "close", "volume"])
    ind = _frame(conn, "select v.open_time, v.indicator, v.output, v.value from bi.indicator_values as v"
                 " where v.exchange = %s and v.symbol = %s and v.timeframe = %s and v.open_time >= %s"
                 " and v.open_time < %s and (%s::text[] is null or v.indicator = any(%s::text[]))"
                 " order by v.indicator, v.output, v.open_time",
                 (exchange, symbol, timeframe, start, end, indicators, indicators),
                 ["open_time", "indicator", "output", "value"])
    if indicators:
        missing = sorted(set(indicators) - set(ind["indicator"]))
        if missing:
            known = [r[0] for r in conn.execute(
                "select m.name from ta.maintained_indicators as m where m.instrument_id = %s and m.timeframe = %s"
                " order by 1", (instrument_id, timeframe)).fetchall()]
            raise UserError(f"no values of {', '.join(missing)} for {symbol} {timeframe} in that range; "
                            f"maintained: {', '.join(known) or 'none'} (tsquant indicators add …)")
    signals = pd.DataFrame(columns=["bar_time", "direction", "strength", "signal_type"])
    if conn.execute("select to_regclass('bi.trading_signals') is not null").fetchone()[0]:
        signals = _frame(conn, "select s.bar_time, s.direction, s.strength, s.signal_type from bi.trading_signals as s"
                         " where s.signal_source = %s and s.instrument_id = %s and s.timeframe = %s"
                         " and s.bar_time >= %s and s.bar_time < %s order by s.bar_time",
                         (strategy, instrument_id, timeframe, start, end),
                         ["bar_time", "direction", "strength", "signal_type"])
    run = _backtest_run(conn, strategy, instrument_id, timeframe, start, end, run_id)
    equity = pd.DataFrame(columns=["bar_time", "equity", "drawdown"])
    if run is not None:
        # drawdown from the running peak, the initial cash counted as the first peak
        equity = _frame(conn, "select e.bar_time, e.equity, e.equity / greatest(r.init_cash, max(e.equity) over w) - 1"
                        " from perf.backtest_equity as e join perf.backtest_runs as r using (run_id)"
                        " where e.run_id = %s"
                        " window w as (order by e.bar_time rows between unbounded preceding and current row)"
                        " order by e.bar_time", (run["run_id"],), ["bar_time", "equity", "drawdown"])
        equity = equity[(equity["bar_time"] >= start) & (equity["bar_time"] < end)].reset_index(drop=True)
    return ReportData(exchange, symbol, timeframe, strategy, start, end, candles, ind, signals, run, equity,
                      metrics(conn, run["run_id"] if run else None))


def _backtest_run(conn, strategy: str, instrument_id: int, timeframe: str, start: dt.datetime,
                  end: dt.datetime, run_id: int | None) -> dict[str, Any] | None:
    cols = ["run_id", "strategy", "instrument_id", "timeframe", "start_time", "end_time", "init_cash",
            "final_equity", "fees_bps", "slippage_bps", "finished_at"]
    if run_id is not None:
        row = conn.execute(f"select {', '.join(cols)} from perf.backtest_runs where run_id = %s",  # noqa: S608
                           (run_id,)).fetchone()
        if row is None:
            raise UserError(f"no backtest run {run_id} (select run_id, strategy from perf.backtest_runs)")
        run = dict(zip(cols, row))
        if (run["strategy"], run["instrument_id"], run["timeframe"]) != (strategy, instrument_id, timeframe):
            raise UserError(f"backtest run {run_id} is {run['strategy']} on instrument {run['instrument_id']} "
                            f"{run['timeframe']}, not this report's strategy, instrument and timeframe")
        return run
    row = conn.execute(
        f"select {', '.join(cols)} from perf.backtest_runs"  # noqa: S608
        " where strategy = %s and instrument_id = %s and timeframe = %s and start_time < %s and end_time > %s"
        " order by run_id desc limit 1", (strategy, instrument_id, timeframe, end, start)).fetchone()
    return dict(zip(cols, row)) if row else None


# --------------------------------------------------------------------------------------------
# Rendering

def _naive(series: pd.Series) -> pd.Series:
    """UTC times without offset (plotly.js and matplotlib draw them as they are; axes say UTC)."""
    return pd.to_datetime(series, utc=True).dt.tz_convert(None)


def _indicator_series(data: ReportData) -> list[tuple[str, bool, pd.Series]]:
    """(label, overlays price, values indexed by bar time) per indicator output."""
    out = []
    for (name, output), grp in data.indicators.groupby(["indicator", "output"], sort=True):
        label = name if output in ("value", name, "") or data.indicators.query("indicator == @name")["output"].nunique() == 1 \
            else f"{name}.{output}"
        overlay = re.split(r"[_\d]", name, maxsplit=1)[0].lower() in OVERLAYS
        values = pd.Series(grp["value"].astype(float).to_numpy(), index=_naive(grp["open_time"]))
        out.append((label, overlay, values))
    return out


def figure(data: ReportData):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    series = _indicator_series(data)
    oscillators = [s for s in series if not s[1]]
    rows = ["price"] + (["indicators"] if oscillators else []) + ["equity", "drawdown"]
    heights = {"price": 0.46, "indicators": 0.18, "equity": 0.2, "drawdown": 0.16}
    titles = {"price": f"{data.symbol} {data.timeframe} candles, indicators and {data.strategy} signals",
              "indicators": "Indicators", "equity": "Equity (backtest)", "drawdown": "Drawdown"}
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=[heights[r] for r in rows], subplot_titles=[titles[r] for r in rows])
    row = {name: i + 1 for i, name in enumerate(rows)}
    c = data.candles
    t = _naive(c["open_time"])
    # plain lists, not numpy arrays: plotly would base64-encode those, and the page's data should
    # read as numbers (a test compares them with the database)
    fig.add_trace(go.Candlestick(x=t, open=c["open"].tolist(), high=c["high"].tolist(), low=c["low"].tolist(),
                                 close=c["close"].tolist(),
                                 name="candles", uid="candles"), row=row["price"], col=1)
    for label, overlay, values in series:
        fig.add_trace(go.Scatter(x=values.index, y=values.tolist(), mode="lines", name=label, uid=f"ind:{label}",
                                 line={"width": 1}), row=row["price" if overlay else "indicators"], col=1)
    bars = c.assign(bar_time=c["open_time"]).set_index("bar_time")
    for direction, symbol, anchor, shift, color in (("BUY", "triangle-up", "low", -1, "#1a9850"),
                                                    ("SELL", "triangle-down", "high", 1, "#d73027")):
        s = data.signals[data.signals["direction"] == direction]
        if s.empty:
            continue
        at = bars.reindex(s["bar_time"])
        pad = (bars["high"] - bars["low"]).median() * 0.4 if len(bars) else 0
        fig.add_trace(go.Scatter(x=_naive(s["bar_time"]), y=(at[anchor] + shift * pad).tolist(), mode="markers",
                                 name=f"{direction} signals", uid=f"signals:{direction}",
                                 customdata=s["strength"].tolist(),
                                 marker={"symbol": symbol, "size": 10, "color": color}), row=row["price"], col=1)
    e = data.equity
    fig.add_trace(go.Scatter(x=_naive(e["bar_time"]), y=e["equity"].astype(float).tolist(), mode="lines",
                             name="equity", uid="equity", line={"color": "#4575b4"}), row=row["equity"], col=1)
    fig.add_trace(go.Scatter(x=_naive(e["bar_time"]), y=e["drawdown"].astype(float).tolist(), mode="lines",
                             name="drawdown", uid="drawdown", fill="tozeroy", line={"color": "#d73027"}),
                  row=row["drawdown"], col=1)
    fig.update_layout(height=300 + 220 * len(rows), margin={"l": 60, "r": 20, "t": 60, "b": 40},
                      title=data.title, template="plotly_white", xaxis_rangeslider_visible=False,
                      legend={"orientation": "h", "y": -0.05})
    fig.update_yaxes(tickformat=".1%", row=row["drawdown"], col=1)
    fig.update_xaxes(title_text="UTC", row=len(rows), col=1)
    return fig


def _metrics_html(data: ReportData) -> str:
    if data.run is None:
        return (f'<p class="note" id="no-run">No backtest run of {html.escape(data.strategy)} on '
                f'{html.escape(data.symbol)} {html.escape(data.timeframe)} overlaps this range, so there is no equity '
                f'curve or metrics: run <code>tsquant backtest --strategy {html.escape(data.strategy)} --symbol '
                f'{html.escape(data.symbol)} --timeframe {html.escape(data.timeframe)} --from … --to …</code>.</p>')
    run = data.run
    head = [("run_id", "Backtest run", run["run_id"]), ("init_cash", "Initial cash", run["init_cash"]),
            ("final_equity", "Final equity", run["final_equity"]), ("fees_bps", "Fees (bps)", run["fees_bps"]),
            ("slippage_bps", "Slippage (bps)", run["slippage_bps"])]
    cells = []
    for column, label, value in head + list(data.metrics):
        raw = "" if value is None else repr(float(value)) if isinstance(value, float) else str(value)
        shown = str(value) if column == "run_id" else format_metric(column, value)
        cells.append(f'<tr><th>{html.escape(label)}</th><td data-metric="{column}" data-value="{html.escape(raw)}">'
                     f'{html.escape(shown)}</td></tr>')
    if not data.metrics:
        cells.append(f'<tr><td colspan="2">perf.performance_metrics has no row for run {run["run_id"]}</td></tr>')
    return '<table id="metrics"><caption>Metrics (perf.performance_metrics)</caption>' + "".join(cells) + "</table>"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em;color:#222}} table{{border-collapse:collapse;margin-top:1em}}
th,td{{border:1px solid #ccc;padding:.25em .8em;text-align:left}} td{{text-align:right}}
caption{{font-weight:bold;text-align:left;padding-bottom:.3em}} .note{{color:#555}}</style></head>
<body><h1 style="font-size:1.2em">{title}</h1>
<p class="note">tsquant report, generated {generated} UTC from {bars} bars, {signals} signals. Self-contained:
no network needed.</p>
{chart}
{metrics}
</body></html>
"""


def write_html(data: ReportData, path: Path) -> None:
    fig = figure(data)
    chart = fig.to_html(full_html=False, include_plotlyjs=True, div_id="report-chart",
                        config={"displaylogo": False, "responsive": True})
    path.write_text(PAGE.format(title=html.escape(data.title), chart=chart, metrics=_metrics_html(data),
                                generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                                bars=len(data.candles), signals=len(data.signals)), encoding="utf-8")


def write_png(data: ReportData, path: Path) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # the style's semibold falls back to bold
    import mplfinance as mpf
    import numpy as np

    c = data.candles.copy()
    c.index = pd.DatetimeIndex(_naive(c["open_time"]), name="Date")
    df = c.rename(columns={"open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume"})
    df = df[["Open", "High", "Low", "Close", "Volume"]].astype(float)
    plots, panel = [], 0
    series = _indicator_series(data)
    for label, overlay, values in series:
        if overlay and values.reindex(df.index).notna().any():
            plots.append(mpf.make_addplot(values.reindex(df.index), panel=0, width=0.8, label=label))
    pad = float((df["High"] - df["Low"]).median() * 0.4) if len(df) else 0.0
    for direction, marker, anchor, shift, color in (("BUY", "^", "Low", -1, "#1a9850"),
                                                    ("SELL", "v", "High", 1, "#d73027")):
        times = pd.DatetimeIndex(_naive(data.signals.loc[data.signals["direction"] == direction, "bar_time"]))
        y = pd.Series(np.nan, index=df.index)
        hit = df.index.intersection(times)
        y[hit] = df.loc[hit, anchor] + shift * pad
        if y.notna().any():
            plots.append(mpf.make_addplot(y, type="scatter", marker=marker, markersize=60, color=color, panel=0))
    oscillators = [(label, values) for label, overlay, values in series if not overlay
                   and values.reindex(df.index).notna().any()]
    if oscillators:
        panel += 1
        for label, values in oscillators:
            plots.append(mpf.make_addplot(values.reindex(df.index), panel=panel, width=0.8, ylabel="indicators",
                                          label=label))
    e = data.equity
    if len(e):
        eq = pd.Series(e["equity"].astype(float).to_numpy(), index=pd.DatetimeIndex(_naive(e["bar_time"])))
        dd = pd.Series(e["drawdown"].astype(float).to_numpy(), index=eq.index)
        if eq.reindex(df.index).notna().any():
            plots.append(mpf.make_addplot(eq.reindex(df.index), panel=panel + 1, color="#4575b4", ylabel="equity"))
            plots.append(mpf.make_addplot(dd.reindex(df.index) * 100, panel=panel + 2, color="#d73027",
                                          ylabel="drawdown %"))
            panel += 2
    fig, _axes = mpf.plot(df, type="candle", style="yahoo", addplot=plots or None, returnfig=True,
                          title=data.title, figsize=(14, 5 + 2 * panel), warn_too_much_data=MAX_BARS + 1,
                          panel_ratios=tuple([3] + [1] * panel) if panel else None, ylabel="price")
    lines = [f"{label}: {value}" for label, value in
             ([("Backtest run", data.run["run_id"])] if data.run else [])
             + [(label, format_metric(col, v)) for col, label, v in data.metrics]]
    if not data.run:
        lines = [f"no backtest run of {data.strategy} overlaps this range (tsquant backtest …)"]
    fig.text(0.01, 0.0, "   ".join(lines), fontsize=8, wrap=True, va="top")
    fig.savefig(path, dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)


def default_stem(data: ReportData) -> str:
    clean = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-")  # noqa: E731
    return "_".join(clean(p) for p in (data.symbol, data.timeframe, data.strategy,
                                       f"{data.start:%Y%m%d%H%M}", f"{data.end:%Y%m%d%H%M}"))


def write_report(data: ReportData, out: Path) -> tuple[Path, Path]:
    if out.suffix.lower() == ".html":
        html_path = out
    else:
        out.mkdir(parents=True, exist_ok=True)
        html_path = out / f"{default_stem(data)}.html"
    html_path.parent.mkdir(parents=True, exist_ok=True)
    png_path = html_path.with_suffix(".png")
    write_html(data, html_path)
    write_png(data, png_path)
    return html_path, png_path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tsquant report", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--symbol", required=True, help="e.g. BTC/USDT (canonical or the exchange's spelling)")
    p.add_argument("--exchange", help="needed when the symbol trades on several exchanges")
    p.add_argument("--timeframe", required=True, help="e.g. 1h (a bi.candles_<timeframe> view)")
    p.add_argument("--strategy", required=True, help="strategy name (signal_source of bi.trading_signals)")
    p.add_argument("--from", dest="start", required=True, type=parse_time, help="first bar, ISO 8601 (UTC)")
    p.add_argument("--to", dest="end", required=True, type=parse_time, help="end, exclusive, ISO 8601 (UTC)")
    p.add_argument("--indicators", help="comma-separated maintained indicator names (default: all)")
    p.add_argument("--run-id", type=int, help="backtest run to show (default: the latest matching one)")
    p.add_argument("--out", type=Path, default=Path("reports"),
                   help="directory (default reports/), or a file name ending in .html; the PNG goes beside it")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = p.parse_args(argv)
    from db.connection import connect

    names = [s.strip() for s in args.indicators.split(",") if s.strip()] if args.indicators else None
    with connect(args.url, autocommit=True) as conn:
        data = read(conn, symbol=args.symbol, exchange=args.exchange, timeframe=args.timeframe,
                    strategy=args.strategy, start=args.start, end=args.end, indicators=names, run_id=args.run_id)
    html_path, png_path = write_report(data, args.out)
    print(f"report written: {html_path} ({html_path.stat().st_size:,} bytes; open it in any browser, no network needed)")
    print(f"picture:        {png_path}")
    print(f"bars {len(data.candles)}, signals {len(data.signals)}, "
          + (f"backtest run {data.run['run_id']}" if data.run else "no backtest run in range"))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

