"""``python -m orderstatus.cli``: the ``orderstatus`` command."""

import sys

from . import main

sys.exit(main())
