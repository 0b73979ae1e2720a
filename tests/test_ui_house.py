"""The shape of the UI (issue 16): layers, how the app is built, bindings, keymaps, Textual's
public surface only. Checks on the source where the rule is about the source; the app by its
keys where the rule is about what a user sees."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tuiqa"
UI = PACKAGE / "ui"
SIZE = (80, 24)


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


# -- layers ----------------------------------------------------------------------------------------


def test_nothing_outside_the_ui_imports_textual_or_rich():
    """Import every core module in a fresh interpreter: neither Textual nor Rich comes along."""
    core = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in _modules(PACKAGE)
            if UI not in p.parents and p.name != "__main__.py"]
    core = [m[:-len(".__init__")] if m.endswith(".__init__") else m for m in core]
    assert len(core) > 30
    script = ("import importlib, json, sys\n"
              f"for name in {core!r}: importlib.import_module(name)\n"
              "print(json.dumps(sorted(m for m in sys.modules "
              "if m.split('.')[0] in ('textual', 'rich'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert json.loads(out.stdout) == []


def test_no_screen_imports_another_screen_or_the_app():
    screens = {p.stem for p in _modules(UI / "screens") if p.stem != "__init__"}
    offences = []
    for path in _modules(UI / "screens"):
        for name in _imports(path):
            parts = name.split(".")
            if name.startswith("tuiqa.ui.app") or (
                    name.startswith("tuiqa.ui.screens.") and parts[3] in screens
                    and parts[3] != path.stem):
                offences.append(f"{path.name} imports {name}")
    assert offences == []


def test_views_are_drawn_without_textual():
    """A view computes what a screen shows from the core: Rich is allowed, Textual is not."""
    offences = [f"{path.name} imports {name}" for path in _modules(UI / "views")
                for name in _imports(path) if name.split(".")[0] == "textual"
                or name.startswith(("tuiqa.ui.screens", "tuiqa.ui.app", "tuiqa.ui.widgets"))]
    assert _modules(UI / "views") and offences == []


def test_the_ui_changes_a_project_only_through_the_session():
    """No ``project.change``/``commit`` and no raw table in the UI: the session has one method
    per user action (the app used to write coder preferences itself), the project typed
    accessors."""
    offences = []
    for path in _modules(UI):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("change", "commit", "table", "state") \
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "project":
                offences.append(f"{path.relative_to(UI)}:{node.lineno} project.{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr == "table" and \
                    isinstance(node.value, ast.Attribute) and node.value.attr == "state":
                offences.append(f"{path.relative_to(UI)}:{node.lineno} state.table")
    assert offences == []


# -- one way to build the app ---------------------------------------------------------------------


def test_the_app_is_built_only_by_make_app():
    """The CLI, the tests and the benchmark all build the app with ``make_app``."""
    offences = []
    for path in [*_modules(PACKAGE), *_modules(ROOT / "tests"), *_modules(ROOT / "bench")]:
        if path == UI / "factory.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id == "TuiqaApp":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.FunctionDef) and node.name == "make_app":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} defines its own make_app")
    assert offences == []


# -- Textual's public surface ---------------------------------------------------------------------


def _private_names(*classes: type, instances: tuple = ()) -> set[str]:
    names: set[str] = set()
    for cls in classes:
        for klass in cls.__mro__:
            names.update(vars(klass))
    for obj in instances:
        names.update(vars(obj))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def test_the_ui_reads_no_private_textual_attribute():
    """Nothing in the UI reads a private attribute of Textual's (``_message_queue``,
    ``_filters``, ``_unnotify`` …) or overrides a private method of the classes it subclasses:
    they change without notice between releases."""
    from textual import widgets
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.screen import ModalScreen, Screen
    from textual.scroll_view import ScrollView
    from textual.widget import Widget

    subclassed = (App, Screen, ModalScreen, Widget, ScrollView, VerticalScroll, widgets.Static)
    overridable = _private_names(*subclassed)
    readable = overridable | _private_names(
        widgets.OptionList, widgets.Tree, widgets.Input, widgets.TextArea, widgets.DataTable,
        widgets.Footer, widgets.ProgressBar, widgets.RadioSet, widgets.Button,
        instances=(App(), Widget()))
    assert {"_message_queue", "_filters", "_unnotify", "_notifications", "_tree_lines"} <= readable
    offences = []
    for path in _modules(UI):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in readable:
                offences.append(f"{path.relative_to(UI)}:{node.lineno} reads {node.attr}")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in overridable:
                offences.append(f"{path.relative_to(UI)}:{node.lineno} overrides {node.name}")
    assert offences == []


# -- bindings and the user's keymap ---------------------------------------------------------------


def _binding_classes() -> list[type]:
    """Every class in the UI that declares bindings."""
    import importlib

    found = []
    for path in _modules(UI):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ \
                    and "BINDINGS" in vars(value):
                found.append(value)
    return found


def test_every_binding_has_an_id_and_ids_are_unique():
    from textual.binding import Binding

    classes = _binding_classes()
    assert len(classes) > 20
    missing, seen = [], {}
    for cls in classes:
        for b in vars(cls)["BINDINGS"]:
            assert isinstance(b, Binding), f"{cls.__name__}: {b!r} is not a Binding"
            if not b.id:
                missing.append(f"{cls.__name__} {b.key} -> {b.action}")
            elif b.id in seen and seen[b.id] is not cls:
                missing.append(f"{b.id} in {cls.__name__} and {seen[b.id].__name__}")
            seen[b.id] = cls
    assert missing == []


def _write_keymap(monkeypatch, tmp_path, text: str) -> Path:
    """A keymap in the user's config folder (XDG_CONFIG_HOME, as platformdirs reads it)."""
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    path = config / "tuiqa" / "keymap.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_users_keymap_file_rebinds_keys_by_binding_id(sample_project, monkeypatch, tmp_path):
    from tuiqa.ui.factory import make_app
    from tuiqa.ui.screens.codebook import CodebookScreen

    _write_keymap(monkeypatch, tmp_path, '# my keys\n"codebook.back" = "escape"\n'
                  '[coding]\nnext = "space"\ncodebook = ["B", "f5"]\n')
    app = make_app(sample_project, "tester", refresh_seconds=0, welcome=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        assert app.navigator.index == 0  # n no longer moves on: the user gave "next" to Space
        await pilot.press("space")
        assert app.navigator.index == 1
        await pilot.press("b")
        assert not isinstance(app.screen, CodebookScreen)
        await pilot.press("f5")
        assert isinstance(app.screen, CodebookScreen)
        await pilot.press("b")  # dotted ids work too: b no longer leaves the codebook
        assert isinstance(app.screen, CodebookScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        coding = dict(app.screen.groups)["Coding screen"]  # the help shows the keys in use
        assert ("Space", "Next") in coding and ("B / F5", "Codebook") in coding
    app.project.close()


async def test_a_bad_keymap_file_is_explained_and_the_app_still_opens(sample_project, monkeypatch, tmp_path):
    from tuiqa.ui.factory import make_app
    from tuiqa.ui.screens.coding import CodingScreen

    path = _write_keymap(monkeypatch, tmp_path, '[coding]\nnext = "space"\nprevious = \n')
    app = make_app(sample_project, "tester", refresh_seconds=0, welcome=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CodingScreen)
        errors = [n.message for n in app.notices if n.severity == "error"]
        assert errors and str(path) in errors[0] and "line 3" in errors[0]
        await pilot.press("n")
        assert app.navigator.index == 1  # nothing of a broken file is used: the default keys
    app.project.close()

    path.write_text('[coding]\nnxet = "space"\nundo = 7\ncodebook = "B"\n', encoding="utf-8")
    app = make_app(sample_project, "tester", refresh_seconds=0, welcome=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        errors = " ".join(n.message for n in app.notices if n.severity == "error")
        assert "coding.nxet" in errors and "coding.next" in errors  # unknown, and what was meant
        assert "coding.undo" in errors  # not a key
        await pilot.press("B")  # what was right is used
        from tuiqa.ui.screens.codebook import CodebookScreen

        assert isinstance(app.screen, CodebookScreen)
    app.project.close()


def test_a_key_given_to_two_actions_on_one_screen_is_reported(tmp_path):
    from tuiqa.ui.app import binding_groups
    from tuiqa.ui.keymap import check_keymap, is_key, read_keymap

    path = tmp_path / "keymap.toml"
    path.write_text('[coding]\nnext = "d"\nprevious = ["p", "ctrl+shift+p"]\nmemo = "ctl+m"\n',
                    encoding="utf-8")
    keymap = read_keymap(path)
    assert "ctl+m" in " ".join(keymap.problems)  # not a key: left out, the rest kept
    check_keymap(keymap, binding_groups())
    clash = [p for p in keymap.problems if "d is now both" in p]
    assert clash and "coding.next" in clash[0] and "coding.done" in clash[0]
    assert keymap.keys == {"coding.next": "d", "coding.previous": "p,ctrl+shift+p"}
    assert is_key("question_mark") and is_key("?") and is_key("f5") and not is_key("ctrl+")


def test_the_readme_names_every_binding_id():
    """The README's table of binding ids is what a user writes a keymap from: keep it whole."""
    from tuiqa.ui.app import binding_groups

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ids = {b.id for group in binding_groups().values() for b in group}
    missing = sorted(i for i in ids if f"`{i}`" not in readme
                     and not i.endswith(tuple(f"_{n}" for n in range(2, 9))))
    assert missing == []
