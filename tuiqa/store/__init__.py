"""Persistence: TinyDB snapshot files, per-session journals, locks, backups, migrations.

Nothing here imports Textual or Rich.
"""
