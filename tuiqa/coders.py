"""Comparing coders on a project: agreement over the responses they all finished, the
disagreements to discuss, and the team's resolutions (the ``consensus`` layer).

Units are the responses marked *done* by every compared coder; every other response is excluded
and counted, never read as "no code" (a response nobody looked at is not a response with nothing
in it). The statistics themselves are in :mod:`tuiqa.agreement`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .agreement import STEP_EVERY, AgreementReport, compute_agreement
from .longwork import Progress, Steps
from .model import Coding, Resolution
from .project import CONSENSUS, Change, ChangeError, Project

PRESENCE = "presence"  # some coders applied the code in the response, others did not
SPANS = "spans"        # every coder applied it, but to different extracts (a lighter difference)


def compared_units(project: Project, coders: list[str]) -> tuple[list[str], int, int]:
    """(responses done by every coder, responses excluded, of which done by some coder)."""
    if len(coders) < 2:
        raise ChangeError("compare at least two coders")
    if len(set(coders)) != len(coders):
        raise ChangeError("a coder is listed twice")
    done_sets = [project.done.get(c, set()) for c in coders]
    units = set.intersection(*map(set, done_sets)) & project.responses.keys()
    some = set.union(*map(set, done_sets)) & project.responses.keys()
    ordered = sorted(units)
    return ordered, len(project.responses) - len(units), len(some) - len(units)


def shared_done(project: Project, coders: list[str]) -> int:
    """How many responses every one of ``coders`` has marked done (the units, quickly)."""
    sets = sorted((project.done.get(c, set()) for c in coders), key=len)
    if not sets or not sets[0]:
        return 0
    return len(set(sets[0]).intersection(*sets[1:]))


def project_agreement(project: Project, coders: list[str], unit: str = "response",
                      progress: Progress | None = None,
                      cancel: threading.Event | None = None) -> AgreementReport:
    """Agreement between ``coders`` on the responses they all marked done. Codes by name.

    ``progress(done, total)`` hears how far it is; setting ``cancel`` stops it
    (:class:`~tuiqa.longwork.Cancelled`). It only reads, so stopping loses nothing."""
    units, excluded, _ = compared_units(project, coders)
    n = len(units)
    steps = Steps(2 * n, progress, cancel)  # reading the codings, then counting them
    wanted = set(coders)
    data: dict[str, dict[str, list[tuple[str, int, int]]]] = {}
    lengths: dict[str, int] = {}
    name = project.code_name
    for i, rid in enumerate(units):
        if not i % STEP_EVERY:
            steps(i)
        per: dict[str, list[tuple[str, int, int]]] = {c: [] for c in coders}
        for c in project.codings_by_response.get(rid, {}).values():
            if c.coder in wanted:
                per[c.coder].append((name(c.code_id), c.start, c.end))
        data[rid] = per
        if unit == "character":
            lengths[rid] = len(project.responses[rid].text)
    report = compute_agreement(data, coders, unit=unit, lengths=lengths or None,
                               units_excluded=excluded, step=lambda i: steps(n + i))
    steps.finish()
    return report


def agreement_dict(project: Project, coders: list[str], unit: str = "response") -> dict:
    report = project_agreement(project, coders, unit)
    out = report.to_dict()
    _, _, partly = compared_units(project, coders)
    out["units_excluded_done_by_some"] = partly
    return out


@dataclass
class Disagreement:
    response_id: str
    code_id: str
    kind: str  # PRESENCE or SPANS
    codings: dict[str, list[Coding]] = field(default_factory=dict)  # coder -> their codings

    @property
    def key(self) -> tuple[str, str]:
        return (self.response_id, self.code_id)

    def present(self) -> list[str]:
        return [c for c, items in self.codings.items() if items]


def disagreements(project: Project, coders: list[str], *, spans: bool = True,
                  include_resolved: bool = False, progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> list[Disagreement]:
    """Every (unit, code) where the compared coders' values differ, in reading order; with
    ``spans``, also those where all applied the code but to different extracts.
    ``progress`` and ``cancel`` as for :func:`project_agreement`."""
    from .navigation import reading_order

    units, _, _ = compared_units(project, coders)
    unit_set = set(units)
    resolved = set() if include_resolved else _resolved(project)
    order = [rid for rid in reading_order(project.state, "participant") if rid in unit_set]
    steps = Steps(len(order), progress, cancel)
    out: list[Disagreement] = []
    for i, rid in enumerate(order):
        if not i % STEP_EVERY:
            steps(i)
        out.extend(_response_disagreements(project, coders, rid, spans, resolved))
    steps.finish()
    return out


def response_disagreements(project: Project, coders: list[str], response_id: str, *,
                           spans: bool = True) -> list[Disagreement]:
    """The open disagreements in one response (after one is resolved: no need to go over the
    whole project again)."""
    if response_id not in project.responses or \
            not all(response_id in project.done.get(c, ()) for c in coders):
        return []  # not a unit: some coder has not finished it
    return _response_disagreements(project, coders, response_id, spans, _resolved(project))


def _resolved(project: Project) -> set[tuple[str, str]]:
    return {(r.response_id, r.code_id) for r in project.state.table("resolution").values()
            if not r.deleted and r.is_complete()}


def _response_disagreements(project: Project, coders: list[str], rid: str, spans: bool,
                            resolved: set[tuple[str, str]]) -> list[Disagreement]:
    wanted = set(coders)
    by_code: dict[str, dict[str, list[Coding]]] = {}
    for c in project.codings_by_response.get(rid, {}).values():
        if c.coder in wanted:
            by_code.setdefault(c.code_id, {k: [] for k in coders})[c.coder].append(c)
    out: list[Disagreement] = []
    for code_id in sorted(by_code, key=lambda cid: project.code_name(cid).casefold()):
        if (rid, code_id) in resolved:
            continue
        per = by_code[code_id]
        for items in per.values():
            items.sort(key=lambda c: (c.start, c.end))
        present = [k for k in coders if per[k]]
        if len(present) < len(coders):
            out.append(Disagreement(rid, code_id, PRESENCE, per))
        elif spans:
            shapes = {tuple((c.start, c.end) for c in per[k]) for k in coders}
            if len(shapes) > 1:
                out.append(Disagreement(rid, code_id, SPANS, per))
    return out


def resolve(project: Project, change: Change, item: Disagreement, decision: str, *,
            comment: str = "", by: str) -> None:
    """Record the team's decision and set the consensus layer for this response and code:
    ``keep:<coder>`` copies that coder's extracts, ``both`` the union, ``discuss`` leaves the
    consensus as it is and marks the item for discussion with a comment."""
    coders = list(item.codings)
    if decision.startswith("keep:"):
        who = decision[5:]
        if who not in item.codings:
            raise ChangeError(f"{who} is not one of the compared coders")
        spans = {(c.start, c.end) for c in item.codings[who]}
    elif decision == "both":
        spans = {(c.start, c.end) for items in item.codings.values() for c in items}
    elif decision == "discuss":
        if not comment.strip():
            raise ChangeError("say what to discuss")
        spans = None
    else:
        raise ChangeError(f"unknown decision {decision!r}")
    if spans is not None:
        existing = [c for c in project.codings_for(item.response_id, CONSENSUS) if c.code_id == item.code_id]
        for c in existing:
            if (c.start, c.end) not in spans:
                change.update("coding", c.id, deleted=True)
        have = {(c.start, c.end) for c in existing}
        for start, end in sorted(spans - have):
            project.add_coding(change, item.response_id, item.code_id, CONSENSUS, start, end)
        project.set_done(change, item.response_id, CONSENSUS, True)
    change.create(Resolution, Resolution.make_id(item.response_id, item.code_id),
                  response_id=item.response_id, code_id=item.code_id, coders=coders,
                  decision=decision, comment=comment.strip(), resolved_by=by, deleted=False)


def resolutions(project: Project) -> list[Resolution]:
    items = [r for r in project.state.table("resolution").values() if not r.deleted and r.is_complete()]
    return sorted(items, key=lambda r: r.updated)  # type: ignore[return-value]
