"""The sandbox that runs a learner's file: a separate process, limited and cut off.

Mechanism, strongest first (`TUTOR_CHECK_SANDBOX=auto` takes the first that works here):

- `bwrap` (bubblewrap, the maintained sandbox Flatpak uses): new network, PID, IPC and UTS
  namespaces and a mount namespace holding only the Python runtime and NumPy (read-only) and
  an empty temporary directory (the only writable place). No network, no home, no tutor code.
- `unshare` (util-linux): new network, IPC, PID and mount namespaces, with its own /proc (no
  host process visible, no signal leaves it, nothing outlives it) and the tutor's code and
  data dir covered by empty file systems; the rest of the host's files are protected only by
  their permissions.
- `rlimits`: resource limits only (no network isolation, the host's processes visible); the
  last resort, e.g. in a container that forbids namespaces.

Only `bwrap` holds every file outside the temp dir unreadable: `ISOLATION` says what each
mechanism leaves open, and the CLI, /health and the README say so. Whatever the mechanism,
the learner's code runs in a worker process that holds none of the tutor's pipes
(`child.py`), and every reply must carry the id of the request it answers.

Every mechanism adds resource limits with util-linux `prlimit` (CPU seconds, address space,
processes, file size, open files, no core dumps) and, when the tutor runs as root, drops to
the unprivileged `nobody` user first (with `setpriv`): the process limit does not bind root.

Every process of a check is in one process group, which the tutor kills and reaps as one
however the check ends (`_spawn`, `_end`): the tutor adopts the check's orphans, as an init
would, so none stays `<defunct>` where PID 1 does not reap (as in many containers).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy

from app.config import Settings

NOBODY = 65534
CHILD = Path(__file__).with_name("child.py")
MAX_REPLY_BYTES = 8 * 1024 * 1024
NOT_A_REPLY = "the sandbox's reply was not understood (did your code write into its pipes?)"
# Threads count too: the relay, the worker and a few of the learner's. Small, because the
# memory and CPU limits hold per process (a cgroup would make them per check: not done here).
PROCESSES = 6
SCRATCH_BYTES = 64 * 1024 * 1024  # the learner's writable scratch, a tmpfs under bwrap and unshare
FILE_SIZE = 16 * 1024 * 1024
OPEN_FILES = 64
MECHANISMS = ("bwrap", "unshare", "rlimits")
# What each mechanism leaves open, for the learner and the operator (None: nothing known). Run
# as root the child is `nobody`; otherwise it is this user, whose own files it may read.
_READABLE = "files that everyone may read" if os.geteuid() == 0 else "files this user may read"
ISOLATION: dict[str, str | None] = {
    "bwrap": None,
    "unshare": f"{_READABLE} outside the check's temp dir (the tutor's code, tests, evals and "
    "data dir are hidden), and files it writes in the host's /tmp stay; install bubblewrap "
    "for full isolation",
    "rlimits": f"the network, the host's processes (a process may outlive its check), other "
    f"checks' files and {_READABLE}, and files it writes outside its folder stay; install "
    "bubblewrap for full isolation",
}
APP_DIR = Path(__file__).resolve().parents[1]  # the tutor's code, the references included
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


class SandboxFailure(RuntimeError):
    """The learner's code could not be run to an answer: `kind` is `import` (the file does not
    import), `time`, `memory`, `processes`, `file size`, `crashed`, `protocol` (a reply that is
    not one) or `unavailable`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _site_dir() -> str:
    """The folder holding NumPy (and its bundled libraries): the only packages the child sees."""
    return str(Path(numpy.__file__).resolve().parent.parent)


def _as_nobody() -> list[str]:
    """As root: become `nobody`, with no capabilities. Otherwise nothing to drop (inside
    `unshare --user` the child would be root of its namespace: see `_contained`)."""
    return (
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
        if os.geteuid() == 0
        else []
    )


