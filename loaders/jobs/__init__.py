"""Loader jobs: drive a source (loaders.sources) page by page through the ingest core
(loaders.core) inside one run record, and report what they did."""
