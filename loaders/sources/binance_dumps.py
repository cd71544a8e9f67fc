"""Binance public data dumps (data.binance.vision): monthly/daily kline and trade archives.

    data/spot/{monthly|daily}/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08[-01].zip   (+ .zip.CHECKSUM)
    data/spot/{monthly|daily}/trades/BTCUSDT/BTCUSDT-trades-2024-08[-01].zip
    data/spot/{monthly|daily}/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-08[-01].zip

Each zip holds one CSV of the same name. Klines columns are the REST array's; trades are
`id, price, qty, quoteQty, time, isBuyerMaker, isBestMatch`; aggTrades `a, p, q, f, l, T, m, M`.
No header row in spot files (a header, when present, is skipped). **Timestamps are milliseconds
before 2025 and microseconds from 2025-01-01**: detected per value by magnitude (> 1e14 = µs).
The `.CHECKSUM` file (`<sha256>  <file name>`) is verified when present; a mismatch stops the
import of that file with a clear message.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.core.http import HttpClient, SourceError
from loaders.core.ingest import Reject

NAME_RE = re.compile(
    r"^(?P<symbol>[A-Z0-9]+)-(?P<kind>trades|aggTrades|1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1mo|1M)"
    r"-(?P<date>\d{4}-\d{2}(?:-\d{2})?)\.(?P<ext>zip|csv)$"
)
MICROSECONDS_ABOVE = 10**14
KLINE_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                 "trade_count", "taker_base", "taker_quote", "ignore"]
TRADE_COLUMNS = ["trade_id", "price", "quantity", "quote_quantity", "time", "buyer_is_maker", "best_match"]
AGG_TRADE_COLUMNS = ["trade_id", "price", "quantity", "first_id", "last_id", "time", "buyer_is_maker",
                     "best_match"]


class DumpError(SourceError):
    """A dump file cannot be used (checksum mismatch, not a zip, not a dump's CSV): one sentence."""


class DumpLocationError(DumpError):
    """The user named no usable dump (a missing file, a name that is not a dump's): a usage error."""

    exit_code = 2


@dataclass(frozen=True)
class DumpFile:
    location: str        # path or URL
    symbol: str
    kind: str            # trades | aggTrades | a kline interval
    period: str          # 2024-08 or 2024-08-01

    @property
    def dataset(self) -> str:
        return "trades" if self.kind in ("trades", "aggTrades") else "candles"

    @property
    def timeframe(self) -> str:
        return "" if self.dataset == "trades" else ("1M" if self.kind == "1mo" else self.kind)

    @property
    def name(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[-1]


def describe(location: str) -> DumpFile:
    name = location.rstrip("/").rsplit("/", 1)[-1]
    match = NAME_RE.match(name)
    if not match:
        raise DumpLocationError(f"{name} is not a Binance dump file name (expected e.g. BTCUSDT-1m-2024-08.zip "
                        "or BTCUSDT-trades-2024-08-01.zip)")
    return DumpFile(location, match["symbol"], match["kind"], match["date"])


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def expand(location: str) -> list[str]:
    """A URL or file as is; a directory -> its dump files, sorted by name."""
    if is_url(location):
        return [location]
    path = Path(location)
    if path.is_dir():
        return [str(p) for p in sorted(path.rglob("*")) if NAME_RE.match(p.name)]
    if not path.is_file():
        raise DumpLocationError(f"{location} does not exist")
    return [str(path)]


def fetch(dump: DumpFile, http: HttpClient | None) -> tuple[bytes, str | None]:
    """(file bytes, expected sha256 or None when there is no .CHECKSUM)."""
    if is_url(dump.location):
        if http is None:
            raise DumpError("a URL needs an HTTP client")
        data = http.get_bytes(dump.location)
        try:
            checksum_text = http.get_bytes(dump.location + ".CHECKSUM").decode("ascii", "replace")
        except SourceError:
            checksum_text = None
    else:
        data = Path(dump.location).read_bytes()
        checksum_path = Path(dump.location + ".CHECKSUM")
        checksum_text = checksum_path.read_text("ascii", "replace") if checksum_path.is_file() else None
    expected = checksum_text.split()[0].lower() if checksum_text and checksum_text.split() else None
    return data, expected


def verify(dump: DumpFile, data: bytes, expected: str | None) -> None:
    if expected is None:
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DumpError(f"{dump.name}: checksum mismatch (.CHECKSUM says {expected[:12]}…, "
                        f"file is {actual[:12]}…); download it again")


def csv_text(dump: DumpFile, data: bytes) -> str:
    if dump.name.endswith(".csv"):
        return data.decode("utf-8", "replace")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [n for n in archive.namelist() if n.endswith(".csv")]
            if not members:
                raise DumpError(f"{dump.name}: the archive holds no CSV file")
            return archive.read(members[0]).decode("utf-8", "replace")
    except zipfile.BadZipFile:
        raise DumpError(f"{dump.name} is not a valid zip archive (truncated download?)") from None


def to_microseconds(values: np.ndarray) -> np.ndarray:
    """Binance dump times: µs when > 1e14 (files from 2025), ms otherwise."""
    values = values.astype(np.int64)
    return np.where(values > MICROSECONDS_ABOVE, values, values * 1000)


def _read(text: str, columns: list[str], name: str, kind: str) -> pd.DataFrame:
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is not None and len(first.split(",")) < len(columns):
        # pandas would say "usecols … out-of-bounds": say what the file is instead
        raise DumpError(f"{name} is not a Binance {kind} dump: its first line has "
                        f"{len(first.split(','))} fields where {len(columns)} are expected")
    df = pd.read_csv(io.StringIO(text), header=None, dtype=str, names=columns, usecols=range(len(columns)),
                     on_bad_lines="skip", engine="python") if text.strip() else pd.DataFrame(columns=columns)
    if len(df) and not str(df.iloc[0, 0]).strip().lstrip("-").isdigit():
        df = df.iloc[1:]                     # a header row
    df["raw"] = df[columns].astype(str).agg(",".join, axis=1) if len(df) else pd.Series(dtype=str)
    return df.reset_index(drop=True)


def _split_bad(df: pd.DataFrame, numeric: list[str], symbol: str) -> tuple[pd.DataFrame, list[Reject]]:
    parsed = df.copy()
    for col in numeric:
        parsed[col] = pd.to_numeric(parsed[col], errors="coerce")
    bad = parsed[numeric].isna().any(axis=1).to_numpy()
    rejects = [Reject("malformed", raw, symbol) for raw in parsed.loc[bad, "raw"]]
    return parsed[~bad].reset_index(drop=True), rejects


def parse_klines(text: str, symbol: str, timeframe: str,
                 name: str = "the dump") -> tuple[pd.DataFrame, list[Reject]]:
    df, rejects = _split_bad(_read(text, KLINE_COLUMNS, name, "klines"), KLINE_COLUMNS[:9], symbol)
    out = pd.DataFrame({
        "open_time": to_microseconds(df["open_time"].to_numpy()),
        **{c: df[c].astype(float) for c in ("open", "high", "low", "close", "volume", "quote_volume")},
        "trade_count": df["trade_count"].astype(float), "raw": df["raw"],
    })
    out["timeframe"] = timeframe
    return out, rejects


def parse_trades(text: str, symbol: str, aggregated: bool,
                 name: str = "the dump") -> tuple[pd.DataFrame, list[Reject]]:
    columns = AGG_TRADE_COLUMNS if aggregated else TRADE_COLUMNS
    raw = _read(text, columns, name, "aggTrades" if aggregated else "trades")
    df, rejects = _split_bad(raw, ["trade_id", "price", "quantity", "time"], symbol)
    maker = df["buyer_is_maker"].astype(str).str.strip().str.lower()
    out = pd.DataFrame({
        "time": to_microseconds(df["time"].to_numpy()), "trade_id": df["trade_id"].astype(np.int64),
        "price": df["price"].astype(float), "quantity": df["quantity"].astype(float),
        "side": np.where(maker == "true", b"s", np.where(maker == "false", b"b", b"")).astype("S1"),
        "raw": df["raw"],
    })
    return out, rejects
