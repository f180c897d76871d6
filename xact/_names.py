"""Catalogue names for type checkers only: see ``_names.pyi`` and ``xact._stubgen``.

Nothing here at run time; the adapters resolve names through ``__getattr__``.
"""

__all__: list[str] = []
