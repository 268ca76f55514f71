"""What to ingest: command-line PATHs resolved into roots (a folder, a file, a git repo).

A root's `key` identifies it in the index (an absolute folder path, or the git URL), and each
file's `file` is its path relative to the root: the `source` that citations show.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path

from app.course.curriculum import CURRICULUM_FILE
from app.ingest.loaders import supported

GIT_URL = re.compile(r"^(https?|git|ssh|file)://|^[\w.-]+@[\w.-]+:|\.git/?$")
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".ipynb_checkpoints", ".venv"}


class SourceError(ValueError):
    """A PATH that cannot be ingested at all."""


@dataclass
class Root:
    key: str
    folder: Path
    files: list[Path]
    whole_folder: bool  # files missing from `files` were deleted (false for a single file)
    scope: str = (
        ""  # the listed sub-folder, relative to `folder`, when an enclosing root adopted it
    )
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) found by listing

    def relative(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def in_scope(self, file: str) -> bool:
        """Whether `file` was listed this time (so its absence means it was deleted)."""
        return not self.scope or file.startswith(f"{self.scope}/")

    @property
    def local(self) -> bool:
        return self.key == str(self.folder)


def redact(url: str) -> str:
    """A git URL without credentials, to store and show: `https://user:token@host/x` ->
    `https://host/x` (any user part of an http(s) URL is a token), `ssh://git:pw@host` ->
    `ssh://git@host`."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    userinfo, _, location = rest.partition("@")
    if scheme.lower() in ("http", "https"):
        return f"{scheme}://{location}"
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{location}"


def is_git_url(value: str) -> bool:
    return bool(GIT_URL.search(value)) and not Path(value).exists()


def local_path(value: str) -> Path:
    """`value` as a local path, `~` and `~user` expanded. SourceError for a `~user` this
    machine has no such user for (Python raises RuntimeError there, which was a 500)."""
    try:
        return Path(value).expanduser()
    except RuntimeError as exc:
        user = value[1:].split(os.sep, 1)[0]
        raise SourceError(
            f"{value}: this machine has no user {user!r}, so ~{user} leads nowhere; "
            "give the path in full"
        ) from exc


def check_local_paths(values: list[str]) -> None:
    """A local PATH that does not exist is a usage error, found before anything changes."""
    for value in values:
        if not is_git_url(value) and not local_path(value).exists():
            raise SourceError(f"{value}: no such file or folder")


def resolve(value: str, clones_dir: Path) -> Root:
    """Turn one PATH argument into a root; a git URL is shallow-cloned (or updated) first."""
    if is_git_url(value):
        return _folder_root(redact(value), clone(value, clones_dir))
    path = local_path(value)
    if not path.exists():
        raise SourceError(f"{value}: no such file or folder")
    path = path.resolve()
    if path.is_file():
        return Root(key=str(path.parent), folder=path.parent, files=[path], whole_folder=False)
    return _folder_root(str(path), path)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _folder_root(key: str, folder: Path) -> Root:
    """Every supported file under `folder`, each real file once.

    Symbolic links are followed only while their target stays inside the folder: a link that
    leaves it is skipped with a reason and never read (ingesting `notes/` must not read
    `~/.ssh`), a folder reached twice (a loop, an alias) is walked once, and a file reached
    through several names is listed under its own name, not a link's."""
    real_root = os.path.realpath(folder)
    found: dict[str, Path] = {}
    skipped: list[tuple[str, str]] = []
    walked: set[str] = set()

    def note_error(exc: OSError) -> None:
        where = Path(exc.filename or folder)
        skipped.append((where.relative_to(folder).as_posix() + "/", f"cannot list: {exc.strerror}"))

    def leaves(path: Path) -> bool:
        if path.is_symlink() and not _inside(os.path.realpath(path), real_root):
            skipped.append(
                (
                    path.relative_to(folder).as_posix(),
                    f"symbolic link to {os.path.realpath(path)}, outside the ingested "
                    "folder: not read (ingest that folder itself to include it)",
                )
            )
            return True
        return False

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True, onerror=note_error):
        here = Path(dirpath)
        real = os.path.realpath(here)
        if real in walked:  # a symlink loop, or a second name for a folder already listed
            dirnames[:] = []
            continue
        walked.add(real)
        # Real folders before links, so a file is listed under its own name when it can be.
        dirnames[:] = sorted(
            (d for d in dirnames if d not in SKIP_DIRS and not leaves(here / d)),
            key=lambda d: ((here / d).is_symlink(), d),
        )
        for name in sorted(filenames, key=lambda n: ((here / n).is_symlink(), n)):
            path = here / name
            if not (supported(path) or name == CURRICULUM_FILE) or leaves(path):
                continue
            if not path.is_file():
                skipped.append(
                    (
                        path.relative_to(folder).as_posix(),
                        "broken symbolic link (its target is missing or loops)",
                    )
                )
                continue
            found.setdefault(os.path.realpath(path), path)
    return Root(
        key=key, folder=folder, files=sorted(found.values()), whole_folder=True, skipped=skipped
    )


