"""The built-in catalogue: every module here registers its specs on import.

Families live in their own modules (classic examples, rectifiers, sigmoids,
smooth gated units). Shared numerically careful building blocks, such as a
sigmoid that neither overflows nor cancels, live in ``_blocks`` and are
called by the specs that need them, so each formula is written once.
"""

from xact.catalogue import (  # noqa: F401
    basic,
    classic,
    hard,
    parametric,
    rectifiers,
    research,
    shrinks,
    sigmoids,
    smooth,
)
