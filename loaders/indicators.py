"""`python -m loaders.indicators` runs `python -m db.indicators` (`tsquant indicators`).

The tool moved out of loaders/, which holds loaders only; this name stays so that existing cron
lines keep working.
"""
import runpy

if __name__ == "__main__":
    runpy.run_module("db.indicators", run_name="__main__", alter_sys=True)
