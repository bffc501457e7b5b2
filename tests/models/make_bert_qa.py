#!/usr/bin/env python3
"""Generate BERT question-answering ONNX models with random weights, for Ratel's tests.

Interface (the seed model's): int32 inputs input_ids, input_mask, segment_ids [1, 384];
float outputs output_start_logits, output_end_logits [1, 384].

Exporters:
  torch  HuggingFace transformers' BertForQuestionAnswering (random weights, eager attention,
         exact erf GELU), wrapped for int32 inputs and split start/end outputs, exported with
         torch.onnx.export (opset 11-17, default 13) -- how HF BERT models reach ONNX.
  tf     a TF2 BERT written the way Google's original modeling.py / run_squad.py build it
         (one-hot token-type embeddings, LayerNorm from tf.nn.moments, reshape/transpose
         attention with the (1 - mask) * -10000 adder, tanh GELU, 2-D dense layers, unstacked
         logits), converted by tf2onnx (opset 13 by default).

Both exporters load the same weights for a given (config, seed), drawn by numpy with a fixed
seed; biases and LayerNorm parameters are random too (not 0/1), so a kernel that drops them
shows up. After export the model is run by ONNX Runtime and compared with the framework's own
output (fails if they differ by more than the fp32 budget of qa_common.fp32_error_model).

Generation is cached: if OUT exists with a matching OUT.json (same parameters and generator
sources), nothing is done. Examples:

  make_bert_qa.py --config tiny --exporter torch --opset 13 --out build/models/tiny-torch-op13.onnx
  make_bert_qa.py --config bert-base --exporter tf --external-data --out build/models/x.onnx
  make_bert_qa.py --model tiny:tf:11=build/models/a.onnx --model tiny:tf:13:ext=build/models/b.onnx

--model makes several models in one process, so TensorFlow and torch are imported once (each
import is ~10 s; the TF exporter imports both, to check its graph against HuggingFace's BERT).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import qa_common  # noqa: E402


@dataclasses.dataclass(frozen=True)
class BertConfig:
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab_size: int = 30522
    max_position: int = 512
    type_vocab: int = 2
    seq_len: int = 384
    layer_norm_eps: float = 1e-12
    init_std: float = 0.02


CONFIGS = {
    "tiny": BertConfig(layers=2, hidden=64, heads=2, ffn=128, vocab_size=512),
    "bert-small": BertConfig(layers=4, hidden=512, heads=8, ffn=2048),
    "bert-base": BertConfig(layers=12, hidden=768, heads=12, ffn=3072),
    "minilm": BertConfig(layers=12, hidden=384, heads=12, ffn=1536),
}
INPUTS = ("input_ids", "input_mask", "segment_ids")
OUTPUTS = ("output_start_logits", "output_end_logits")


def log(msg: str) -> None:
    print(f"[make_bert_qa] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# Weights: one canonical set per (config, seed). Dense kernels are stored [in, out] (TF layout).
# ---------------------------------------------------------------------------------------------
def make_weights(cfg: BertConfig, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    H, F = cfg.hidden, cfg.ffn

    def normal(*shape, std=cfg.init_std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)

    def gamma(n):  # LayerNorm scale around 1, so an ignored scale is detected
        return (1.0 + normal(n, std=0.1)).astype(np.float32)

    w = {
        "word_emb": normal(cfg.vocab_size, H),
        "pos_emb": normal(cfg.max_position, H),
        "type_emb": normal(cfg.type_vocab, H),
        "emb_ln_g": gamma(H),
        "emb_ln_b": normal(H, std=0.05),
    }
    for i in range(cfg.layers):
        p = f"l{i}."
        for name in ("q", "k", "v", "ao"):
            w[p + name + "_w"] = normal(H, H)
            w[p + name + "_b"] = normal(H)
        w[p + "aln_g"] = gamma(H)
        w[p + "aln_b"] = normal(H, std=0.05)
        w[p + "i_w"] = normal(H, F)
        w[p + "i_b"] = normal(F)
        w[p + "o_w"] = normal(F, H)
        w[p + "o_b"] = normal(H)
        w[p + "oln_g"] = gamma(H)
        w[p + "oln_b"] = normal(H, std=0.05)
    w["qa_w"] = normal(H, 2)
    w["qa_b"] = normal(2)
    return w


# ---------------------------------------------------------------------------------------------
# torch exporter: HuggingFace BertForQuestionAnswering.
# ---------------------------------------------------------------------------------------------
def build_torch_model(cfg: BertConfig, w: dict[str, np.ndarray], hidden_act: str = "gelu"):
    os.environ.setdefault("USE_TF", "0")  # transformers: do not import TensorFlow
    import torch
    import transformers

    hf_cfg = transformers.BertConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads, intermediate_size=cfg.ffn, hidden_act=hidden_act,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        max_position_embeddings=cfg.max_position, type_vocab_size=cfg.type_vocab,
        layer_norm_eps=cfg.layer_norm_eps, initializer_range=cfg.init_std)
    hf_cfg._attn_implementation = "eager"  # torch 1.13 has no SDPA; be explicit anyway
    model = transformers.BertForQuestionAnswering(hf_cfg).eval()

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    sd = {
        "bert.embeddings.word_embeddings.weight": t(w["word_emb"]),
        "bert.embeddings.position_embeddings.weight": t(w["pos_emb"]),
        "bert.embeddings.token_type_embeddings.weight": t(w["type_emb"]),
        "bert.embeddings.LayerNorm.weight": t(w["emb_ln_g"]),
        "bert.embeddings.LayerNorm.bias": t(w["emb_ln_b"]),
        "qa_outputs.weight": t(w["qa_w"].T),
        "qa_outputs.bias": t(w["qa_b"]),
    }
    for i in range(cfg.layers):
        p, hp = f"l{i}.", f"bert.encoder.layer.{i}."
        lin = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "i": "intermediate.dense", "o": "output.dense"}
        for short, name in lin.items():
            sd[hp + name + ".weight"] = t(w[p + short + "_w"].T)  # torch Linear is [out, in]
            sd[hp + name + ".bias"] = t(w[p + short + "_b"])
        sd[hp + "attention.output.LayerNorm.weight"] = t(w[p + "aln_g"])
        sd[hp + "attention.output.LayerNorm.bias"] = t(w[p + "aln_b"])
        sd[hp + "output.LayerNorm.weight"] = t(w[p + "oln_g"])
        sd[hp + "output.LayerNorm.bias"] = t(w[p + "oln_b"])
    missing, unexpected = model.load_state_dict(sd, strict=False)
    params = {k for k, _ in model.named_parameters()}
    if unexpected or params & set(missing):
        raise RuntimeError(f"weight mapping: missing {sorted(params & set(missing))}, "
                           f"unexpected {unexpected}")

    class Int32QA(torch.nn.Module):
        """The seed's interface: int32 ids/mask/segments in, start and end logits out."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, input_mask, segment_ids):
            out = self.bert(input_ids=input_ids.long(), attention_mask=input_mask.long(),
                            token_type_ids=segment_ids.long(), return_dict=True)
            return out.start_logits, out.end_logits

    return Int32QA(model).eval(), model.config._attn_implementation


