"""The database of the features/signals tests, built once for the package: three instruments
(one with gaps, identical volumes and quarantined rows), 1m native candles rolled up to 1d, the
declared feature indicators maintained. dbt runs: build, three incremental runs (after changing
bars and appending random chunks), one full-refresh build."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import psycopg
import pytest

from tests.conftest import _clone, _drop_database
from tests.features import helpers as h


@pytest.fixture(scope="package")
def built(template_db, worker_tag, tmp_path_factory):
    """The package database after the initial build; yields (url, run_dir, history) where history
    records the checks done while appending (so each test asserts one of them)."""
    name = f"tsq_feat_{worker_tag}"
    url = _clone(template_db, name)
    run_dir = tmp_path_factory.mktemp("dbt")
    rng = np.random.default_rng(7)
    series = {
        "AAA/USDT": h.random_walk_candles(3200, seed=1),
        "BBB/USDT": h.random_walk_candles(3200, seed=2, gap_every=400, flat_volume_from=2000, price=0.05),
        "CCC/USDT": h.random_walk_candles(3200, seed=3, price=25000.0),
    }
    first = 2600
    with psycopg.connect(url, autocommit=True) as conn:
        ids = {s: h.register(conn, s) for s in series}
        for s, df in series.items():
            h.insert_candles(conn, ids[s], df.iloc[:first])
        # quarantined rows: one by symbol, one by instrument_id in the payload
        t0 = series["BBB/USDT"]["open_time"].iloc[100]
        conn.execute(
            "insert into market.quarantine (source, dataset, reason, symbol, record_time, payload)"
            " values ('testex_rest', 'candles', 'nan_price', 'BBB/USDT', %s, '{}'),"
            " ('test', 'candles', 'conflicts_with_stored_row', null, %s, %s)",
            (t0 + pd.Timedelta(seconds=10), t0 + pd.Timedelta(seconds=70),
             json.dumps({"instrument_id": ids["BBB/USDT"], "close": 1})),
        )
        h.maintain(conn, list(ids.values()))
        h.refresh(conn)
    h.dbt(url, run_dir, "build")
    history = {"ids": ids}
    with psycopg.connect(url, autocommit=True) as conn:
        before = h.fetch(conn, h.FEATURES_QUERY)
        # no look-ahead: change the last 3 stored 1m bars of AAA (t = the first changed bar) and
        # append more bars after them; rows closed at or before t must not change
        aaa = series["AAA/USDT"]
        t = aaa["open_time"].iloc[first - 3]
        conn.execute(
            "update market.candles set close = close * 1.01, high = high * 1.02, volume = volume + 3"
            " where instrument_id = %s and timeframe = '1m' and open_time >= %s",
            (ids["AAA/USDT"], t.to_pydatetime()),
        )
        cuts = sorted(rng.choice(np.arange(first + 1, len(aaa)), size=2, replace=False).tolist())
        chunks = list(zip([first, *cuts], [*cuts, len(aaa)]))
        history["chunks"] = chunks
        for k, (lo, hi) in enumerate(chunks):
            for s, df in series.items():
                h.insert_candles(conn, ids[s], df.iloc[lo:hi])
            h.refresh(conn)
            h.dbt(url, run_dir, "run", "--select", "int_bar_features", "candle_features")
            if k == 0:
                after = h.fetch(conn, h.FEATURES_QUERY)
                history["lookahead"] = (t, before, after)
        history["incremental"] = h.fetch(conn, h.FEATURES_QUERY)
    h.dbt(url, run_dir, "build", "--full-refresh")  # every model, unit test and data test
    yield url, run_dir, history
    _drop_database(name)
