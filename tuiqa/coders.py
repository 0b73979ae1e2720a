"""Comparing coders on a project: agreement over the responses they all finished, the
disagreements to discuss, and the team's resolutions (the ``consensus`` layer).

Units are the responses marked *done* by at least two compared coders; a response a coder has not
finished is missing for that coder, never read as "no code" (a response nobody looked at is not a
response with nothing in it). Statistics that need every coder (percent agreement, Fleiss' kappa
...) use the responses finished by all of them; Krippendorff's alpha uses every pairable value.
The statistics themselves are in :mod:`tuiqa.agreement`; :func:`agreement_table` gives the rows
an agreement view shows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .agreement import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    STATS,
    STEP_EVERY,
    AgreementReport,
    CodeAgreement,
    agreement_from_rows,
    normalise_unit,
)
from .coefficients import Interval, Stat
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


def finished_by(project: Project, coders: list[str]) -> dict[str, int]:
    """Every response finished (marked done) by at least two of ``coders``: its bit mask of
    those who finished it (bit ``i`` for ``coders[i]``)."""
    responses = set(project.responses)
    groups: list[tuple[int, set[str]]] = []  # (who finished, the responses they all and only they did)
    for i, coder in enumerate(coders):
        mine = set(project.done.get(coder, ())) & responses
        bit = 1 << i
        split = []
        for mask, rids in groups:
            shared = rids & mine
            if shared:
                split.append((mask | bit, shared))
                mine -= shared
            if len(shared) < len(rids):
                split.append((mask, rids - shared))
        if mine:
            split.append((bit, mine))
        groups = split
    out: dict[str, int] = {}
    for mask, rids in groups:
        if mask & (mask - 1):
            out.update(dict.fromkeys(rids, mask))
    return out


BY_QUESTION = "question"


def groups_of(project: Project, by: str) -> tuple[dict[str, str], dict[str, str]]:
    """(response id -> group value, group value -> label) for ``--by question`` (the question's
    key, labelled with its text) or ``--by ATTRIBUTE`` (the participant's value, ``(blank)``
    when empty)."""
    if by == BY_QUESTION:
        questions = project.questions
        keys = {qid: q.key for qid, q in questions.items()}
        value_of = {rid: keys.get(qid, "?") for rid, qid in
                    ((rid, project.responses[rid].question_id) for rid in project.responses)}
        labels = {q.key: f"{q.key}: {q.text}" for q in project.questions_in_order()}
        return value_of, labels
    from .groups import BLANK, group_of

    if by not in project.attributes:
        choices = ", ".join([BY_QUESTION, *project.attributes])
        raise ChangeError(f"no attribute {by!r} to group by; choose one of: {choices}")
    participant = group_of(project, by)
    value_of = {rid: participant.get(project.responses[rid].participant_id, BLANK) for rid in project.responses}
    return value_of, {v: f"{by}: {v}" for v in set(value_of.values())}


def _code_keys(project: Project) -> tuple[dict[str, str], dict[str, str]]:
    """(code id -> the key it is counted under, key -> name): codes that share a name (a deleted
    code and a new one, say) are counted as one code, as the report names codes."""
    key_of: dict[str, str] = {}
    label: dict[str, str] = {}
    first: dict[str, str] = {}
    for code in project.state.table("code").values():
        name = getattr(code, "name", None) or "?"
        key = first.setdefault(name, code.id)
        key_of[code.id] = key
        label[key] = name
    return key_of, label


def project_agreement(project: Project, coders: list[str], unit: str = "response",
                      progress: Progress | None = None,
                      cancel: threading.Event | None = None, *, intervals: bool = True,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                      only: set[str] | None = None) -> AgreementReport:
    """Agreement between ``coders`` over the responses at least two of them marked done (a
    response a coder has not finished is missing for that coder). Codes by name. ``unit`` is
    ``answer`` or ``character``; the default keeps the older name of ``answer``, ``response``,
    which the report echoes (as the agreement screen shows it). ``only`` restricts the
    responses (a group of :func:`agreement_by`).

    ``progress(done, total)`` hears how far it is; setting ``cancel`` stops it
    (:class:`~tuiqa.longwork.Cancelled`). It only reads, so stopping loses nothing."""
    if len(coders) < 2:
        raise ChangeError("compare at least two coders")
    if len(set(coders)) != len(coders):
        raise ChangeError("a coder is listed twice")
    kind = normalise_unit(unit)
    finished = finished_by(project, coders)
    if only is not None:
        finished = {rid: d for rid, d in finished.items() if rid in only}
    if kind == "character":  # answers are drawn by their place in the list: the same place each run
        finished = dict(sorted(finished.items()))
    n = len(finished)
    # characters: reading the texts, then counting; answers: reading and counting at once
    steps = Steps(2 * n, progress, cancel)
    index = {c: i for i, c in enumerate(coders)}
    key_of, labels = _code_keys(project)
    by_response = project.codings_by_response
    lengths: dict[str, int] = {}
    if kind == "character":
        for i, rid in enumerate(finished):
            if not i % STEP_EVERY:
                steps(i)
            lengths[rid] = len(project.responses[rid].text)
    nothing: dict = {}

    unknown = next((k for k, name in labels.items() if name == "?"), "?")  # a coding of no known code

    def rows():
        for rid, d in finished.items():
            yield rid, d, [(i, key_of.get(c.code_id, unknown), c.start, c.end)
                           for c in by_response.get(rid, nothing).values()
                           if (i := index.get(c.coder)) is not None]

    full = (1 << len(coders)) - 1
    complete = sum(d == full for d in finished.values())
    total = len(project.responses) if only is None else len(only & project.responses.keys())
    labels.setdefault(unknown, "?")
    characters = kind == "character"
    report = agreement_from_rows(rows(), coders, unit=unit, labels=labels, lengths=lengths if characters else None,
                                 units_excluded=total - complete,
                                 step=(lambda i: steps(n + i)) if characters else (lambda i: steps(2 * i)),
                                 intervals=intervals, resamples=resamples, seed=seed, total=n)
    steps.finish()
    return report


def agreement_by(project: Project, coders: list[str], by: str, unit: str = "answer",
                 progress: Progress | None = None, cancel: threading.Event | None = None,
                 **options) -> list[tuple[str, str, AgreementReport]]:
    """(value, label, report) for each question or each value of an attribute, in the order of
    the questions or of the values (``(blank)`` last)."""
    from .groups import BLANK

    value_of, labels = groups_of(project, by)
    members: dict[str, set[str]] = {}
    for rid, value in value_of.items():
        members.setdefault(value, set()).add(rid)
    if by == BY_QUESTION:
        order = [q.key for q in project.questions_in_order() if q.key in members]
    else:
        order = sorted(members, key=lambda v: (v == BLANK, v.casefold()))
    out = []
    for k, value in enumerate(order):
        def part(done: int, total: int, k: int = k) -> None:
            if progress is not None:
                progress(k * total + done, len(order) * max(total, 1))
        out.append((value, labels.get(value, value),
                    project_agreement(project, coders, unit, part, cancel, only=members[value], **options)))
    return out


def agreement_dict(project: Project, coders: list[str], unit: str = "answer", *, by: str | None = None,
                   **options) -> dict:
    """The JSON of ``tuiqa agreement``: the report over every unit, with ``by`` also one per
    group (``{"by": {"key": by, "groups": [{"value", "label", ...report}]}}``)."""
    return table_dict(project, agreement_table(project, coders, unit, by, **options))


def table_dict(project: Project, table: AgreementTable) -> dict:
    """:func:`agreement_dict` of a table already worked out."""
    out = table.whole.report.to_dict()
    out["units_excluded_done_by_some"] = compared_units(project, list(table.coders))[2]
    if table.by is not None:
        out["by"] = {"key": table.by, "groups": [{"value": g.value, "label": g.label, **g.report.to_dict()}
                                                 for g in table.groups[1:]]}
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


# -- the rows an agreement view shows ----------------------------------------------------------


@dataclass(frozen=True)
class AgreementColumn:
    """One statistic column: ``key`` (a :class:`~tuiqa.agreement.CodeAgreement` field), a short
    ``label`` for a header and the full ``title``."""

    key: str
    label: str
    title: str


@dataclass(frozen=True)
class AgreementRow:
    """One code (or, with ``pooled``, every code together) with every figure a view shows."""

    code: str
    pooled: bool
    units: int                          # units finished by every coder (characters: characters)
    units_pairable: int                 # finished by at least two (alpha's units)
    both: int
    only: dict[str, int]
    neither: int
    stats: dict[str, Stat]              # every statistic, by column key
    intervals: dict[str, Interval]      # alpha and kappa: 95% bootstrap intervals
    kappa_paradox: bool
    flags: tuple[str, ...]              # sentences for a flag column or a detail line
    reasons: dict[str, str]             # why each undefined figure is undefined
    means: dict[str, Stat] = field(default_factory=dict)   # pooled row: means over codes
    pairwise: tuple = ()                # PairAgreement per pair of coders

    def value(self, key: str) -> float | None:
        stat = self.stats.get(key)
        return stat.value if stat is not None else None

    def sort_key(self, key: str) -> tuple:
        """Sorts by a column (undefined last), or by ``code``."""
        if key == "code":
            return (self.code.casefold(),)
        v = self.value(key)
        return (v is None, v if v is not None else 0.0, self.code.casefold())


@dataclass(frozen=True)
class AgreementGroup:
    """The figures over one set of units: every unit (``value`` None) or one group of ``by``."""

    value: str | None
    label: str
    report: AgreementReport
    pooled: AgreementRow
    rows: tuple[AgreementRow, ...]


@dataclass(frozen=True)
class AgreementTable:
    """What an agreement view shows, for any coders, unit and grouping."""

    coders: tuple[str, ...]
    unit: str
    by: str | None
    columns: tuple[AgreementColumn, ...]
    groups: tuple[AgreementGroup, ...]  # the first is over every unit

    @property
    def whole(self) -> AgreementGroup:
        return self.groups[0]


def agreement_columns(coders: int) -> tuple[AgreementColumn, ...]:
    """The statistic columns for ``coders`` coders: Cohen's kappa and Scott's pi for two, Fleiss'
    and the mean pairwise kappa for more."""
    kappa = ((AgreementColumn("cohen_kappa", "κ", "Cohen's kappa"),) if coders == 2 else
             (AgreementColumn("fleiss_kappa", "Fleiss κ", "Fleiss' kappa"),
              AgreementColumn("mean_pairwise_cohen_kappa", "pair κ", "mean pairwise Cohen's kappa")))
    pi = (AgreementColumn("scott_pi", "π", "Scott's pi"),) if coders == 2 else ()
    return (AgreementColumn("percent_agreement", "%agr", "percent agreement (all coders the same)"),
            *kappa,
            AgreementColumn("krippendorff_alpha", "α", "Krippendorff's alpha"),
            AgreementColumn("gwet_ac1", "AC1", "Gwet's AC1"),
            AgreementColumn("brennan_prediger", "BP", "Brennan-Prediger kappa"),
            *pi,
            AgreementColumn("prevalence", "prev", "prevalence (share of present decisions)"),
            AgreementColumn("overlap_jaccard", "overlap", "extract overlap (mean Jaccard)"),
            AgreementColumn("segment_agreement", "seg", "segment agreement (MAXQDA-style)"))


def paradox_sentence(entry: CodeAgreement) -> str:
    """Why a code is flagged: its kappa, agreement and prevalence, and AC1 beside them."""
    kappa = "Cohen's kappa" if len(entry.only) == 2 else "Fleiss' kappa"
    prevalence = entry.prevalence.value or 0.0
    return (f"kappa paradox: {kappa} {entry.kappa.value:.2f} although {entry.percent_agreement.value:.0%} of "
            f"decisions agree: the code is {'rare' if prevalence <= 0.5 else 'nearly everywhere'} "
            f"(prevalence {prevalence:.2f}); AC1 {entry.gwet_ac1.value:.2f}, "
            f"Brennan-Prediger {entry.brennan_prediger.value:.2f}")


def _row(entry: CodeAgreement, pooled: bool, means: dict[str, Stat] | None = None) -> AgreementRow:
    overlap = entry.overlap
    stats = {name: entry.stat(name) for name in (*STATS, "prevalence")}
    if overlap is not None:
        stats.update(overlap_jaccard=overlap.jaccard, overlap_masi=overlap.masi,
                     segment_agreement=overlap.segment_agreement)
    stats.update(cohen_kappa_mean_over_answers=entry.cohen_kappa_mean_over_answers,
                 cohen_kappa_length_weighted_over_answers=entry.cohen_kappa_length_weighted_over_answers)
    flags = (paradox_sentence(entry),) if entry.kappa_paradox else ()
    return AgreementRow(entry.code, pooled, entry.units, entry.units_pairable, entry.both, dict(entry.only),
                        entry.neither, stats, dict(entry.intervals), entry.kappa_paradox, flags,
                        entry.undefined_reasons, dict(means or {}), entry.pairwise)


def _group(value: str | None, label: str, report: AgreementReport) -> AgreementGroup:
    o = report.overall
    pooled = _row(o.pooled, True, dict(o.means)) if o.pooled is not None else None
    return AgreementGroup(value, label, report, pooled, tuple(_row(c, False) for c in report.codes))


def agreement_table(project: Project, coders: list[str], unit: str = "answer", by: str | None = None, *,
                    progress: Progress | None = None, cancel: threading.Event | None = None,
                    **options) -> AgreementTable:
    """Every figure an agreement view shows: per code rows with all statistics, intervals and
    flags, the pooled row (with the means over codes), over every unit and, with ``by``
    (``question`` or an attribute), over each group too. ``options`` as for
    :func:`project_agreement` (``intervals``, ``resamples``, ``seed``). ``progress`` hears the
    whole, groups included; ``cancel`` stops it."""
    kind = normalise_unit(unit)
    parts = 1 + (by is not None)

    def part(k: int):
        if progress is None:
            return None
        return lambda done, total: progress(k * max(total, 1) + done, parts * max(total, 1))

    whole = project_agreement(project, coders, kind, part(0), cancel, **options)
    groups = [_group(None, "every answer", whole)]
    if by is not None:
        groups += [_group(value, label, report)
                   for value, label, report in agreement_by(project, coders, by, kind, part(1), cancel, **options)]
    return AgreementTable(tuple(coders), kind, by, agreement_columns(len(coders)), tuple(groups))