def _bwrap_prefix(work: Path) -> list[str]:
    runtime = Path(sys.base_prefix).resolve()
    cmd = [
        "bwrap",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        # no --new-session: `_spawn` already gives the check a session of its own, with no
        # controlling terminal (what --new-session is for); bubblewrap's would take its init
        # out of the check's process group, out of reach of `_end`
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    if os.geteuid() != 0:
        cmd.insert(1, "--unshare-user")
    for top in ("/lib", "/lib64", "/lib32", "/bin"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    if not str(runtime).startswith("/usr/"):
        cmd += ["--ro-bind", str(runtime), str(runtime)]
    # NumPy alone, not the whole site-packages: installed as a package (not editable), the
    # tutor itself, its references included, would be there
    site = Path(_site_dir())
    cmd += ["--perms", "0755", "--dir", "/site"]
    for package in ("numpy", "numpy.libs"):
        if (site / package).is_dir():
            cmd += ["--ro-bind", str(site / package), f"/site/{package}"]
    cmd += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        str(work),
        "/sandbox",
        "--perms",
        "1777",
        "--size",
        str(SCRATCH_BYTES),
        "--tmpfs",
        "/sandbox/scratch",
        "--chdir",
        "/sandbox/scratch",
    ]
    return cmd


def _command(mechanism: str, work: Path, settings: Settings) -> list[str]:
    """The command line that runs the child in `work` under `mechanism`, limited."""
    return [*_limits(settings), *_contained(mechanism, work, settings)]


def _hidden(settings: Settings) -> list[str]:
    """What `unshare` covers with an empty file system: the tutor's code (the references),
    its git history, evals and tests (learner-style solutions), and the data dir (every
    learner's records), where they exist."""
    checkout = APP_DIR.parent
    places = (
        APP_DIR,
        *(checkout / name for name in (".git", "evals", "tests")),  # solutions live there too
        settings.data_dir.resolve(),
        Path("/var/tmp"),  # noqa: S108 - covered, so nothing written there outlives the check
        Path("/dev/shm"),
    )
    return [str(p) for p in places if p.is_dir()]


# Runs inside the new namespaces, before the drop to `nobody`: an empty, unreadable tmpfs
# over each folder named, then the child. Any failure stops the check ("unavailable").
_COVER = (
    # cd after the mount: a working directory set before it stays on the host's disk, below
    'mount -t tmpfs -o "size=$1,mode=1777" scratch "$2" && cd "$2" || exit 97; shift 2; '
    'for d in "$@"; do [ "$d" = -- ] && break; '
    'mount -t tmpfs -o size=4k,mode=000 cover "$d" || exit 97; shift; done; shift; exec "$@"'
)


def _contained(mechanism: str, work: Path, settings: Settings) -> list[str]:
    python = str(Path(sys.base_prefix, "bin", Path(sys.executable).name).resolve())
    if not os.path.exists(python):
        python = str(Path(sys.executable).resolve())
    if mechanism == "bwrap":
        return [
            *_bwrap_prefix(work),
            *_as_nobody(),
            python,
            "-I",
            "-S",
            "/sandbox/child.py",
            "/sandbox/learner.py",
            "/site",
        ]
    child = [python, "-I", "-S", str(work / "child.py"), str(work / "learner.py"), _site_dir()]
    if mechanism == "unshare":
        spaces = ["--net", "--ipc", "--uts", "--mount", "--pid", "--fork", "--kill-child"]
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        return [
            "unshare",
            *user,
            *spaces,
            "--mount-proc",
            "--",
            "sh",
            "-c",
            _COVER,
            "cover",
            str(SCRATCH_BYTES),
            str(work / "scratch"),
            *_hidden(settings),
            "--",
            # not root: the child would be root of its user namespace, able to lift the
            # covers; with no capabilities left it can't
            *(_as_nobody() or ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]),
            *child,
        ]
    return [*_as_nobody(), *child]


