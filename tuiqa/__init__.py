"""tuiqa: keyboard-driven reflexive thematic analysis of free-text survey answers."""

__version__ = "0.1.0"
