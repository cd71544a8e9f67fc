"""Local fake servers for every loader source: real HTTP on 127.0.0.1 serving responses built
from the documented API shapes (REFERENCE.md §4-§6), with scripted faults (429 + Retry-After,
418, 5xx, Kraken errors inside HTTP 200, malformed and truncated JSON, slow responses).

Used by tests/loaders and by `make demo` (loaders/demo_pipeline.py).
"""

from loaders.fakes.market import MarketData
from loaders.fakes.server import Fault, FakeServer, Reply, Request

__all__ = ["Fault", "FakeServer", "MarketData", "Reply", "Request"]
