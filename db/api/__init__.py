"""Read-only HTTP API over the documented `bi` views (FastAPI + psycopg 3 pool).

Start it with `tsquant api [--host 127.0.0.1] [--port 8000]` or `python -m db.api`.
See docs/api.md.
"""