def export_torch(cfg, w, opset, path: Path) -> tuple[dict, callable]:
    import torch

    wrapper, attn = build_torch_model(cfg, w)
    log(f"transformers BertForQuestionAnswering, attention implementation '{attn}', "
        f"torch {torch.__version__}, opset {opset}")
    dummy = tuple(torch.from_numpy(a) for a in qa_common.make_qa_inputs(cfg.vocab_size, cfg.seq_len, 1).values())
    with torch.no_grad():
        torch.onnx.export(wrapper, dummy, str(path), input_names=list(INPUTS),
                          output_names=list(OUTPUTS), opset_version=opset,
                          do_constant_folding=True)

    def run(feeds):
        with torch.no_grad():
            s, e = wrapper(*(torch.from_numpy(feeds[n]) for n in INPUTS))
        return {OUTPUTS[0]: s.numpy(), OUTPUTS[1]: e.numpy()}

    return {"torch": torch.__version__}, run


# ---------------------------------------------------------------------------------------------
# tf exporter: BERT the way Google's modeling.py writes it, in TF2 ops, through tf2onnx.
# ---------------------------------------------------------------------------------------------
def build_tf_bert(cfg: BertConfig, w: dict[str, np.ndarray]):
    import tensorflow as tf

    # Weights as variables, as in a checkpoint-restored model; tf2onnx freezes them into Consts.
    # (Constants made inside the traced function convert the same, no faster and no smaller.)
    V = {k: tf.Variable(v, name=k.replace(".", "_"), trainable=False) for k, v in w.items()}
    output_weights = tf.Variable(np.ascontiguousarray(w["qa_w"].T), name="output_weights")  # [2, H]
    B, S, H, N = 1, cfg.seq_len, cfg.hidden, cfg.heads
    D = H // N

    def layer_norm(x, g, b):
        # tf.contrib.layers.layer_norm: moments over the last axis + batch_normalization, eps 1e-12
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(x, mean, variance, offset=b, scale=g,
                                         variance_epsilon=cfg.layer_norm_eps)

    def gelu(x):  # modeling.py's tanh approximation
        cdf = 0.5 * (1.0 + tf.tanh(np.sqrt(2.0 / np.pi).astype(np.float32) * (x + 0.044715 * tf.pow(x, 3))))
        return x * cdf

    def dense(x, name):
        return tf.nn.bias_add(tf.matmul(x, V[name + "_w"]), V[name + "_b"])

    def transpose_for_scores(x):
        return tf.transpose(tf.reshape(x, [B, S, N, D]), [0, 2, 1, 3])

    def model(input_ids, input_mask, segment_ids):
        # embedding_postprocessor
        flat_ids = tf.reshape(input_ids, [-1])
        emb = tf.reshape(tf.gather(V["word_emb"], flat_ids), [B, S, H])
        flat_types = tf.reshape(segment_ids, [-1])
        one_hot = tf.one_hot(flat_types, depth=cfg.type_vocab)
        emb += tf.reshape(tf.matmul(one_hot, V["type_emb"]), [B, S, H])
        pos = tf.slice(V["pos_emb"], [0, 0], [S, -1])
        emb += tf.reshape(pos, [1, S, H])
        emb = layer_norm(emb, V["emb_ln_g"], V["emb_ln_b"])

        # create_attention_mask_from_input_mask: [B, S, S]
        to_mask = tf.cast(tf.reshape(input_mask, [B, 1, S]), tf.float32)
        attention_mask = tf.ones([B, S, 1], dtype=tf.float32) * to_mask
        adder = (1.0 - tf.expand_dims(attention_mask, axis=[1])) * -10000.0

        x = tf.reshape(emb, [B * S, H])  # reshape_to_matrix
        for i in range(cfg.layers):
            p = f"l{i}."
            q = transpose_for_scores(dense(x, p + "q"))
            k = transpose_for_scores(dense(x, p + "k"))
            v = transpose_for_scores(dense(x, p + "v"))
            scores = tf.matmul(q, k, transpose_b=True)
            scores = tf.multiply(scores, 1.0 / np.sqrt(float(D)))
            scores += adder
            probs = tf.nn.softmax(scores)
            ctx = tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3])
            ctx = tf.reshape(ctx, [B * S, H])
            att = layer_norm(dense(ctx, p + "ao") + x, V[p + "aln_g"], V[p + "aln_b"])
            inter = gelu(dense(att, p + "i"))
            x = layer_norm(dense(inter, p + "o") + att, V[p + "oln_g"], V[p + "oln_b"])

        # run_squad.py create_model: output_weights [2, H] used with transpose_b
        logits = tf.matmul(x, output_weights, transpose_b=True)
        logits = tf.nn.bias_add(logits, V["qa_b"])
        logits = tf.transpose(tf.reshape(logits, [B, S, 2]), [2, 0, 1])
        start, end = tf.unstack(logits, axis=0)
        return start, end

    spec = [tf.TensorSpec([B, S], tf.int32, name=n) for n in INPUTS]
    fn = tf.function(model, input_signature=spec)
    return fn, spec, V


