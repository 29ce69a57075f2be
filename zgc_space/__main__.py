"""Allow ``python -m zgc_space``."""

import sys

from zgc_space.cli import main

sys.exit(main())
