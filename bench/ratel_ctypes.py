#!/usr/bin/env python3
"""A small ctypes binding of Ratel's C API (include/ratel/ratel.h, exported by libratel.so).

It lets Python drive Ratel in the same process as ONNX Runtime or OpenVINO, on the same numpy
arrays, so that timings and outputs are compared like for like:

    import ratel_ctypes as rt
    lib = rt.load_library("build/release/lib/libratel.so")  # None: $RATEL_LIB or a default build
    model = rt.Model("model.onnx", {"input_ids": (1, 384), "input_mask": (1, 384)}, lib=lib)
    sess = model.session(threads=2)                        # fast executor; reference=True: oracle
    outs = sess.run({"input_ids": ids, "input_mask": mask, "segment_ids": seg})
    # outs: {name: numpy array}, copied out of Ratel (valid after the next run)

Every failing call raises RatelError with the function name, the status code's name and
ratel_last_error()'s message. Only numpy and the standard library are needed.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

STATUS_NAMES = {
    0: "RATEL_OK",
    1: "RATEL_INVALID_ARGUMENT",
    2: "RATEL_NOT_FOUND",
    3: "RATEL_UNSUPPORTED",
    4: "RATEL_CORRUPT",
    5: "RATEL_OUT_OF_RANGE",
    6: "RATEL_IO_ERROR",
    7: "RATEL_INTERNAL",
}

# ratel_dtype <-> numpy. FLOAT16/BFLOAT16: bfloat16 has no numpy dtype (read as raw uint16).
_DTYPES = {
    1: np.dtype(np.float32),
    2: np.dtype(np.float16),
    3: np.dtype(np.uint16),
    4: np.dtype(np.float64),
    5: np.dtype(np.int8),
    6: np.dtype(np.uint8),
    7: np.dtype(np.int16),
    8: np.dtype(np.uint16),
    9: np.dtype(np.int32),
    10: np.dtype(np.uint32),
    11: np.dtype(np.int64),
    12: np.dtype(np.uint64),
    13: np.dtype(np.bool_),
}
_FROM_NUMPY = {
    np.dtype(np.float32): 1,
    np.dtype(np.float16): 2,
    np.dtype(np.float64): 4,
    np.dtype(np.int8): 5,
    np.dtype(np.uint8): 6,
    np.dtype(np.int16): 7,
    np.dtype(np.uint16): 8,
    np.dtype(np.int32): 9,
    np.dtype(np.uint32): 10,
    np.dtype(np.int64): 11,
    np.dtype(np.uint64): 12,
    np.dtype(np.bool_): 13,
}


class RatelError(RuntimeError):
    """A Ratel C API call failed; .status is the ratel_status code, .message ratel_last_error()."""

    def __init__(self, function: str, status: int, message: str):
        self.function = function
        self.status = status
        self.message = message
        super().__init__(f"{function}: {STATUS_NAMES.get(status, f'status {status}')}: {message}")


class _TensorView(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_size_t),
        ("dims", ctypes.POINTER(ctypes.c_int64)),
        ("data", ctypes.c_void_p),
        ("nbytes", ctypes.c_size_t),
    ]


class _SessionOptions(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_int), ("reference", ctypes.c_int)]


def default_library_path() -> Path:
    """$RATEL_LIB, else the first libratel.so found in build/release/, build-bench/."""
    env = os.environ.get("RATEL_LIB")
    if env:
        return Path(env)
    for d in ("build/release", "build-bench"):
        p = ROOT / d / "lib" / "libratel.so"
        if p.exists():
            return p
    return ROOT / "build" / "release" / "lib" / "libratel.so"


class Library:
    """The loaded libratel.so with argument/return types declared."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_library_path()
        if not self.path.exists():
            raise FileNotFoundError(
                f"{self.path}: libratel.so not found (build the ratel_shared target, e.g. "
                f"'ninja -C build/release ratel_shared', or set RATEL_LIB)")
        try:
            lib = ctypes.CDLL(str(self.path))
        except OSError as e:
            raise OSError(f"{self.path}: cannot load: {e}") from e
        missing = [f for f in ("ratel_last_error", "ratel_version", "ratel_model_load", "ratel_model_free",
                               "ratel_model_num_inputs", "ratel_model_num_outputs", "ratel_model_input",
                               "ratel_model_output", "ratel_session_create", "ratel_session_free",
                               "ratel_session_set_input", "ratel_session_run", "ratel_session_get_output")
                   if not hasattr(lib, f)]
        if missing:
            raise OSError(f"{self.path}: does not export {', '.join(missing)} (an old or static build?)")
        vp, sz, st = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
        view_p = ctypes.POINTER(_TensorView)
        sig = {
            "ratel_last_error": ([], ctypes.c_char_p),
            "ratel_version": ([], ctypes.c_char_p),
            "ratel_model_load": ([ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(vp)], st),
            "ratel_model_free": ([vp], None),
            "ratel_model_num_inputs": ([vp], sz),
            "ratel_model_num_outputs": ([vp], sz),
            "ratel_model_input": ([vp, sz, view_p], st),
            "ratel_model_output": ([vp, sz, view_p], st),
            "ratel_session_create": ([vp, ctypes.POINTER(_SessionOptions), ctypes.POINTER(vp)], st),
            "ratel_session_free": ([vp], None),
            "ratel_session_set_input": ([vp, ctypes.c_char_p, st, ctypes.POINTER(ctypes.c_int64), sz, vp], st),
            "ratel_session_run": ([vp], st),
            "ratel_session_get_output": ([vp, sz, view_p], st),
        }
        for name, (args, res) in sig.items():
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = res
        self.lib = lib

    def version(self) -> str:
        return self.lib.ratel_version().decode()

    def check(self, function: str, status: int) -> None:
        if status != 0:
            raise RatelError(function, status, self.lib.ratel_last_error().decode("utf-8", "replace"))