def export_tf(cfg, w, opset, path: Path) -> tuple[dict, callable]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # tf2onnx deep-copies the whole graph, weights included, before each optimizer pass so that it
    # can roll back a failing one. Without the copies a failing optimizer raises instead of being
    # silently skipped, which we want anyway, and the conversion needs less time and memory.
    os.environ.setdefault("TF2ONNX_CATCH_ERRORS", "FALSE")
    import onnx
    import tensorflow as tf
    import tf2onnx

    fn, spec, _ = build_tf_bert(cfg, w)
    log(f"TF BERT (modeling.py style), tensorflow {tf.__version__}, tf2onnx {tf2onnx.__version__}, "
        f"opset {opset}")
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=opset)
    # tf2onnx names the outputs after the TF graph's Identity ops: give them the seed's names.
    rename = {o.name: new for o, new in zip(proto.graph.output, OUTPUTS)}
    for o in proto.graph.output:
        o.name = rename[o.name]
    for node in proto.graph.node:
        for i, name in enumerate(node.output):
            if name in rename:
                node.output[i] = rename[name]
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
    onnx.save(proto, str(path))

    def run(feeds):
        s, e = fn(*(tf.constant(feeds[n]) for n in INPUTS))
        return {OUTPUTS[0]: s.numpy(), OUTPUTS[1]: e.numpy()}

    check_tf_against_hf(cfg, w, run, proto)
    return {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__}, run


