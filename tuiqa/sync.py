"""``tuiqa sync DIR``: share a project through git, with the ``git`` the user already has.

tuiqa opens no network connection itself: it runs the user's own ``git`` (which uses their
remotes, keys and credentials), and says so. It commits this machine's files (only those: every
path in a tuiqa project belongs to one machine, so a pull can never conflict), pulls, pushes, and
says in words what arrived: "3 sessions from bea (41 codings, 2 renames); 1 conflict: …".
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .store import layout as L
from .store.store import ProjectError
from .text import display_text, one_line


class SyncError(ProjectError):
    """git is missing, DIR is not in a repository, there is no remote, or git failed."""


@dataclass
class SyncReport:
    repository: Path
    committed: list[str] = field(default_factory=list)
    pulled_from: str = ""
    pushed_to: str = ""
    arrived: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"tuiqa runs your git (it opens no connection itself) in {self.repository}"]
        for what in self.committed:
            out.append(f"Committed {what}.")
        if not self.committed:
            out.append("Nothing new of this machine's to commit.")
        if self.pulled_from:
            if self.arrived:
                out.append(f"From {self.pulled_from}: " + "; ".join(self.arrived))
            else:
                out.append(f"From {self.pulled_from}: nothing new.")
        if self.conflicts:
            out.append(f"{len(self.conflicts)} conflict{'s' if len(self.conflicts) != 1 else ''}: "
                       + "; ".join(self.conflicts[:10])
                       + (f"; … and {len(self.conflicts) - 10} more" if len(self.conflicts) > 10 else ""))
        if self.pushed_to:
            out.append(f"Pushed to {self.pushed_to}.")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


def _git(args: list[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              errors="replace", stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise SyncError("git is not installed here", "Install git, or share the project folder "
                        "with Dropbox, OneDrive or Syncthing and use `tuiqa status`.") from None
    if check and done.returncode != 0:
        detail = display_text((done.stderr or done.stdout).strip())
        raise SyncError(f"`git {' '.join(args[:2])}` failed:\n{detail}")
    return done


def _conflict_words(project, c, me: str) -> str:
    """One conflict as a person would say it."""
    def who(coder: str) -> str:
        return "you" if coder and coder == me else (coder or "someone")

    target = project.state.table(c.kind).get(c.target_id)
    if c.kind == "code" and c.field == "name":
        return (f"the same code renamed {one_line(repr(c.lost))} by {who(c.lost_by)} and "
                f"{one_line(repr(c.kept))} by {who(c.kept_by)}; kept {one_line(repr(c.kept))}")
    name = getattr(target, "name", None) if target is not None else None
    what = f"{c.kind} {one_line(repr(name))}" if name else c.kind
    return (f"{what}: {c.field} changed by {who(c.lost_by)} and by {who(c.kept_by)} at once; kept "
            f"{one_line(repr(c.kept), 40)}, not {one_line(repr(c.lost), 40)}")


def sync(directory: Path, coder: str) -> SyncReport:
    """Commit this machine's files, pull, push; report what arrived."""
    from .project import Project

    directory = Path(directory).resolve()
    if shutil.which("git") is None:
        raise SyncError("git is not installed here", "Install git, or share the project folder "
                        "with Dropbox, OneDrive or Syncthing and use `tuiqa status`.")
    done = _git(["rev-parse", "--show-toplevel"], directory, check=False)
    if done.returncode != 0:
        raise SyncError(f"{directory} is not in a git repository",
                        f"Make one with `git init` there and add a remote (`git remote add origin "
                        f"URL`), or share the folder with Dropbox, OneDrive or Syncthing and use "
                        f"`tuiqa status {directory}`.")
    top = Path(done.stdout.strip()).resolve()
    remotes = _git(["remote"], top).stdout.split()
    if not remotes:
        raise SyncError(f"the repository {top} has no remote to share it through",
                        "Add one with `git remote add origin URL` (a repository on your "
                        "university's GitLab, GitHub, or a bare repository on a shared drive).")
    project = Project.open(directory)
    report = SyncReport(top)
    try:
        me = project.store.machine or ""
        own = [str((directory / p).relative_to(top)) for p in
               (Path(L.MACHINES_DIR) / me, Path(".gitignore"), Path(".stignore"), Path(L.META_FILE))
               if (directory / p).exists()]
        _commit(top, own, f"tuiqa: work on {me} ({coder})", report, "this machine's files")
        branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], top).stdout.strip()
        upstream = _git(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"], top,
                        check=False)
        remote = remotes[0] if "origin" not in remotes else "origin"
        if upstream.returncode == 0:
            report.pulled_from = upstream.stdout.strip()
            _git(["pull", "--no-rebase", "--ff", "--no-edit"], top)
        elif _git(["ls-remote", "--exit-code", "--heads", remote, branch], top,
                  check=False).returncode == 0:
            report.pulled_from = f"{remote}/{branch}"
            _git(["pull", "--no-rebase", "--ff", "--no-edit", remote, branch], top)
        result = project.refresh(coder)
        report.arrived = result.arrivals.phrases(_hosts(directory))
        report.conflicts = [_conflict_words(project, c, coder) for c in result.conflicts
                            if c.kind != "conflict"]
        report.warnings = [one_line(w) for w in result.warnings]
    finally:
        project.close()
    _commit(top, own, f"tuiqa: {me} ({coder}) after syncing", report,
            "what this machine recorded while syncing")
    if upstream.returncode == 0:
        _git(["push"], top)
        report.pushed_to = upstream.stdout.strip()
    else:
        _git(["push", "--set-upstream", remote, branch], top)
        report.pushed_to = f"{remote}/{branch}"
    return report


def _hosts(directory: Path) -> dict[str, str]:
    """machine id -> its host name, from each machine's about.json (for the report)."""
    import orjson

    out = {}
    for path in (directory / L.MACHINES_DIR).glob(f"*/{L.ABOUT_FILE}"):
        try:
            host = orjson.loads(path.read_bytes()).get("host")
        except (OSError, orjson.JSONDecodeError, AttributeError):
            continue
        if host:
            out[path.parent.name] = one_line(str(host))
    return out


def _commit(top: Path, paths: list[str], message: str, report: SyncReport, what: str) -> None:
    if not paths:
        return
    changed = _git(["status", "--porcelain", "--untracked-files=all", "--", *paths], top).stdout
    if not changed.strip():
        return
    _git(["add", "-A", "--", *paths], top)
    _git(["commit", "--quiet", "-m", message, "--", *paths], top)
    report.committed.append(what)
