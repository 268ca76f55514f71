"""The process inside the sandbox: imports the learner's file and answers calls on it.

Run as a script (`python -I -S child.py LEARNER_FILE [SITE_DIR]`), never imported by the
service: it needs only the standard library and NumPy, and sees neither the tutor's code nor
its references. It speaks JSON lines on a private copy of stdout (the learner's own prints go
to stderr), one reply per request:

    request:  {"op": "call", "fn": "pca", "args": [...], "kwargs": {...}}
    reply:    {"ok": <result>}  or  {"error": "ValueError: ...", "kind": "raised"|"limit"}

Arrays travel as {"__array__": nested list, "dtype": "float64"}; NaN and infinity are kept.
"""

from __future__ import annotations

import importlib.util
import json
import operator
import os
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
    """The exception and the learner's own lines of its traceback (not ours, not NumPy's)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = "".join(f" (line {f.lineno}: {f.line})" for f in frames[-1:])
    return f"{type(exc).__name__}: {exc}{where}"


def main() -> None:
    path = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2:
        sys.path.append(sys.argv[2])
    wire = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the learner's prints must not corrupt the replies

    def reply(message: dict[str, Any]) -> None:
        wire.write(json.dumps(message, allow_nan=True) + "\n")

    try:
        spec = importlib.util.spec_from_file_location("learner", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{path} cannot be imported as a module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - any failure to import is the learner's verdict
        kind = "limit" if isinstance(exc, _LIMIT_ERRORS) else "import"
        reply({"error": _learner_frames(exc, path), "kind": kind})
        return
    names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
    reply({"ready": names})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = _encode(_call(module, request))
            reply({"ok": result})
        except RecursionError as exc:
            reply({"error": _learner_frames(exc, path), "kind": "raised"})
        except BaseException as exc:  # noqa: BLE001 - the learner's code may raise anything
            kind = "limit" if isinstance(exc, _LIMIT_ERRORS) else "raised"
            reply({"error": _learner_frames(exc, path), "kind": kind})
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                return


if __name__ == "__main__":
    main()
