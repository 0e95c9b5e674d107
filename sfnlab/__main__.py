"""``python -m sfnlab ...``: the same command line as ``sfnlab ...`` (see :mod:`sfnlab.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":  # not when imported (pytest --doctest-modules imports every module)
    sys.exit(main())
