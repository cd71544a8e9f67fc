"""Parser for Binance public WebSocket captures (../shared/data/*.ws.gz).

Format: gzip text, one message a line: `<local receive time, ns since epoch> <JSON>`, where the
JSON is Binance's combined-stream envelope {"stream": ..., "data": {...}}:
- `<sym>@trade`      -> a trade (time = trade time T in ms, id t, price p, qty q, m = buyer is maker)
- `<sym>@bookTicker` -> a top-of-book quote (no timestamp: the receive time is used, update id u)
- `<sym>@depth@100ms`-> order book diffs: not used (counted as skipped), as are the order book
  snapshots (`{"lastUpdateId": …}`) recorded at the start of a capture
Malformed lines become rejects (reason malformed / missing_field) with the raw line as payload.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from loaders.core.ingest import Reject


@dataclass
class Capture:
    trades: pd.DataFrame
    quotes: pd.DataFrame
    rejects: dict[str, list[Reject]] = field(default_factory=dict)
    skipped: int = 0
    lines: int = 0


TRADE_COLUMNS = ["symbol", "time", "trade_id", "price", "quantity", "side", "raw"]
QUOTE_COLUMNS = ["symbol", "time", "update_id", "bid", "ask", "bid_size", "ask_size", "raw"]


def bundled_capture_dir() -> Path:
    """Folder of the real captures shipped beside the checkout (../shared/data).

    TSQ_CAPTURE_DIR overrides it (a checkout whose shared folder lives elsewhere).
    """
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    return Path(os.environ.get("TSQ_CAPTURE_DIR", default))


def bundled_captures() -> list[Path]:
    """The bundled Binance capture files, sorted (empty when the folder is missing)."""
    return sorted(bundled_capture_dir().glob("binance_spot_*.ws.gz"))


def _open(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rt", encoding="utf-8", errors="replace") if magic == b"\x1f\x8b" \
        else open(path, encoding="utf-8", errors="replace")


def parse_lines(lines) -> Capture:
    trades: list[tuple] = []
    quotes: list[tuple] = []
    rejects: dict[str, list[Reject]] = {"trades": [], "quotes": [], "unknown": []}
    skipped = 0
    count = 0
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        count += 1
        head, _, body = line.partition(" ")
        try:
            recv_ns = int(head)
            msg = json.loads(body)
            if isinstance(msg, dict) and "lastUpdateId" in msg and "stream" not in msg:
                skipped += 1  # REST order book snapshot recorded with the stream: not used
                continue
            stream = msg["stream"]
            data = msg["data"]
        except (ValueError, KeyError, TypeError):
            rejects["unknown"].append(Reject("malformed", line))
            continue
        kind = stream.split("@", 1)[1] if isinstance(stream, str) and "@" in stream else ""
        if kind == "trade":
            try:
                trades.append((str(data["s"]), int(data["T"]) * 1000, int(data["t"]), float(data["p"]),
                               float(data["q"]), b"s" if data["m"] else b"b", line))
            except KeyError:
                rejects["trades"].append(Reject("missing_field", line, symbol=data.get("s") if isinstance(data, dict) else None))
            except (ValueError, TypeError):
                rejects["trades"].append(Reject("malformed", line, symbol=data.get("s") if isinstance(data, dict) else None))
        elif kind == "bookTicker":
            try:
                quotes.append((str(data["s"]), recv_ns // 1000, int(data["u"]), float(data["b"]),
                               float(data["a"]), float(data["B"]), float(data["A"]), line))
            except KeyError:
                rejects["quotes"].append(Reject("missing_field", line, symbol=data.get("s") if isinstance(data, dict) else None))
            except (ValueError, TypeError):
                rejects["quotes"].append(Reject("malformed", line, symbol=data.get("s") if isinstance(data, dict) else None))
        else:
            skipped += 1
    tdf = pd.DataFrame(trades, columns=TRADE_COLUMNS)
    tdf = tdf.astype({"time": np.int64, "trade_id": np.int64, "price": float, "quantity": float})
    tdf["side"] = tdf["side"].to_numpy().astype("S1")
    qdf = pd.DataFrame(quotes, columns=QUOTE_COLUMNS)
    qdf = qdf.astype({"time": np.int64, "update_id": np.int64, "bid": float, "ask": float,
                      "bid_size": float, "ask_size": float})
    qdf["last"] = np.nan
    qdf["volume"] = np.nan
    return Capture(trades=tdf, quotes=qdf, rejects=rejects, skipped=skipped, lines=count)


def parse_capture(path: str | Path) -> Capture:
    """Parse one capture file (gzip or plain text)."""
    with _open(Path(path)) as fh:
        return parse_lines(fh)
