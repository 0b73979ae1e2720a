"""Comparing groups of participants (community vs inpatient staff …) code by code.

Analyses often start split by group to see whether the groups differ, and merge when they do not.
For one attribute, :func:`compare` counts, for each code and each value of the attribute, the
participants in that group who have the code and the extracts they gave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .project import Project

BLANK = "(blank)"


@dataclass
class GroupRow:
    key: str          # a code id (or a theme id, for the themes screen)
    label: str
    participants: dict[str, int] = field(default_factory=dict)  # value -> participants
    extracts: dict[str, int] = field(default_factory=dict)      # value -> extracts


@dataclass
class GroupTable:
    attribute: str
    values: list[str]
    sizes: dict[str, int]  # value -> participants in the group
    rows: list[GroupRow]


def group_of(project: Project, attribute: str) -> dict[str, str]:
    """participant id -> its value of the attribute ('(blank)' when empty)."""
    return {pid: (p.attrs.get(attribute) or "").strip() or BLANK
            for pid, p in project.participants.items()}


def compare(project: Project, attribute: str, coder: str | None = None,
            codes: list[tuple[str, str, set[str]]] | None = None) -> GroupTable:
    """Counts by group. ``codes`` (key, label, code ids) groups several codes into one row, as the
    themes screen does; by default each code is a row."""
    if attribute not in project.attributes:
        raise ValueError(f"no attribute {attribute!r}; attributes: {', '.join(project.attributes)}")
    groups = group_of(project, attribute)
    sizes: dict[str, int] = {}
    for value in groups.values():
        sizes[value] = sizes.get(value, 0) + 1
    values = sorted(sizes, key=lambda v: (v == BLANK, v.casefold()))
    if codes is None:
        codes = [(c.id, c.name, {c.id}) for c in project.codes()]
    responses = project.responses
    by_code = project.codings_by_code
    rows = []
    for key, label, ids in codes:
        row = GroupRow(key, label, {v: 0 for v in values}, {v: 0 for v in values})
        seen: dict[str, set[str]] = {v: set() for v in values}
        for code_id in ids:
            for c in by_code.get(code_id, {}).values():
                if coder is not None and c.coder != coder:
                    continue
                r = responses.get(c.response_id)
                if r is None:
                    continue
                value = groups.get(r.participant_id, BLANK)
                row.extracts[value] += 1
                seen[value].add(r.participant_id)
        for v in values:
            row.participants[v] = len(seen[v])
        rows.append(row)
    return GroupTable(attribute, values, sizes, rows)