def _processes_of(uid: int) -> int:
    """How many tasks (processes and threads) `uid` runs now: RLIMIT_NPROC counts them all.
    A process that ends while it is read is skipped (reading /proc races with exits: a glob
    over it once failed a check with FileNotFoundError)."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            text = Path("/proc", pid, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            count += int(fields.get("Threads", "1").strip() or 1)
    return count


def _limits(settings: Settings) -> list[str]:
    """`prlimit` (util-linux) setting the child's resource limits; they hold across the execs
    that follow (bwrap, setpriv, python). Not `preexec_fn`: unsafe in a threaded server."""
    uid = NOBODY if os.geteuid() == 0 else os.getuid()
    memory = settings.check_memory_mb * 1024 * 1024
    return [
        "prlimit",
        # soft below hard: the kernel sends SIGXCPU at the soft limit (said as the CPU limit),
        # SIGKILL only at the hard one
        f"--cpu={settings.check_cpu_s}:{settings.check_cpu_s + 2}",
        f"--as={memory}",
        f"--nproc={_processes_of(uid) + PROCESSES}",
        f"--fsize={FILE_SIZE}",
        f"--nofile={OPEN_FILES}",
        "--core=0",
        "--",
    ]


def _environment() -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@functools.cache
def works(mechanism: str) -> bool:
    """Whether `mechanism` can run a file that imports NumPy here (probed once per process)."""
    if shutil.which("prlimit") is None or (
        mechanism != "rlimits" and shutil.which(mechanism) is None
    ):
        return False
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return False
    work = Path(tempfile.mkdtemp(prefix="tutor-probe-"))
    try:
        # works = can run a learner's file, which imports NumPy: as root the child is
        # `nobody`, who cannot reach a virtualenv inside a private (0700) folder unless
        # bubblewrap binds it into view, so there the weaker mechanisms count as not working
        _lay_out(work, "import numpy\n")
        process = _spawn(
            _command(mechanism, work, Settings()),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_environment(),
            cwd=work / "scratch",
        )
        try:
            return process.communicate(b"", timeout=30)[0].startswith(b'{"ready"')
        finally:
            _end(process)
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        _remove(work)


def active_mechanism(settings: Settings) -> str:
    """The mechanism checks run under: the configured one, or with `auto` the strongest that
    works here. SandboxFailure(`unavailable`) when none does (e.g. as root without setpriv)."""
    wanted = MECHANISMS if settings.check_sandbox == "auto" else (settings.check_sandbox,)
    for mechanism in wanted:
        if works(mechanism):
            return mechanism
    raise SandboxFailure(
        "unavailable",
        f"no sandbox works here (tried {', '.join(wanted)}); "
        "install bubblewrap (apt-get install bubblewrap) and util-linux, or, "
        "running as root, keep the virtualenv where the `nobody` user can "
        "read it (not inside a 0700 folder)",
    )


def checked_name(filename: str) -> str:
    """The learner's file name as errors show it ("my_pca.py, line 8"): its last part, letters,
    digits and ._- only, at most 80 characters; "learner.py" when nothing is left."""
    name = "".join(c for c in Path(filename).name if c.isalnum() or c in "._-")[:80]
    return name or "learner.py"


def sandbox_here(settings: Settings) -> tuple[str, str | None]:
    """The mechanism checks run under here and what it leaves open (`ISOLATION`), or
    ("none", why) when none works: what the CLI, /health and the README tell."""
    try:
        mechanism = active_mechanism(settings)
    except SandboxFailure as exc:
        return "none", str(exc)
    return mechanism, ISOLATION[mechanism]


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` (never through a link, never over a file) readable by all, and write it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        os.fchmod(fd, 0o644)
        os.write(fd, data)
    finally:
        os.close(fd)


def _lay_out(work: Path, source: str) -> None:
    """The check's folder: the learner's file and the child, written while the folder is ours
    alone (0700), then opened for passing through (0711), never for writing; the learner's
    code writes only in `scratch`. So another check's code, running as the same `nobody`,
    can't plant a link where this process writes as root (found by an attack: a link planted
    in a 0777 folder made root write a learner's file anywhere)."""
    _write_new(work / "learner.py", source.encode("utf-8", errors="surrogateescape"))
    _write_new(work / "child.py", CHILD.read_bytes())
    (work / "scratch").mkdir(mode=0o700)
    os.chmod(work / "scratch", 0o1777)
    os.chmod(work, 0o711)


