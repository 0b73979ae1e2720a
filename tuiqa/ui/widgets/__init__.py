"""Widgets of tuiqa's own: the answer with its codings, a fast list of rows."""