def check_tf_against_hf(cfg, w, tf_run, proto) -> None:
    """The TF graph must be BERT: same weights in HuggingFace's BertForQuestionAnswering with the
    tanh GELU ('gelu_new', the formula modeling.py uses) must give the same logits."""
    try:
        import torch
    except ImportError:
        log("torch not importable: TF model not cross-checked against HuggingFace BERT")
        return
    hf, _ = build_torch_model(cfg, w, hidden_act="gelu_new")
    feeds = qa_common.make_qa_inputs(cfg.vocab_size, cfg.seq_len, seed=3)
    with torch.no_grad():
        ref = [t.numpy() for t in hf(*(torch.from_numpy(feeds[n]) for n in INPUTS))]
    got = tf_run(feeds)
    em = qa_common.fp32_error_model(proto)
    scale = max(float(np.abs(r).max()) for r in ref)
    tol = qa_common.tolerance(em.eps_rel, scale)
    diff = max(float(np.abs(got[n] - r).max()) for n, r in zip(OUTPUTS, ref))
    ok = diff <= tol
    log(f"check TF BERT vs HuggingFace BERT (gelu_new, same weights): max|diff| {diff:.3e} "
        f"<= tol {tol:.3e}: {'ok' if ok else 'FAILED'}")
    if not ok:
        raise RuntimeError(f"TF BERT disagrees with HuggingFace BERT: {diff} > {tol}")


# ---------------------------------------------------------------------------------------------
def source_hash() -> str:
    h = hashlib.sha256()
    for f in (Path(__file__), HERE / "qa_common.py"):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def check_interface(model) -> None:
    from onnx import TensorProto
    ins = {i.name: i for i in model.graph.input}
    for n in INPUTS:
        t = ins[n].type.tensor_type
        dims = [d.dim_value for d in t.shape.dim]
        if t.elem_type != TensorProto.INT32 or dims != [1, 384]:
            raise RuntimeError(f"input {n}: elem_type {t.elem_type} dims {dims}, want int32 [1, 384]")
    inits = {t.name for t in model.graph.initializer}
    extra = [i.name for i in model.graph.input if i.name not in inits and i.name not in INPUTS]
    if extra:
        raise RuntimeError(f"unexpected graph inputs {extra[:5]} (weights not frozen?)")
    outs = [o.name for o in model.graph.output]
    if outs != list(OUTPUTS):
        raise RuntimeError(f"outputs {outs}, want {list(OUTPUTS)}")
    for o in model.graph.output:
        dims = [d.dim_value for d in o.type.tensor_type.shape.dim]
        if dims and dims != [1, 384]:
            raise RuntimeError(f"output {o.name} dims {dims}, want [1, 384]")


