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
from pathlib import Path

from ingest.curriculum import CURRICULUM_FILE
from ingest.loaders import supported

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

    def relative(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()


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


def check_local_paths(values: list[str]) -> None:
    """A local PATH that does not exist is a usage error, found before anything changes."""
    for value in values:
        if not is_git_url(value) and not Path(value).expanduser().exists():
            raise SourceError(f"{value}: no such file or folder")


def resolve(value: str, clones_dir: Path) -> Root:
    """Turn one PATH argument into a root; a git URL is shallow-cloned (or updated) first."""
    if is_git_url(value):
        return _folder_root(redact(value), clone(value, clones_dir))
    path = Path(value).expanduser()
    if not path.exists():
        raise SourceError(f"{value}: no such file or folder")
    path = path.resolve()
    if path.is_file():
        return Root(key=str(path.parent), folder=path.parent, files=[path], whole_folder=False)
    return _folder_root(str(path), path)


def _folder_root(key: str, folder: Path) -> Root:
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and (supported(p) or p.name == CURRICULUM_FILE) and not (SKIP_DIRS & set(p.relative_to(folder).parts[:-1]))
    )
    return Root(key=key, folder=folder, files=files, whole_folder=True)


def clone(url: str, clones_dir: Path, timeout: float = 600) -> Path:
    """Shallow clone into the data dir, or bring an earlier clone up to date."""
    shown = redact(url)  # credentials go to git only: not into folder names or messages
    slug = re.sub(r"[^\w.-]+", "-", shown.split("://")[-1]).strip("-")[:60]
    target = clones_dir / f"{slug}-{hashlib.sha1(shown.encode()).hexdigest()[:8]}"
    if (target / ".git").is_dir():
        commands = [["git", "-C", str(target), "fetch", "--depth", "1", "origin", "HEAD"],
                    ["git", "-C", str(target), "reset", "--hard", "--quiet", "FETCH_HEAD"]]
    else:
        clones_dir.mkdir(parents=True, exist_ok=True)
        # `--`: a "URL" starting with a dash is not taken for an option (--upload-pack=...)
        commands = [["git", "clone", "--depth", "1", "--quiet", "--", url, str(target)]]
    for command in commands:
        try:
            subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        except subprocess.CalledProcessError as exc:
            reason = (exc.stderr or "").replace(url, shown).strip().splitlines()
            detail = reason[-1] if reason else f"exit status {exc.returncode}"
            raise SourceError(f"{shown}: git failed: {detail}") from None  # cmd holds the URL
        except subprocess.TimeoutExpired:
            raise SourceError(f"{shown}: git timed out after {timeout:.0f} s") from None
        except FileNotFoundError:
            raise SourceError(f"{shown}: git is not installed") from None
    return target
