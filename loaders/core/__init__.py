"""Shared ingest core used by every loader: binary COPY, validation, merge, quarantine, runs."""

from loaders.core.ingest import CANDLES, QUOTES, TRADES, Counts, Dataset, load_frame
from loaders.core.runs import JobLocked, LoaderRun

__all__ = ["CANDLES", "QUOTES", "TRADES", "Counts", "Dataset", "JobLocked", "LoaderRun", "load_frame"]
