"""`python -m loaders.synthetic` runs `python -m scripts.synthetic` (`tsquant load synthetic`).

The tool moved out of loaders/, which holds loaders only; this name stays so that existing cron
lines keep working.
"""
import runpy

if __name__ == "__main__":
    runpy.run_module("scripts.synthetic", run_name="__main__", alter_sys=True)