_default_lib: Library | None = None


def load_library(path: str | os.PathLike | None = None) -> Library:
    """Loads libratel.so (once per path; None: default_library_path())."""
    global _default_lib
    if path is None:
        if _default_lib is None:
            _default_lib = Library()
        return _default_lib
    lib = Library(path)
    if _default_lib is None:
        _default_lib = lib
    return lib


def _view_to_info(v: _TensorView) -> tuple[str, np.dtype, tuple[int, ...]]:
    dims = tuple(int(v.dims[i]) for i in range(v.rank))
    return v.name.decode(), _DTYPES.get(v.dtype, np.dtype(np.uint8)), dims


class Model:
    """An immutable loaded model. input_shapes fixes dynamic dims: {"input_ids": (1, 384)}."""

    def __init__(self, path: str | os.PathLike, input_shapes: Mapping[str, Sequence[int]] | None = None,
                 lib: Library | None = None):
        self._lib = lib or load_library()
        self._handle = ctypes.c_void_p()
        shapes = ";".join(f"{k}={','.join(str(int(d)) for d in v)}" for k, v in (input_shapes or {}).items())
        L = self._lib.lib
        self._lib.check(f"ratel_model_load({path})",
                        L.ratel_model_load(str(path).encode(), shapes.encode() if shapes else None,
                                           ctypes.byref(self._handle)))
        self.path = str(path)
        self.inputs = []
        self.outputs = []
        for count, get, into, what in ((L.ratel_model_num_inputs, L.ratel_model_input, self.inputs, "input"),
                                       (L.ratel_model_num_outputs, L.ratel_model_output, self.outputs, "output")):
            for i in range(count(self._handle)):
                v = _TensorView()
                self._lib.check(f"ratel_model_{what}({i})", get(self._handle, i, ctypes.byref(v)))
                into.append(_view_to_info(v))

    def session(self, threads: int = 1, reference: bool = False) -> "Session":
        return Session(self, threads=threads, reference=reference)

    def close(self) -> None:
        if self._handle:
            self._lib.lib.ratel_model_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Session:
    """A session (its own activations and thread pool); use from one thread at a time."""

    def __init__(self, model: Model, threads: int = 1, reference: bool = False):
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.model = model  # keeps the model alive
        self._lib = model._lib
        self._handle = ctypes.c_void_p()
        opts = _SessionOptions(threads=int(threads), reference=1 if reference else 0)
        self._lib.check("ratel_session_create",
                        self._lib.lib.ratel_session_create(model._handle, ctypes.byref(opts),
                                                           ctypes.byref(self._handle)))
        if not self._handle:  # an older libratel.so with ratel_session_create(model, &out)
            raise RatelError("ratel_session_create", 7,
                             f"returned no session: {self._lib.path} seems to predate ratel_session_options "
                             "(rebuild it from this checkout)")
        self.threads = threads
        self.reference = reference

    def set_input(self, name: str, array: np.ndarray) -> None:
        a = np.ascontiguousarray(array)
        code = _FROM_NUMPY.get(a.dtype)
        if code is None:
            raise TypeError(f"input '{name}': numpy dtype {a.dtype} has no Ratel dtype")
        dims = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
        self._lib.check(f"ratel_session_set_input({name})",
                        self._lib.lib.ratel_session_set_input(self._handle, name.encode(), code, dims, a.ndim,
                                                              a.ctypes.data_as(ctypes.c_void_p)))

    def run_only(self) -> None:
        """ratel_session_run on the inputs already set (what a latency benchmark times)."""
        self._lib.check("ratel_session_run", self._lib.lib.ratel_session_run(self._handle))

    def output(self, i: int, copy: bool = True) -> tuple[str, np.ndarray]:
        v = _TensorView()
        self._lib.check(f"ratel_session_get_output({i})",
                        self._lib.lib.ratel_session_get_output(self._handle, i, ctypes.byref(v)))
        name, dtype, dims = _view_to_info(v)
        count = int(np.prod(dims)) if dims else 1
        if v.nbytes != count * dtype.itemsize:
            raise RatelError(f"ratel_session_get_output({i})", 7,
                             f"{v.nbytes} bytes for {dtype} {list(dims)}: unexpected dtype/shape")
        if count == 0:
            return name, np.zeros(dims, dtype)
        buf = (ctypes.c_char * v.nbytes).from_address(v.data)
        arr = np.frombuffer(buf, dtype=dtype, count=count).reshape(dims)
        return name, (arr.copy() if copy else arr)

    def outputs(self) -> dict[str, np.ndarray]:
        return dict(self.output(i) for i in range(len(self.model.outputs)))

    def run(self, inputs: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Sets `inputs` (if given), runs, and returns copies of all outputs by name."""
        for name, a in (inputs or {}).items():
            self.set_input(name, a)
        self.run_only()
        return self.outputs()

    def close(self) -> None:
        if self._handle:
            self._lib.lib.ratel_session_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":  # smoke test: python3 bench/ratel_ctypes.py MODEL [threads]
    import sys

    if len(sys.argv) < 2:
        sys.exit("usage: ratel_ctypes.py MODEL.onnx [threads]")
    lib = load_library()
    m = Model(sys.argv[1], lib=lib)
    print(f"libratel {lib.version()} ({lib.path})")
    for kind, vals in (("input", m.inputs), ("output", m.outputs)):
        for n, d, s in vals:
            print(f"  {kind} {n}: {d} {list(s)}")
    s = m.session(threads=int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    feeds = {n: np.ones(shape, d) for n, d, shape in m.inputs}
    for n, a in s.run(feeds).items():
        print(f"  {n}: {a.shape} mean {a.mean():.6g}")
