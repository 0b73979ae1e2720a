"""Entities are typed: each declares its fields with their types, in one place."""

from __future__ import annotations

import typing

import pytest

from tuiqa.model import ENTITY_TYPES, Code, Coding, CoderPref, Entity, Theme
from tuiqa.project import ChangeError


def test_every_entity_declares_its_fields_with_types():
    for cls in ENTITY_TYPES.values():
        assert cls.FIELDS, cls
        assert list(cls.FIELD_TYPES) == list(cls.FIELDS), cls  # the same fields, the same order
        hints = typing.get_type_hints(cls)
        for name in cls.FIELDS:
            assert hints[name] == cls.FIELD_TYPES[name], (cls, name)
    assert Coding.FIELD_TYPES["start"] is int and Coding.FIELD_TYPES["coder"] is str
    assert Code.FIELD_TYPES["deleted"] is bool and Theme.FIELD_TYPES["order"] is float
    assert Theme.FIELD_TYPES["parent_id"] == typing.Optional[str]
    # still compact objects: fields live in slots, not a per-object dict
    c = Coding("x", response_id="r", code_id="c", coder="ann", start=0, end=3)
    assert not hasattr(c, "__dict__") and c.start == 0 and c.deleted is False


def test_a_new_entity_kind_gets_its_fields_from_its_annotations():
    class Note(Entity):
        KIND = "test-note"
        text: str
        pinned: bool
        DEFAULTS = {"pinned": False}

    assert Note.FIELDS == ("text", "pinned")
    assert Note.FIELD_TYPES == {"text": str, "pinned": bool}
    note = Note("n1", text="hi")
    assert (note.text, note.pinned) == ("hi", False)


def test_update_rejects_unknown_fields_as_create_does(project):
    code = project.codes()[0]
    change = project.change("typo")
    with pytest.raises(ChangeError, match="nmae"):
        change.update("code", code.id, nmae="renamed")
    with pytest.raises(ChangeError, match="colour"):
        change.create(CoderPref, CoderPref.make_id("ann"), coder="ann", colour="red")
    assert not change.ops
