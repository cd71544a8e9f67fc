"""`python -m models_py <command> --help`: see models_py/cli.py."""

import sys

from db.errors import run_main
from models_py.cli import main

sys.exit(run_main(main))
