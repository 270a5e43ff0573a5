"""What the test packages share besides fixtures: the `liveseg` command as users run it.

Fixtures live in the conftest files; a plain value that modules need at import time (a command line built at
module level) lives here, imported as `from tests.helpers import LIVESEG`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The installed `liveseg` console script of this interpreter's environment.
LIVESEG = str(Path(sys.executable).with_name("liveseg"))
