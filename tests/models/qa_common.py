"""Helpers shared by the BERT-QA model generator and the ONNX Runtime cross-check.

- make_qa_inputs(): realistic random SQuAD-style features (int32 [1, S]).
- vocab_size_of(): the word-embedding table's row count of an ONNX BERT model.
- fp32_error_model(): the rounding-error budget of a graph in fp32, from its own shapes
  (see the docstring for the model; tolerances in both scripts are derived from it).
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np

CLS_ID = 101
SEP_ID = 102
U_FP32 = 2.0 ** -24  # unit roundoff of IEEE binary32 (round to nearest)


def make_qa_inputs(vocab_size: int, seq_len: int = 384, seed: int = 0) -> dict[str, np.ndarray]:
    """One feature as BERT's SQuAD preprocessing lays it out:

    [CLS] question [SEP] context [SEP] then 0-padding;
    segment_ids 0 for [CLS]+question+[SEP], 1 for context+[SEP], 0 for padding;
    input_mask 1 on real tokens, 0 on padding. Word ids are drawn from the vocabulary range above
    the special tokens ([unused]/[CLS]/[SEP]/[MASK] are below 1000 in the BERT vocab).
    """
    rng = np.random.default_rng(seed)
    lo = 1000 if vocab_size > 2000 else SEP_ID + 2  # small test vocabs: anything above [MASK]
    if vocab_size <= lo:
        raise ValueError(f"vocab size {vocab_size} too small for BERT-style ids")
    q_len = int(rng.integers(6, 32))
    total = int(rng.integers(q_len + 40, seq_len - 16))  # real tokens incl. specials; leaves padding
    c_len = total - q_len - 3
    ids = np.zeros(seq_len, dtype=np.int32)
    seg = np.zeros(seq_len, dtype=np.int32)
    mask = np.zeros(seq_len, dtype=np.int32)
    ids[0] = CLS_ID
    ids[1:1 + q_len] = rng.integers(lo, vocab_size, q_len)
    ids[1 + q_len] = SEP_ID
    c0 = 2 + q_len
    ids[c0:c0 + c_len] = rng.integers(lo, vocab_size, c_len)
    ids[c0 + c_len] = SEP_ID
    seg[c0:c0 + c_len + 1] = 1
    mask[:total] = 1
    return {"input_ids": ids[None, :], "input_mask": mask[None, :], "segment_ids": seg[None, :]}


def vocab_size_of(model) -> int | None:
    """Vocab size: from the generator's metadata, else the row count of the largest 2-D
    initializer (the word-embedding table is the largest matrix in a BERT model)."""
    for p in model.metadata_props:
        if p.key == "ratel.config":
            return int(json.loads(p.value)["vocab_size"])
    best = None
    for t in model.graph.initializer:
        if len(t.dims) == 2:
            size = t.dims[0] * t.dims[1]
            if best is None or size > best[0]:
                best = (size, int(t.dims[0]))
    return best[1] if best else None


@dataclasses.dataclass
class ErrorModel:
    eps_rel: float  # relative error budget of ONE fp32 implementation
    contraction_terms: int  # sum of the contraction lengths K over the graph
    elementwise_terms: float  # summed ulp budget of the element-wise operations
    contractions: dict  # op type -> (count, summed K)
    unknown: list  # nodes whose contraction length could not be inferred

    def describe(self) -> str:
        parts = ", ".join(f"{op} {n}x sumK={k}" for op, (n, k) in sorted(self.contractions.items()))
        return (f"sum K = {self.contraction_terms} ({parts}); element-wise budget = "
                f"{self.elementwise_terms:.0f} u; eps = (sum K + elementwise) * u = "
                f"({self.contraction_terms} + {self.elementwise_terms:.0f}) * {U_FP32:.3e} = "
                f"{self.eps_rel:.3e}")


# ulp budget of one element-wise op (relative, in units of u): correctly rounded arithmetic is
# 1 u; library transcendental functions are typically within 1-4 ulp, we take 4.
_ELEMENTWISE_ULPS = {
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Sqrt": 1, "Reciprocal": 1,
    "Pow": 4, "Exp": 4, "Log": 4, "Erf": 4, "Tanh": 4, "Sigmoid": 4, "Gelu": 4,
}


def fp32_error_model(model, input_shapes: dict[str, list[int]] | None = None) -> ErrorModel:
    """First-order fp32 rounding budget of an inference graph, read off the graph itself.

    Model (Higham, "Accuracy and Stability of Numerical Algorithms", ch. 3): a sum or dot product
    of length K computed in fp32, in any order, has a relative error of at most
    gamma_K = K*u/(1-K*u) ~= K*u with respect to the sum of the magnitudes of its terms, where
    u = 2^-24. In a BERT encoder every layer ends in a LayerNorm, which keeps activations at unit
    scale, so to first order the relative errors of the successive operations on the path to the
    output add up rather than multiply. Every node of a BERT graph lies on that path, so the
    budget of one implementation is

        eps = u * ( sum over contractions of K  +  sum over element-wise ops of their ulp budget )

    with contractions: MatMul/Gemm (K = inner dimension), ReduceMean/ReduceSum/GlobalAveragePool
    (K = reduced size), Softmax (K = axis length, its normalising sum), LayerNormalization (2x the axis
    length: mean and variance). The K*u terms are worst cases (all roundings aligned; typical
    errors grow like sqrt(K)*u); it is a first-order model, not a rigorous bound for arbitrary
    weights (cancellation in a dot product can make |result| much smaller than the sum of the
    magnitudes of its terms).
    """
    import onnx
    from onnx import shape_inference

    m = onnx.ModelProto()
    m.CopyFrom(model)
    # Shapes must be static for the contraction lengths: fix the inputs' dimensions.
    for inp in m.graph.input:
        dims = (input_shapes or {}).get(inp.name)
        if dims is None:
            continue
        shape = inp.type.tensor_type.shape
        for d, v in zip(shape.dim, dims):
            d.ClearField("dim_param")
            d.dim_value = v
    m = shape_inference.infer_shapes(m, data_prop=True)

    shapes: dict[str, list[int | None]] = {}
    for vi in list(m.graph.input) + list(m.graph.value_info) + list(m.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    for init in m.graph.initializer:
        shapes[init.name] = list(init.dims)

    def attr(node, name, default):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    contractions: dict[str, list[int]] = {}
    unknown = []
    total_k = 0
    total_ew = 0.0

    def add(op, k):
        nonlocal total_k
        c = contractions.setdefault(op, [0, 0])
        c[0] += 1
        c[1] += k
        total_k += k

    for node in m.graph.node:
        op = node.op_type
        if op in ("MatMul", "Gemm"):
            a = shapes.get(node.input[0])
            if not a or a[-1] is None:
                unknown.append(node.name or op)
                continue
            k = a[-1]
            if op == "Gemm" and attr(node, "transA", 0):
                k = a[0]
            add(op, k)
            if op == "Gemm" and len(node.input) > 2 and node.input[2]:
                total_ew += 1  # the bias addition
        elif op == "GlobalAveragePool":  # tf2onnx's form of some ReduceMeans
            x = shapes.get(node.input[0])
            if not x or any(d is None for d in x[2:]):
                unknown.append(node.name or op)
                continue
            add(op, int(np.prod(x[2:])))
        elif op in ("ReduceMean", "ReduceSum", "Softmax", "LayerNormalization"):
            x = shapes.get(node.input[0])
            if not x or any(d is None for d in x):
                unknown.append(node.name or op)
                continue
            rank = len(x)
            if op == "Softmax":
                axes = [attr(node, "axis", -1)]
            elif op == "LayerNormalization":
                axis = attr(node, "axis", -1) % rank
                axes = list(range(axis, rank))
            else:
                axes = attr(node, "axes", None)
                if axes is None and len(node.input) > 1 and node.input[1]:
                    axes = _const_ints(m, node.input[1])
                if axes is None:
                    axes = list(range(rank))
            k = int(np.prod([x[a % rank] for a in axes]))
            add(op, 2 * k if op == "LayerNormalization" else k)
            if op in ("Softmax", "LayerNormalization"):
                total_ew += 4 + 1  # exp or rsqrt, and the final division/scaling
        else:
            total_ew += _ELEMENTWISE_ULPS.get(op, 0)

    cont = {k: (v[0], v[1]) for k, v in contractions.items()}
    return ErrorModel(eps_rel=(total_k + total_ew) * U_FP32, contraction_terms=total_k,
                      elementwise_terms=total_ew, contractions=cont, unknown=unknown)


def _const_ints(m, name):
    from onnx import numpy_helper
    for init in m.graph.initializer:
        if init.name == name:
            return [int(v) for v in numpy_helper.to_array(init).ravel()]
    for node in m.graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            for a in node.attribute:
                if a.name == "value":
                    return [int(v) for v in numpy_helper.to_array(a.t).ravel()]
    return None


def op_histogram(model) -> dict[str, int]:
    hist: dict[str, int] = {}
    for n in model.graph.node:
        key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
        hist[key] = hist.get(key, 0) + 1
    return dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))


def tolerance(eps_rel: float, scale: float, implementations: int = 2) -> float:
    """Max |a - b| allowed between two independent fp32 implementations: each may be off by
    eps_rel * scale, so the budget is implementations * eps_rel * scale."""
    return implementations * eps_rel * scale
