"""``python -m orderstatus``: the ``orderstatus`` command."""

import sys

from .cli import main

sys.exit(main())
