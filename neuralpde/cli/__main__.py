"""``python -m neuralpde.cli`` runs the command line, as ``python -m neuralpde`` does."""

import sys

from ._main import main

sys.exit(main())
