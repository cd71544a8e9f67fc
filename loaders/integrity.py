"""`python -m loaders.integrity` runs `python -m db.integrity` (`tsquant integrity`).

The tool moved out of loaders/, which holds loaders only; this name stays so that existing cron
lines keep working.
"""
import runpy

if __name__ == "__main__":
    runpy.run_module("db.integrity", run_name="__main__", alter_sys=True)
