"""Where the coder is: the order of responses, the filter, and moving through them.

Reading by participant (all of P1's answers, then P2's …) or by question (everyone's answer to Q1,
then Q2 …); optionally only the responses of participants with a given attribute value.
"""

from __future__ import annotations

from dataclasses import dataclass

from .project import Project

BY_PARTICIPANT = "participant"
BY_QUESTION = "question"
ORDERS = (BY_PARTICIPANT, BY_QUESTION)


def reading_order(state, order: str) -> list[str]:
    """All response ids in reading order: by participant (then question), or by question (then
    participant). Remembered in the state until the survey changes."""
    cached = state.sequences.get(order)
    if cached is not None and len(cached) == len(state.responses):
        return cached
    porder = {pid: part.order for pid, part in state.participants.items()}
    qorder = {qid: q.order for qid, q in state.questions.items()}
    responses = state.responses.values()
    if order == BY_QUESTION:
        ordered = sorted(responses, key=lambda r: (qorder.get(r.question_id, 0), porder.get(r.participant_id, 0)))
    else:
        ordered = sorted(responses, key=lambda r: (porder.get(r.participant_id, 0), qorder.get(r.question_id, 0)))
    sequence = [r.id for r in ordered]
    state.sequences[order] = sequence
    return sequence


@dataclass(frozen=True)
class Filter:
    attribute: str
    value: str

    def describe(self) -> str:
        return f"{self.attribute} = {self.value or '(blank)'}"


class Navigator:
    def __init__(self, project: Project, coder: str, order: str = BY_PARTICIPANT) -> None:
        self.project = project
        self.coder = coder
        self.order = order
        self.filter: Filter | None = None
        self._sequence: list[str] = []
        self._position: dict[str, int] = {}
        self._survey_key: object = None
        self.index = 0
        self._rebuild()

    # -- the sequence ------------------------------------------------------------------------

    def _survey_signature(self) -> object:
        st = self.project.state
        return (id(st.responses), len(st.responses), id(st.participants), self.order, self.filter)

    def _rebuild(self, keep: str | None = None) -> None:
        p = self.project
        sequence = reading_order(p.state, self.order)
        if self.filter is not None:
            f = self.filter
            allowed = {pid for pid, part in p.participants.items()
                       if part.attrs.get(f.attribute, "") == f.value}
            responses = p.responses
            sequence = [rid for rid in sequence if responses[rid].participant_id in allowed]
        self._sequence = sequence
        self._position = {rid: i for i, rid in enumerate(sequence)}
        self._survey_key = self._survey_signature()
        if keep is not None and keep in self._position:
            self.index = self._position[keep]
        elif keep is not None and keep in p.responses and sequence:
            # the current answer is filtered out: go to the next one that is shown
            full = reading_order(p.state, self.order)
            where = {rid: i for i, rid in enumerate(full)}
            after = where.get(keep, 0)
            self.index = next((i for i, rid in enumerate(sequence) if where[rid] >= after), 0)
        else:
            self.index = min(self.index, max(len(self._sequence) - 1, 0))

    def sync(self) -> None:
        """Rebuild after a reload or re-import, staying on the same response if it still exists."""
        if self._survey_signature() != self._survey_key:
            self._rebuild(keep=self.current_id)

    @property
    def sequence(self) -> list[str]:
        return self._sequence

    def __len__(self) -> int:
        return len(self._sequence)

    @property
    def current_id(self) -> str | None:
        if not self._sequence:
            return None
        return self._sequence[self.index]

    @property
    def current(self):
        rid = self.current_id
        return self.project.responses.get(rid) if rid else None

    # -- moving ------------------------------------------------------------------------------

    def move(self, delta: int) -> bool:
        if not self._sequence:
            return False
        new = max(0, min(len(self._sequence) - 1, self.index + delta))
        moved = new != self.index
        self.index = new
        return moved

    def goto(self, response_id: str) -> bool:
        i = self._position.get(response_id)
        if i is None:
            return False
        self.index = i
        return True

    def next_not_done(self) -> bool:
        """Go to the next response this coder has not marked done (wrapping round)."""
        done = self.project.done.get(self.coder, set())
        n = len(self._sequence)
        for step in range(1, n + 1):
            i = (self.index + step) % n
            if self._sequence[i] not in done:
                self.index = i
                return True
        return False

    def first_of_participant(self, participant_id: str) -> bool:
        return self._first_where(lambda r: r.participant_id == participant_id)

    def first_of_question(self, question_id: str) -> bool:
        return self._first_where(lambda r: r.question_id == question_id)

    def _first_where(self, test) -> bool:
        responses = self.project.responses
        for i, rid in enumerate(self._sequence):
            if test(responses[rid]):
                self.index = i
                return True
        return False

    def set_order(self, order: str) -> None:
        if order not in ORDERS:
            raise ValueError(order)
        self.order = order
        self._rebuild(keep=self.current_id)

    def toggle_order(self) -> str:
        self.set_order(BY_QUESTION if self.order == BY_PARTICIPANT else BY_PARTICIPANT)
        return self.order

    def set_filter(self, flt: Filter | None) -> None:
        self.filter = flt
        self._rebuild(keep=self.current_id)

    # -- counts ------------------------------------------------------------------------------

    def done_count(self) -> int:
        done = self.project.done.get(self.coder)
        if not done:
            return 0
        if self.filter is None and len(self._sequence) == len(self.project.responses):
            return len(done & self.project.responses.keys())
        return sum(1 for rid in self._sequence if rid in done)

    def attribute_values(self) -> list[tuple[str, str, int]]:
        """(attribute, value, participants) for the filter picker."""
        counts: dict[tuple[str, str], int] = {}
        for part in self.project.participants.values():
            for attr in self.project.attributes:
                key = (attr, part.attrs.get(attr, ""))
                counts[key] = counts.get(key, 0) + 1
        order = {a: i for i, a in enumerate(self.project.attributes)}
        return sorted(((a, v, n) for (a, v), n in counts.items()),
                      key=lambda t: (order.get(t[0], 0), t[1].casefold()))
