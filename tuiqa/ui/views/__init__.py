"""What screens show, computed from the core: Rich ``Text`` and plain data, never Textual.

A screen asks a view for what to draw and puts it in its widgets; the rules about what a coder
may see (blind coding) are in :mod:`.lens`, so every view applies them the same way."""
