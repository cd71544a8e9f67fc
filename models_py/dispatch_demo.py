"""The dispatcher part of `make demo`: the allowed demo signals go to the paper broker, and the
lines returned show the orders, fills, positions and the risk state.

    from models_py.dispatch_demo import demo_lines
    print("\\n".join(demo_lines(database_url())))

Self-contained: builds bi.trading_signals with dbt when it is missing, gives the demo
instruments trading specs when they have none, and — because the demo replays the bundled
August 2024 data — switches the price-age rule off (risk.limits.max_price_age; it stays on
anywhere else). Every other risk rule applies: refusals are shown with their reasons. Running it
again dispatches nothing twice (one decision per signal) and shows the same ledger.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import psycopg

from db.connection import connect
from models_py.brokers.paper import PaperBroker
from models_py.dispatcher import Dispatcher, Settings

# crypto: cents and 0.0001 units; FX (MT5): 1e-5 price steps, lots of 100000, 0.01-lot steps
DEMO_SPECS = {"fx": ("0.00001", "100000", "0.01", "0.01"), "crypto": ("0.01", "1", "0.0001", "0.0001")}


def _ensure_signals(conn: psycopg.Connection, url: str | None, lines: list[str]) -> None:
    if conn.execute("select to_regclass('bi.trading_signals')").fetchone()[0] is not None:
        return
    from db.dbt_runner import maintain_feature_indicators, run_dbt

    lines.append("bi.trading_signals is missing: maintaining the feature indicators and building the signals with dbt")
    maintain_feature_indicators(conn)
    conn.execute("select count(*) from ta.refresh_indicators()")
    proc = run_dbt(["build", "--select", "+trading_signals", "--resource-type", "model", "--resource-type", "seed"],
                   url, capture=True)
    if proc.returncode != 0:
        raise RuntimeError("dbt could not build the signals:\n" + proc.stdout[-3000:])


def _ensure_specs(conn: psycopg.Connection, lines: list[str]) -> None:
    missing = conn.execute(
        "select s.instrument_id, s.exchange, s.symbol, i.asset_class from market.instrument_trading_specs as s"
        " join market.instruments as i using (instrument_id)"
        " where s.tick_size is null or s.volume_step is null order by 1").fetchall()
    for iid, exchange, symbol, asset_class in missing:
        tick, contract, step, minimum = DEMO_SPECS["fx" if exchange == "mt5" or asset_class == "fx" else "crypto"]
        conn.execute("select market.set_instrument_specs(%s::integer, %s::numeric, null, %s::numeric, %s::numeric,"
                     " %s::numeric, null, 0)", (iid, tick, contract, minimum, step))
    if missing:
        lines.append("demo trading specs (tick size, contract, volume step) set for "
                     + ", ".join(f"{e}:{s}" for _, e, s, _ in missing))


def _table(conn: psycopg.Connection, title: str, query: str, params=()) -> list[str]:
    cur = conn.execute(query, params)
    rows = cur.fetchall()
    names = [c.name for c in cur.description]
    cells = [[("-" if v is None else (format(v.normalize(), "f") if isinstance(v, Decimal) else
               (f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else str(v)))) for v in r] for r in rows]
    widths = [max([len(n), *(len(c[i]) for c in cells)]) for i, n in enumerate(names)]
    out = [f"{title} ({len(rows)})", "  " + "  ".join(n.ljust(w) for n, w in zip(names, widths))]
    out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return out


def demo_lines(url: str | None = None, *, cash: Decimal = Decimal(10_000), shown: int = 12) -> list[str]:
    """Dispatch every allowed demo signal to the paper broker; the lines to print."""
    lines: list[str] = []
    with connect(url, autocommit=True) as conn:
        _ensure_signals(conn, url, lines)
        _ensure_specs(conn, lines)
        conn.execute("select risk.set_limit('max_price_age', null)")
        lines.append("the demo replays August 2024: risk.limits.max_price_age is off for it; every other rule applies")
        settings = Settings(broker="paper", since=datetime(1970, 1, 1, tzinfo=timezone.utc))
        report = Dispatcher(conn, PaperBroker(conn, initial_cash=cash), settings).run_pass()
        lines.append(report.lines()[-1])
        reasons = conn.execute(   # the reason without its numbers: "already long", "refused by risk: max …"
            "select regexp_replace(split_part(reason, ':', 1) || case when reason like 'refused by risk:%%'"
            " then ': ' || split_part(reason, ':', 2) else '' end, ' -?[0-9][0-9.]*', '', 'g') as why, count(*)"
            " from trading.dispatches where status = 'refused' group by 1 order by 2 desc, 1").fetchall()
        if reasons:
            lines.append("refused: " + "; ".join(f"{n} × {why.strip()}" for why, n in reasons))
        lines += _table(conn, "orders (newest)",
                        "select client_order_id, strategy, symbol, side, quantity, order_type as type, status,"
                        " round(average_fill_price, 5) as avg_price, round(fees, 4) as fees from bi.orders"
                        " order by order_id desc limit %s",
                        (shown,))
        lines += _table(conn, "fills (newest)",
                        "select client_order_id, symbol, side, quantity, round(price, 5) as price,"
                        " round(fee, 4) as fee, filled_at from bi.fills order by fill_id desc limit %s", (shown,))
        lines += _table(conn, "open positions (bi.open_positions)",
                        "select exchange, symbol, side, quantity, round(average_entry_price, 5) as avg_entry, last_close,"
                        " round(unrealized_pnl::numeric, 4) as unrealized, round(realized_pnl, 4) as realized"
                        " from bi.open_positions order by exchange, symbol")
        lines += _table(conn, "risk state (risk.metrics)",
                        "select trading_state as state, round(equity, 2) as equity, round(last_balance, 2) as balance,"
                        " round(peak_balance, 2) as peak, round(drawdown * 100, 3) as drawdown_pct,"
                        " round(daily_pnl, 2) as daily_pnl from risk.metrics()")
    return lines
