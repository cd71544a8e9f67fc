"""Read-only HTTP API over the documented `bi` views (FastAPI + psycopg 3 pool).

Start it with `python -m db.api [--host 127.0.0.1] [--port 8000]`; endpoints at /docs.
See docs/operations.md.
"""
