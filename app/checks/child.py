"""The processes inside the sandbox: a relay that speaks to the tutor, and a worker that
imports the learner's file and answers calls on it.

Run as a script (`python -I -S child.py LEARNER_FILE [SITE_DIR]`), never imported by the
service: it needs only the standard library and NumPy, and sees neither the tutor's code nor
its references. The tutor speaks JSON lines with the relay on stdin and stdout, one reply per
request, each carrying the request's `id`:

    request:  {"id": "...", "op": "call", "fn": "pca", "args": [...], "kwargs": {...}}
    reply:    {"id": "...", "ok": <result>}
          or  {"id": "...", "error": "ValueError: ...", "kind": "raised"|"limit"|"protocol"}

Why two processes: the learner's code runs in the worker, which holds neither end of the
tutor's pipes (only its own pipe to the relay), so nothing it writes reaches the tutor except
as the value of the call it answers; the relay never sees the request ids leave, checks that
each worker line is one well-formed reply, and turns anything else into a `protocol` error
(case 17: a line written into the reply pipe used to crash the tutor or shift the replies).
The relay is not dumpable, so the worker cannot read its memory or descriptors via /proc.

Arrays travel as {"__array__": nested list, "dtype": "float64"}; NaN and infinity are kept.
"""

from __future__ import annotations

import importlib.util
import json
import operator
import os
import select
import sys
import traceback
from typing import Any