def unify(roots: list[Root], known: list[str]) -> tuple[list[Root], list[str]]:
    """One identity per file, however it is reached: (roots to ingest, known roots to drop).

    A folder inside another folder of the same run is already covered by it; a folder or file
    inside a folder ingested before is ingested as part of that folder (same root key, same
    `source`), so re-ingesting a sub-folder changes nothing; a folder ingested before that now
    lies inside a folder of this run is dropped, and its files come back under the outer one."""
    whole = [(j, str(r.folder)) for j, r in enumerate(roots) if r.local and r.whole_folder]

    def covered(index: int, root: Root) -> bool:
        here = str(root.folder)
        return any(
            j != index and _inside(here, f) and (f != here or not root.whole_folder or j < index)
            for j, f in whole
        )

    kept: list[Root] = []
    for index, root in enumerate(roots):
        if root.local and covered(index, root):
            continue
        here = str(root.folder)
        outer = [
            k for k in known if root.local and k != here and _inside(here, k) and Path(k).is_dir()
        ]
        if outer:
            key = min(outer, key=len)
            scope = Path(here).relative_to(key).as_posix() if root.whole_folder else ""
            root = replace(root, key=key, folder=Path(key), scope=scope)
        kept.append(root)
    dropped = [k for k in known if any(k != f and _inside(k, f) for _, f in whole)]
    return kept, dropped


def clone(url: str, clones_dir: Path, timeout: float = 600) -> Path:
    """Shallow clone into the data dir, or bring an earlier clone up to date."""
    shown = redact(url)  # credentials go to git only: not into folder names or messages
    slug = re.sub(r"[^\w.-]+", "-", shown.split("://")[-1]).strip("-")[:60]
    target = clones_dir / f"{slug}-{hashlib.sha1(shown.encode()).hexdigest()[:8]}"
    if (target / ".git").is_dir():
        commands = [
            ["git", "-C", str(target), "fetch", "--depth", "1", "origin", "HEAD"],
            ["git", "-C", str(target), "reset", "--hard", "--quiet", "FETCH_HEAD"],
        ]
    else:
        clones_dir.mkdir(parents=True, exist_ok=True)
        # `--`: a "URL" starting with a dash is not taken for an option (--upload-pack=...)
        commands = [["git", "clone", "--depth", "1", "--quiet", "--", url, str(target)]]
    for command in commands:
        try:
            subprocess.run(
                command,
                check=True,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
        except subprocess.CalledProcessError as exc:
            reason = (exc.stderr or "").replace(url, shown).strip().splitlines()
            detail = reason[-1] if reason else f"exit status {exc.returncode}"
            raise SourceError(f"{shown}: git failed: {detail}") from None  # cmd holds the URL
        except subprocess.TimeoutExpired:
            raise SourceError(f"{shown}: git timed out after {timeout:.0f} s") from None
        except FileNotFoundError:
            raise SourceError(f"{shown}: git is not installed") from None
    return target
