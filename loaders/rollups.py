"""`python -m loaders.rollups` runs `python -m db.rollups` (`tsquant rollups`).

The tool moved out of loaders/, which holds loaders only; this name stays so that existing cron
lines keep working.
"""
import runpy

if __name__ == "__main__":
    runpy.run_module("db.rollups", run_name="__main__", alter_sys=True)