# Errors that mean a sandbox limit stopped the learner's code, not a bug in it.
_LIMIT_ERRORS = (MemoryError, BlockingIOError, PermissionError, ConnectionError, TimeoutError)


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__array__" in value:
        import numpy as np

        return np.asarray(value["__array__"], dtype=value["dtype"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


def _encode(value: Any) -> Any:
    """Plain JSON of a learner's result: arrays become lists, tuples lists, NumPy scalars
    numbers; anything else is described by its type (the check then reports a wrong type)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return {
            "__array__": value.astype(float).tolist() if value.dtype != bool else value.tolist(),
            "dtype": "float64" if value.dtype != bool else "bool",
        }
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "__array__") or hasattr(value, "tolist"):
        return _encode(np.asarray(value))
    return {"__type__": type(value).__name__}


_BINARY = {
    "add": operator.add,
    "mul": operator.mul,
    "sub": operator.sub,
    "truediv": operator.truediv,
}


def grad_program(value: Any, leaves: list[float], steps: list[list[Any]]) -> dict[str, list]:
    """Evaluate a small expression graph with the autodiff class `value` and backpropagate
    from its last node. Steps are [op, a, b]: a is a node's index; b another node's index for
    + - * /, a number for radd/rmul (b + x, b * x) and pow (x ** b), unused for neg and the
    methods tanh, relu, exp. Returns every node's data and the leaves' gradients."""
    nodes = [value(x) for x in leaves]
    for op, a, b in steps:
        x = nodes[a]
        if op in _BINARY:
            nodes.append(_BINARY[op](x, nodes[b]))
        elif op == "radd":
            nodes.append(b + x)
        elif op == "rmul":
            nodes.append(b * x)
        elif op == "neg":
            nodes.append(-x)
        elif op == "pow":
            nodes.append(x**b)
        else:
            nodes.append(getattr(x, op)())
    nodes[-1].backward()
    return {
        "data": [float(n.data) for n in nodes],
        "grad": [float(n.grad) for n in nodes[: len(leaves)]],
    }


def _steps(module: Any, fn: str, w0: Any, grads: list[Any], hyper: dict[str, Any]) -> Any:
    """Apply the learner's optimizer step `fn(w, g, state, **hyper) -> (w, state)` once per
    gradient, starting from state None; returns the parameters after each step."""
    import numpy as np

    step, w, state, out = getattr(module, fn), np.array(w0, dtype=float), None, []
    for g in grads:
        result = step(w.copy(), np.array(g, dtype=float), state, **hyper)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                f"{fn} must return a pair (new_params, state), got {type(result).__name__}"
            )
        w, state = np.asarray(result[0], dtype=float), result[1]
        out.append(w.copy())
    return out


def _call(module: Any, request: dict[str, Any]) -> Any:
    op = request["op"]
    if op == "call":
        return getattr(module, request["fn"])(
            *_decode(request["args"]), **_decode(request.get("kwargs", {}))
        )
    if op == "grad_program":
        return grad_program(getattr(module, request["cls"]), request["leaves"], request["steps"])
    if op == "steps":
        return _steps(
            module,
            request["fn"],
            _decode(request["w0"]),
            _decode(request["grads"]),
            request["hyper"],
        )
    raise ValueError(f"unknown op {op!r}")


def _learner_frames(exc: BaseException, path: str) -> str:
    """The exception and the learner's own last line of its traceback (not ours, not NumPy's),
    named by the learner's own file name (CHECKED_FILE), as "(my_pca.py, line 8: ...)"."""
    name = os.environ.get("CHECKED_FILE", os.path.basename(path))
    if isinstance(exc, SyntaxError) and exc.filename == path:
        code = (exc.text or "").strip()
        return f"{type(exc).__name__}: {exc.msg} ({name}, line {exc.lineno}: {code})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = "".join(f" ({name}, line {f.lineno}: {f.line})" for f in frames[-1:])
    return f"{type(exc).__name__}: {exc}{where}"


REPLY_BYTES = 8 * 1024 * 1024  # the tutor's own bound on a reply line
_KINDS = {"raised", "limit", "import"}


def serve(path: str, requests: Any, reply: Any) -> None:
    """The worker: import the learner's file, say what it defines, then answer each request
    line from `requests` with one reply line on `reply`."""

    def answer(message: dict[str, Any]) -> None:
        reply.write(json.dumps(message, allow_nan=True) + "\n")

    try:
        spec = importlib.util.spec_from_file_location("learner", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{path} cannot be imported as a module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - any failure to import is the learner's verdict
        kind = "limit" if isinstance(exc, _LIMIT_ERRORS) else "import"
        answer({"error": _learner_frames(exc, path), "kind": kind})
        return
    names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
    answer({"ready": names})
    for line in requests:
        request = json.loads(line)
        try:
            answer({"ok": _encode(_call(module, request))})
        except RecursionError as exc:
            answer({"error": _learner_frames(exc, path), "kind": "raised"})
        except BaseException as exc:  # noqa: BLE001 - the learner's code may raise anything
            kind = "limit" if isinstance(exc, _LIMIT_ERRORS) else "raised"
            answer({"error": _learner_frames(exc, path), "kind": kind})
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                return


def well_formed(line: bytes, first: bool) -> dict[str, Any] | None:
    """The worker's line as a reply, or None when it is not one: the first line says
    `ready` (a list of names) or is an error; every later one is `ok` or an error."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    if set(message) == {"error", "kind"}:
        fine = isinstance(message["error"], str) and message["kind"] in _KINDS
        return message if fine else None
    if first:
        ready = message.get("ready")
        if set(message) != {"ready"} or not isinstance(ready, list):
            return None
        return message if all(isinstance(n, str) for n in ready) else None
    return message if set(message) == {"ok"} else None


def _not_dumpable() -> None:
    """PR_SET_DUMPABLE 0: no process of the same user may ptrace this one or open its
    /proc/<pid>/fd or mem (the worker runs as the same user). Inherited across fork."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)


class Lines:
    """Lines read from a pipe by hand, so that what was read past a line is known: a worker
    that wrote more than one reply is caught before the next request goes out."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""

    def readline(self) -> bytes:
        """The next line with its newline; b"" at the end of the pipe; without a newline when
        it runs past REPLY_BYTES (or the pipe ends mid-line)."""
        while b"\n" not in self.buffer and len(self.buffer) < REPLY_BYTES:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        if b"\n" not in self.buffer:
            return self.buffer  # too long: no newline at the end says so
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def pending(self) -> bool:
        return bool(self.buffer) or bool(select.select([self.fd], [], [], 0)[0])


def relay(worker: int, to_worker: int, from_worker: int, wire: Any) -> int:
    """Pass each tutor request (less its id) to the worker and its one reply back (with the
    id); a line that is not a reply, or one nobody asked for, ends the run with a `protocol`
    error. Returns the exit code that tells the tutor how the worker ended: its own, or
    128 + the signal that stopped it (SIGXCPU for the CPU limit, SIGXFSZ for file size)."""
    sending = os.fdopen(to_worker, "w", buffering=1)
    replies = Lines(from_worker)

    def protocol(ident: str | None, why: str) -> int:
        message = {"error": f"your code {why}", "kind": "protocol"}
        wire.write(json.dumps({"id": ident, **message} if ident else message) + "\n")
        return 0

    def ended() -> int:
        _, status = os.waitpid(worker, 0)
        signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        return 128 + signal if signal else os.waitstatus_to_exitcode(status)

    raw = replies.readline()
    if not raw:
        return ended()
    first = well_formed(raw, first=True)
    if first is None:
        return protocol(None, "wrote into the check's reply channel while it was imported")
    wire.write(json.dumps(first, allow_nan=True) + "\n")
    if "ready" not in first:
        return 0
    for line in sys.stdin:
        request = json.loads(line)
        ident = request.pop("id")
        if replies.pending():
            return protocol(ident, "wrote into the check's reply channel between calls")
        sending.write(json.dumps(request, allow_nan=True) + "\n")
        raw = replies.readline()
        if not raw.endswith(b"\n") and len(raw) < REPLY_BYTES:
            return ended()  # the worker died (mid-line or between lines)
        if not raw.endswith(b"\n"):
            message = "MemoryError: your function's result is too large to send back"
            wire.write(json.dumps({"id": ident, "error": message, "kind": "limit"}) + "\n")
            return 0
        reply = well_formed(raw, first=False)
        if reply is None:
            return protocol(ident, "wrote into the check's reply channel")
        wire.write(json.dumps({"id": ident, **reply}, allow_nan=True) + "\n")
    return 0


def main() -> None:
    path = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2:
        sys.path.append(sys.argv[2])
    wire = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # prints go to stderr, never into a reply
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    # before the fork: a worker that opened /proc/<relay>/mem in the moment between the fork
    # and this call could read the request ids (found by an attack); the worker inherits it
    _not_dumpable()
    worker = os.fork()
    if worker == 0:
        # the worker: stdin is its request pipe, stdout and stderr the sandbox's stderr, and
        # its reply pipe the one other descriptor it holds (the tutor's pipes are closed)
        os.dup2(request_r, 0)
        os.closerange(3, reply_w)
        os.closerange(reply_w + 1, os.sysconf("SC_OPEN_MAX"))
        try:
            serve(path, sys.stdin, os.fdopen(reply_w, "w", buffering=1))
        finally:
            os._exit(0)
    os.close(request_r)
    os.close(reply_w)
    sys.exit(relay(worker, request_w, reply_r, wire))


if __name__ == "__main__":
    main()