def verify_with_ort(path: Path, model, cfg: BertConfig, framework_run, label: str) -> dict:
    """Run the saved model with ONNX Runtime and compare with the framework's output."""
    import onnxruntime as ort

    feeds = qa_common.make_qa_inputs(cfg.vocab_size, cfg.seq_len, seed=7)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    got = dict(zip(OUTPUTS, sess.run(list(OUTPUTS), feeds)))
    ref = framework_run(feeds)
    em = qa_common.fp32_error_model(model)
    scale = max(float(np.abs(ref[n]).max()) for n in OUTPUTS)
    tol = qa_common.tolerance(em.eps_rel, scale)
    diff = max(float(np.abs(got[n].astype(np.float64) - ref[n]).max()) for n in OUTPUTS)
    ok = diff <= tol and all(np.isfinite(got[n]).all() for n in OUTPUTS)
    log(f"fp32 error model: {em.describe()}")
    log(f"check {label} vs ONNX Runtime: max|diff| {diff:.3e} <= tol {tol:.3e} "
        f"(2 * eps {em.eps_rel:.3e} * max|logit| {scale:.3f}): {'ok' if ok else 'FAILED'}")
    if not ok:
        raise RuntimeError(f"exported model disagrees with {label}: {diff} > {tol}")
    return {"max_abs_diff": diff, "tolerance": tol, "max_abs_logit": scale}


def generate(args) -> int:
    cfg = CONFIGS[args.config]
    out = Path(args.out).resolve()
    meta_path = Path(str(out) + ".json")
    params = {"config": args.config, "exporter": args.exporter, "opset": args.opset,
              "external_data": args.external_data, "seed": args.seed, "source": source_hash()}
    data_name = out.name + ".data"
    if not args.force and out.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:
            meta = {}
        if meta.get("params") == params and (not args.external_data or (out.parent / data_name).exists()):
            log(f"cached: {out} ({meta.get('generate_seconds', '?')} s to make; --force remakes)")
            return 0

    import onnx

    out.parent.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    w = make_weights(cfg, args.seed)
    n_params = sum(a.size for a in w.values())
    log(f"{args.config}: {cfg.layers} layers, hidden {cfg.hidden}, {cfg.heads} heads, FFN {cfg.ffn}, "
        f"vocab {cfg.vocab_size}, seq {cfg.seq_len}; {n_params / 1e6:.2f} M parameters (seed {args.seed})")

    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".tmp-" + out.stem) as tmp:
        raw = Path(tmp) / "raw.onnx"
        if args.exporter == "torch":
            versions, framework_run = export_torch(cfg, w, args.opset, raw)
        else:
            versions, framework_run = export_tf(cfg, w, args.opset, raw)
        t_export = time.perf_counter() - t0

        model = onnx.load(str(raw))
        check_interface(model)
        onnx.checker.check_model(model)
        del model.metadata_props[:]
        meta_cfg = dataclasses.asdict(cfg) | {"name": args.config, "seed": args.seed,
                                               "exporter": args.exporter}
        model.metadata_props.add(key="ratel.config", value=json.dumps(meta_cfg))
        model.doc_string = (f"Ratel test model: BERT-QA '{args.config}' with random weights "
                            f"(seed {args.seed}), exported by {args.exporter}.")

        tmp_model = Path(tmp) / out.name
        if args.external_data:
            onnx.save_model(model, str(tmp_model), save_as_external_data=True,
                            all_tensors_to_one_file=True, location=data_name, size_threshold=1024)
        else:
            onnx.save_model(model, str(tmp_model))
        verification = verify_with_ort(tmp_model, model, cfg, framework_run, args.exporter)
        if args.external_data:
            os.replace(Path(tmp) / data_name, out.parent / data_name)
        os.replace(tmp_model, out)

    seconds = time.perf_counter() - t0
    hist = qa_common.op_histogram(model)
    sizes = {out.name: out.stat().st_size}
    if args.external_data:
        sizes[data_name] = (out.parent / data_name).stat().st_size
    meta = {"params": params, "versions": versions, "parameters": int(n_params),
            "generate_seconds": round(seconds, 2), "export_seconds": round(t_export, 2),
            "file_bytes": sizes, "nodes": len(model.graph.node), "op_histogram": hist,
            "verification": verification}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    log(f"wrote {out} ({', '.join(f'{k} {v / 2**20:.1f} MiB' for k, v in sizes.items())}) "
        f"in {seconds:.1f} s (export {t_export:.1f} s)")
    log(f"{len(model.graph.node)} nodes: " + ", ".join(f"{k} {v}" for k, v in hist.items()))
    return 0