@functools.cache
def _adopt_orphans() -> None:
    """Make this process the reaper of its descendants' orphans (PR_SET_CHILD_SUBREAPER), as
    tini does. Killing a check kills its whole process group at once, so a process may die
    after its parent (bubblewrap's init, unshare's child, the worker under rlimits): it would
    be handed to PID 1, which in many containers never reaps, and stay `<defunct>` for good.
    Handed to this process instead, `_end` reaps it. Once per process (children don't inherit
    it); other orphans of this process's children come here too, and stay as they would at
    such a PID 1."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _spawn(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Start a check's `command` as the leader of a new session and process group, which every
    process of the check stays in (only the learner's code can leave it, and under bubblewrap
    or unshare it stays in the check's PID namespace, which dies with it), so that `_end` can
    kill and reap them all."""
    _adopt_orphans()
    return subprocess.Popen(command, start_new_session=True, **options)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Kill a check's process group and wait for the leader (Popen keeps its exit code) and
    for every process of the group it left to this process (`_adopt_orphans`); close the
    pipes. Called on every path out of a check."""
    if process.poll() is None:  # not reaped, so the group is still this check's
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _reap_group(process.pid)
    for stream in (process.stdin, process.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


def _reap_group(group: int) -> None:
    """Wait for each child of this process in process group `group` until none is left. One
    still alive is killed first: dying from the first kill, or (under rlimits, where nothing
    else holds the learner's processes) one that joined the group after it, which would
    otherwise hold this thread for as long as it chose to live."""
    while True:
        try:
            pid, _ = os.waitpid(-group, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:  # a child of ours is still in the group, so the group is still the check's
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
            time.sleep(0.01)


def _remove(work: Path) -> None:
    """Remove the check's folder whatever the learner's code left in it (a tree thousands of
    folders deep defeats `shutil.rmtree`'s recursion): `rm -rf`, which follows no link."""
    try:
        shutil.rmtree(work)
    except (OSError, RecursionError):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(work)], check=False)


