"""tsquant loaders: thin Python jobs that fetch, parse, validate and bulk-load market data.

The shared ingest core lives in loaders.core; one module per source in loaders.sources; one CLI
per job (`python -m loaders.<job> --help`). See loaders/README.md.
"""
