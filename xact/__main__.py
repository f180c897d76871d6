"""``python -m xact``: the same command line as the ``xact`` script."""

from xact.cli import main

raise SystemExit(main())
