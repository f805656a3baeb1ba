"""``python -m kongformance.kongshape ARGS``: the stand-in image's ``kong`` command."""

import sys

from kongformance.kongshape.cli import main

sys.exit(main())
