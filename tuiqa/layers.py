"""Coder layers: whose codings a write-up (or a count) stands for.

Every coding belongs to one coder, and the team's agreed version lives in a coder of its own,
``consensus`` (see :mod:`tuiqa.coders`). A write-up is one analysis, so it quotes one **layer**:

* a coder's codings (``lead``), or
* the consensus layer falling back to a coder (``consensus+lead``): for each answer and code the
  team resolved (a disagreement kept, or both versions kept) the consensus codings stand; for
  every other answer and code, the fallback coder's. The consensus layer alone holds only what
  was disputed, so it always falls back to someone.

The project's **primary layer** is a project setting (``tuiqa settings DIR primary-layer lead``);
until it is set it is the first coder (the one whose earliest coding is the oldest), who is
normally the lead researcher who imported the survey and began coding.

Within a layer the same passage coded twice with one code (a coder and a merge, or consensus
kept "both" on identical spans) is one extract. Counts here are what a write-up lists:
``extracts`` (distinct passages), ``answers`` (responses holding them) and ``participants``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, itemgetter

from .model import Coding
from .project import CONSENSUS, ChangeError, Project

PRIMARY_LAYER = "primary_layer"  # the Setting key


class LayerError(ChangeError):
    """A layer that names no coder of the project (the message names the coders)."""


@dataclass(frozen=True)
class Layer:
    coder: str                   # a coder, or "consensus"
    fallback: str | None = None  # with consensus: whose codings stand where nothing was resolved

    @property
    def spec(self) -> str:
        """How the layer is written in a setting or on the command line."""
        return f"{self.coder}+{self.fallback}" if self.fallback else self.coder

    @property
    def owner(self) -> str:
        """Whose layer, in a few words: ``lead's`` / ``the consensus (else lead's)``."""
        if self.coder == CONSENSUS:
            return f"the consensus (else {self.fallback}'s)" if self.fallback else "the consensus"
        return f"{self.coder}'s"

    def describe(self) -> str:
        """A sentence for the top of a write-up."""
        if self.coder == CONSENSUS:
            return (f"Quotes and counts are the consensus layer: the team's resolution where "
                    f"coders disagreed, {self.fallback}'s codings everywhere else.")
        return f"Quotes and counts are {self.coder}'s codings."


@dataclass(frozen=True)
class LayerCount:
    """What a layer holds for one code (or, summed, for a theme)."""

    extracts: int
    answer_ids: frozenset[str]
    participant_ids: frozenset[str]

    @property
    def answers(self) -> int:
        return len(self.answer_ids)

    @property
    def participants(self) -> int:
        return len(self.participant_ids)


EMPTY = LayerCount(0, frozenset(), frozenset())


def coders_in(project: Project) -> list[str]:
    """The project's coders other than the consensus layer."""
    return [c for c in project.coders() if c != CONSENSUS]


def first_coder(project: Project) -> str | None:
    """The coder whose earliest coding is the oldest (ties by name); None before any coding."""

    def compute() -> str | None:
        project.finish_loading()

        def everything():
            return chain.from_iterable(d.values() for d in project.codings_by_response.values())

        first = min(everything(), default=None, key=attrgetter("_s"))  # the creation stamp
        if first is not None and (first.coder == CONSENSUS or not first.created):
            # rare: the consensus layer first, or codings only known by a later change (no
            # creation stamp), which count last
            first = min(everything(), key=lambda c: (c.coder == CONSENSUS or not c.created,
                                                     c.created, c.coder))
        if first is not None and first.coder != CONSENSUS:
            return first.coder
        done = sorted(c for c, rids in project.done.items() if rids and c != CONSENSUS)
        return done[0] if done else None

    return project.remember(("first_coder",), compute)


def parse(project: Project, spec: str, *, check: bool = True) -> Layer:
    """``lead``, ``consensus`` or ``consensus+lead`` as a layer. ``consensus`` alone falls back
    to the primary layer's coder (else the first coder). With ``check``, every coder named must
    have codings or done marks in the project."""
    text = " ".join((spec or "").split())
    if not text:
        raise LayerError("give a coder, or consensus+CODER")
    head, plus, tail = (part.strip() for part in text.partition("+"))
    known = coders_in(project)
    if head.casefold() == CONSENSUS:
        fallback = tail or None
        if fallback is None:
            primary = primary_layer(project)
            fallback = primary.coder if primary and primary.coder != CONSENSUS else first_coder(project)
        if fallback is None:
            raise LayerError("the consensus layer falls back to a coder, and there is none yet")
        if fallback.casefold() == CONSENSUS:
            raise LayerError("the consensus layer falls back to a coder, not to itself")
        layer = Layer(CONSENSUS, fallback)
    elif plus:
        raise LayerError(f"{text!r}: only the consensus layer falls back to another "
                         "(consensus+CODER)")
    else:
        layer = Layer(head)
    if check:
        for coder in (layer.coder, layer.fallback):
            if coder is None or coder == CONSENSUS:
                continue
            if coder not in known:
                raise LayerError(f"no coder named {coder!r} in this project; coders: "
                                 f"{', '.join(known) or 'none yet'}"
                                 + (", and consensus+CODER" if known else ""))
    return layer


