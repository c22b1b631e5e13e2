#!/usr/bin/env python3
"""Validates ONNX files with the reference checker: onnx.checker.check_model(full_check=True),
which also runs strict shape and type inference. An external cross-check of ziplm's own protobuf
writer (Debian: apt-get install python3-onnx); never a runtime dependency.

Usage: onnx-check.py FILE.onnx [FILE.onnx ...]
Prints "ok FILE (N nodes, opset V)" or "FAIL FILE: reason" per file; exits 1 if any file fails.
"""
import sys

try:
    import onnx
except ImportError:
    print("onnx-check: the Python package 'onnx' is not installed (apt-get install python3-onnx)", file=sys.stderr)
    sys.exit(2)


def check(path: str) -> bool:
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # the checker raises several exception types; report them all alike
        message = str(error).strip().splitlines()
        print(f"FAIL {path}: {message[0] if message else type(error).__name__}")
        return False
    opset = ",".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in model.opset_import)
    print(f"ok {path} ({len(model.graph.node)} nodes, opset {opset}, ir {model.ir_version})")
    return True


def main(paths: list) -> int:
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results = [check(p) for p in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
