"""python -m db.api [--host 127.0.0.1] [--port 8000]: serve the read-only API (loopback unless told)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from db.api.app import create_app

    p = argparse.ArgumentParser(prog="python -m db.api", description=__doc__.split(":")[1].strip())
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    args = p.parse_args(argv)
    # keep-alive longer than uvicorn's 5 s: a client's pooled connection is not closed under it
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info", timeout_keep_alive=30)
    return 0


if __name__ == "__main__":
    from db.errors import run_main

    sys.exit(run_main(main))
