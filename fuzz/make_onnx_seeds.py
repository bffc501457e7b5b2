#!/usr/bin/env python3
"""Seed models for fuzz_onnx_import: micro BERT-QA models (1 layer, hidden 8, sequence 8) exported
by PyTorch and by TensorFlow + tf2onnx with tests/models/make_bert_qa.py's own exporters, so the
fuzzer starts from the graphs Ratel's fusions are written for, with every value small enough for
the target to run both executors on them.

  .venv/bin/python fuzz/make_onnx_seeds.py OUT_DIR
"""
import dataclasses
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "models"))

import make_bert_qa as mb  # noqa: E402
import numpy as np  # noqa: E402


def micro_inputs(vocab_size: int, seq_len: int = 8, seed: int = 0) -> dict:
    """make_qa_inputs for an 8-token window: [CLS] q q [SEP] c c [SEP] pad."""
    ids = np.array([[101, 110, 111, 102, 112, 113, 102, 0]], dtype=np.int32)[:, :seq_len]
    mask = np.array([[1, 1, 1, 1, 1, 1, 1, 0]], dtype=np.int32)[:, :seq_len]
    seg = np.array([[0, 0, 0, 0, 1, 1, 1, 0]], dtype=np.int32)[:, :seq_len]
    return {"input_ids": ids, "input_mask": mask, "segment_ids": seg}


mb.qa_common.make_qa_inputs = micro_inputs


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cfg = mb.BertConfig(layers=1, hidden=8, heads=2, ffn=16, vocab_size=128, max_position=16, seq_len=8)
    w = mb.make_weights(cfg, 0)
    import onnx
    for exporter, export in (("torch", mb.export_torch), ("tf", mb.export_tf)):
        for opset in (11, 13):
            with tempfile.TemporaryDirectory() as tmp:
                raw = Path(tmp) / "raw.onnx"
                try:
                    export(cfg, w, opset, raw)
                except Exception as e:  # an exporter missing from the venv: skip its seeds
                    print(f"make_onnx_seeds: {exporter} opset {opset} failed: {e}", file=sys.stderr)
                    continue
                model = onnx.load(str(raw))
                del model.metadata_props[:]
                model.doc_string = ""
                dest = out / f"micro-bert-{exporter}-op{opset}.onnx"
                onnx.save_model(model, str(dest))
                print(f"make_onnx_seeds: wrote {dest} ({dest.stat().st_size} bytes, {len(model.graph.node)} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
