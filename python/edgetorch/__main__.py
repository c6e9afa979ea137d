"""``python -m edgetorch``: the same as the ``edgetorch`` command."""

import sys

from .cli import main

sys.exit(main())