def parse_model_spec(spec: str) -> dict:
    """'CONFIG:EXPORTER:OPSET[:ext]=OUT' -> the single-model options it stands for."""
    head, sep, out = spec.partition("=")
    parts = head.split(":")
    if not sep or not out or len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "ext"):
        raise ValueError(f"--model {spec!r}: expected CONFIG:EXPORTER:OPSET[:ext]=OUT")
    config, exporter, opset = parts[:3]
    if config not in CONFIGS or exporter not in ("torch", "tf") or not opset.isdigit():
        raise ValueError(f"--model {spec!r}: config one of {sorted(CONFIGS)}, exporter torch|tf, "
                         "opset a number")
    return {"config": config, "exporter": exporter, "opset": int(opset),
            "external_data": len(parts) == 4, "out": out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    ap.add_argument("--exporter", choices=["torch", "tf"], default="torch")
    ap.add_argument("--opset", type=int, default=13, help="ONNX opset, 11-17 (default 13)")
    ap.add_argument("--external-data", action="store_true",
                    help="store the weights as ONNX external data (OUT.data beside OUT)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="output .onnx (default: <repo>/build/models/"
                    "CONFIG-EXPORTER-opN[-ext].onnx)")
    ap.add_argument("--force", action="store_true", help="regenerate even when cached")
    ap.add_argument("--model", action="append", default=[], metavar="CONFIG:EXPORTER:OPSET[:ext]=OUT",
                    help="make this model (repeatable: several models in one process, the "
                    "frameworks imported once); replaces --config/--exporter/--opset/"
                    "--external-data/--out")
    args = ap.parse_args(argv)
    try:
        batch = [parse_model_spec(m) for m in args.model]
    except ValueError as e:
        ap.error(str(e))
    for one in batch or [vars(args)]:
        if not 11 <= one["opset"] <= 17:
            ap.error(f"opset {one['opset']}: must be in 11..17")
    if any(one["exporter"] == "tf" for one in batch or [vars(args)]):
        # protobuf's default (upb) keeps every replaced sub-message in its parent's arena until
        # the whole message dies; tf2onnx re-serializes every weight after each optimizer pass,
        # so the C implementation grows by the model's size per pass (18.7 GB peak for
        # bert-base). The pure-Python implementation frees them; it must be chosen before
        # google.protobuf is first imported.
        os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
    if not batch:
        if args.out is None:
            name = f"{args.config}-{args.exporter}-op{args.opset}{'-ext' if args.external_data else ''}.onnx"
            args.out = str(HERE.parent.parent / "build" / "models" / name)
        return generate(args)
    # Every model is attempted; the exit status says whether all were made.
    failed = []
    for one in batch:
        try:
            generate(argparse.Namespace(**(vars(args) | one)))
        except Exception as e:  # noqa: BLE001 -- reported, and the status is non-zero
            log(f"FAILED {one['out']}: {type(e).__name__}: {e}")
            failed.append(one["out"])
    if failed:
        log(f"{len(failed)} of {len(batch)} model(s) not made: {', '.join(failed)}")
        return 1
    log(f"all {len(batch)} model(s) made or cached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
