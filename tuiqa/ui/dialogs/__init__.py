"""Dialogs over a screen, used by any screen: confirm, a line of text, a memo, a block of text
(:mod:`.basic`), the fuzzy picker (:mod:`.picker`), long work behind a progress bar
(:mod:`.progress`)."""