def primary_layer(project: Project) -> Layer | None:
    """The project's primary layer: the setting, else the first coder (None before any coding)."""
    value = project.setting(PRIMARY_LAYER)
    if value:
        try:
            return parse(project, value, check=False)
        except LayerError:
            pass  # a damaged setting: fall back to the first coder rather than fail
    first = first_coder(project)
    return Layer(first) if first else None


def _settled(project: Project) -> set[tuple[str, str]]:
    """(response, code) pairs the team resolved into the consensus layer."""
    settled = set()
    for r in project.state.table("resolution").values():
        if not r.deleted and r.is_complete() and r.decision != "discuss":  # type: ignore[attr-defined]
            settled.add((r.response_id, r.code_id))  # type: ignore[attr-defined]
    for c in project.all_codings():
        if c.coder == CONSENSUS:
            settled.add((c.response_id, c.code_id))
    return settled


def codings(project: Project, layer: Layer | None) -> dict[str, list[Coding]]:
    """The layer's codings per code id, one per passage (response, start, end), in reading order
    (participant, question, position). Kept until the project changes."""
    if layer is None:
        return {}
    return _layer(project, layer)[0]


def _layer(project: Project, layer: Layer) -> tuple[dict[str, list[Coding]], dict[str, str]]:
    """(codings per code, the participant of every answer they are in), remembered."""
    return project.remember(("layer", layer), lambda: _compute(project, layer))


def _compute(project: Project, layer: Layer) -> tuple[dict[str, list[Coding]], dict[str, str]]:
    responses = project.responses
    consensus = layer.coder == CONSENSUS
    settled = _settled(project) if consensus else set()
    wanted = layer.coder
    picked: dict[str, list[Coding]] = {}
    for code_id, items in project.codings_by_code.items():
        if consensus:
            mine = [c for c in items.values()
                    if ((c.response_id, code_id) in settled) == (c.coder == CONSENSUS)
                    and c.coder in (CONSENSUS, layer.fallback)]
        else:
            mine = [c for c in items.values() if c.coder == wanted]
        if mine:
            picked[code_id] = mine
    # reading order and participants, for the answers the layer codes only
    porder = {pid: p.order for pid, p in project.participants.items()}
    qorder = {qid: q.order for qid, q in project.questions.items()}
    rank: dict[str, tuple[int, int]] = {}
    participant_of: dict[str, str] = {}
    for rid in set(map(_RESPONSE, chain.from_iterable(picked.values()))):
        if rid in responses:
            r = responses[rid]
            rank[rid] = (porder.get(r.participant_id, 0), qorder.get(r.question_id, 0))
            participant_of[rid] = r.participant_id
    out: dict[str, list[Coding]] = {}
    for code_id, mine in picked.items():
        if not all(map(rank.__contains__, map(_RESPONSE, mine))):
            mine = [c for c in mine if c.response_id in rank]  # an answer no longer there
            if not mine:
                continue
        # sorted by (answer's place, start, end, id) with keys made in C, not a call per coding
        ordered = sorted(zip(map(rank.__getitem__, map(_RESPONSE, mine)), map(_SPAN_ID, mine), mine))
        mine = list(map(itemgetter(2), ordered))
        places = list(map(_PLACE, mine))
        if len(set(places)) < len(places):  # one passage twice: keep the first
            seen: set[tuple[str, int, int]] = set()
            kept = []
            for c, place in zip(mine, places):
                if place not in seen:
                    seen.add(place)
                    kept.append(c)
            mine = kept
        out[code_id] = mine
    return out, participant_of


_RESPONSE = attrgetter("response_id")
_SPAN_ID = attrgetter("start", "end", "id")
_PLACE = attrgetter("response_id", "start", "end")


def counts(project: Project, layer: Layer | None) -> dict[str, LayerCount]:
    """Per code id: extracts, answers and participants in the layer (codes with none are
    absent: use :data:`EMPTY`). This is what the write-up lists under each code; screens that
    show counts "in the primary layer" call it too."""
    if layer is None:
        return {}

    def compute() -> dict[str, LayerCount]:
        by_code, participant_of = _layer(project, layer)
        out = {}
        for code_id, items in by_code.items():
            rids = frozenset(map(_RESPONSE, items))
            out[code_id] = LayerCount(len(items), rids, frozenset(map(participant_of.__getitem__, rids)))
        return out

    return project.remember(("layer_counts", layer), compute)


def total(per_code: dict[str, LayerCount], code_ids) -> LayerCount:
    """Several codes together: extracts summed (each is listed under its code), answers and
    participants counted once."""
    found = [per_code.get(cid, EMPTY) for cid in code_ids]
    return LayerCount(sum(n.extracts for n in found),
                      frozenset().union(*[n.answer_ids for n in found]),
                      frozenset().union(*[n.participant_ids for n in found]))
