"""``python -m robbench_plugin.cli``: the ``robbench`` command."""
import sys

from . import main

sys.exit(main())