class Sandbox:
    """One learner file, imported in a contained child process and called over a pipe.

    Use as a context manager: entering starts the child and imports the file (SandboxFailure
    `import` names the error and line); `names` lists what the file defines; `call` sends one
    request and returns the decoded reply; leaving kills the child's whole process group and
    deletes the temporary directory."""

    def __init__(self, source: str, settings: Settings, filename: str = "learner.py") -> None:
        self.source = source
        self.settings = settings
        self.filename = checked_name(filename)
        self.mechanism = active_mechanism(settings)
        self.names: list[str] = []
        self._buffer = b""

    def __enter__(self) -> Sandbox:
        self.work = Path(tempfile.mkdtemp(prefix="tutor-check-"))
        try:
            return self._start()
        except BaseException:
            self.__exit__(None, None, None)  # the temp dir goes, however the start failed
            raise

    def _start(self) -> Sandbox:
        _lay_out(self.work, self.source)
        scratch = self.work / "scratch"
        self.process = _spawn(
            _command(self.mechanism, self.work, self.settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=scratch,
            env={
                **_environment(),
                "CHECKED_FILE": self.filename,
                "HOME": "/sandbox/scratch" if self.mechanism == "bwrap" else str(scratch),
            },
        )
        self.started = time.monotonic()
        first = self._read(timeout=max(self.settings.check_call_s, 15.0))
        if "ready" not in first:
            own = first.get("kind") in ("import", "protocol")
            kind = first["kind"] if own else self._limit_kind(first)
            raise SandboxFailure(
                kind,
                f"your file does not import: {first['error']}"
                if kind == "import"
                else first["error"],
            )
        self.names = first["ready"]
        return self

    def __exit__(self, *exc: object) -> None:
        process = getattr(self, "process", None)
        if process is not None:
            _end(process)
        _remove(self.work)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request; the reply is {"ok": result} or {"error": ..., "kind": ...}.
        SandboxFailure when the child dies, exceeds the wall-time limit, or answers with
        anything but a reply to this request (kind `protocol`)."""
        assert self.process.stdin is not None  # Popen(stdin=PIPE)
        ident = secrets.token_hex(8)
        line = json.dumps({"id": ident, **request}, allow_nan=True) + "\n"
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._death() from None
        left = self.started + self.settings.check_total_s - time.monotonic()
        overall = left < self.settings.check_call_s  # the whole check's limit comes first
        reply = self._read(
            max(left, 0.0) if overall else self.settings.check_call_s,
            f"{self.settings.check_total_s:g} s in all" if overall else "",
        )
        if reply.pop("id", None) != ident or reply.get("kind") == "protocol":
            raise SandboxFailure("protocol", reply.get("error") or NOT_A_REPLY)
        return reply

    def _read(self, timeout: float, overall: str = "") -> dict[str, Any]:
        """The next reply line, within `timeout` seconds (`overall`: the whole check's limit,
        when that is what the timeout comes from)."""
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None  # Popen(stdout=PIPE)
        fd = self.process.stdout.fileno()
        # poll, not select(): select() fails on a descriptor numbered 1024 or above, which a
        # busy API server (or a long test process) reaches
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    raise SandboxFailure(
                        "time",
                        f"your checks took longer than {overall} and were stopped"
                        if overall
                        else f"your code ran longer than {timeout:g} s on "
                        "one call and was stopped (an endless loop?)",
                    )
                if selector.select(left):
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        raise self._death()
                    self._buffer += chunk
                    if len(self._buffer) > MAX_REPLY_BYTES:
                        raise SandboxFailure("memory", "your function's result is too large")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            raise SandboxFailure("protocol", NOT_A_REPLY) from None
        if not isinstance(reply, dict):
            raise SandboxFailure("protocol", NOT_A_REPLY)
        return reply

    def _limit_kind(self, reply: dict[str, Any]) -> str:
        """Which limit an error from the child's code ran into, by its exception's name."""
        error = reply.get("error", "")
        kinds = {
            "MemoryError": "memory",
            "BlockingIOError": "processes",
            "PermissionError": "files",
            "TimeoutError": "network",
        }
        return next(
            (kind for name, kind in kinds.items() if error.startswith(name)),
            "network" if "Connection" in error.split(":")[0] else "crashed",
        )

    def _death(self) -> SandboxFailure:
        code = self.process.wait()
        signo = -code if code < 0 else code - 128 if code > 128 else 0
        if signo == signal.SIGKILL:
            return SandboxFailure(
                "crashed",
                "your code's process was killed (SIGKILL): by the system (out of memory?) "
                "or by your own code",
            )
        if signo == signal.SIGXCPU:
            return SandboxFailure(
                "time",
                f"your code used up its {self.settings.check_cpu_s} s "
                "of CPU time and was stopped (an endless loop?)",
            )
        if signo == signal.SIGXFSZ:
            return SandboxFailure(
                "file size",
                "your code wrote a file larger than the sandbox "
                f"allows ({FILE_SIZE // 2**20} MiB) and was stopped",
            )
        return SandboxFailure(
            "crashed",
            f"your code crashed the Python process (exit {code}"
            f"{', ' + signal.Signals(signo).name if signo in signal.valid_signals() else ''})",
        )
