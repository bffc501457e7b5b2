#!/usr/bin/env python3
"""Ratel's BERT tokenizer vs HuggingFace `tokenizers` on the SQuAD v1.1 dev texts, same run.

Both tokenize the 2,067 contexts and 10,570 questions on one thread with the same vocab,
lower-casing and accent stripping, no special tokens; HF's WordPiece limit of 100 characters a
word is passed to Ratel too. Prints throughput of each, the ratio, and whether every text's ids
are identical.

  python3 -m venv /tmp/pyv && /tmp/pyv/bin/pip install tokenizers
  scripts/build.sh release && /tmp/pyv/bin/python bench/tokenizer/compare_hf.py
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# One thread for HF: its Rust side reads these before its thread pool starts.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import BertWordPieceTokenizer  # noqa: E402


def load_texts(squad_path):
    with open(squad_path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]]
    contexts = [p["context"] for p in paragraphs]
    questions = [qa["question"] for p in paragraphs for qa in p["qas"]]
    return contexts + questions  # the order ratel_tokenizer_bench uses


def best_and_median(fn, repeat):
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assets = os.environ.get("RATEL_ASSETS") or os.path.join(root, "..", "shared")
    if os.path.isdir(os.path.join(assets, "data")):  # RATEL_ASSETS may name shared/data too
        assets = os.path.join(assets, "data")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench",
                        default=os.path.join(root, "build", "release", "bin",
                                             "ratel_tokenizer_bench"))
    parser.add_argument("--squad",
                        default=os.path.join(assets, "squad/dev-v1.1.reconstructed.json"))
    parser.add_argument("--vocab",
                        default=os.path.join(assets, "vocab/bert-base-uncased-vocab.txt"))
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    texts = load_texts(args.squad)
    num_bytes = sum(len(t.encode("utf-8")) for t in texts)
    hf = BertWordPieceTokenizer(args.vocab, lowercase=True, strip_accents=None, clean_text=True,
                                handle_chinese_chars=True)
    hf_ids = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    num_tokens = sum(len(i) for i in hf_ids)
    loop = best_and_median(lambda: [hf.encode(t, add_special_tokens=False) for t in texts],
                           args.repeat)
    batch = best_and_median(lambda: hf.encode_batch(texts, add_special_tokens=False), args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        ids_path = os.path.join(tmp, "ids.txt")
        out = subprocess.run([args.bench, "--squad", args.squad, "--vocab", args.vocab,
                              "--repeat", str(args.repeat), "--max-chars-per-word", "100",
                              "--ids-out", ids_path, "--json"],
                             check=True, capture_output=True, text=True).stdout
        ratel = json.loads(out)
        with open(ids_path) as f:
            ratel_ids = [[int(x) for x in line.split()] for line in f.read().split("\n")[:-1]]

    if ratel["texts"] != len(texts):
        sys.exit("text count differs: ratel %d, python %d" % (ratel["texts"], len(texts)))
    different = [i for i, (a, b) in enumerate(zip(ratel_ids, hf_ids)) if a != b]

    def row(name, seconds, tokens):
        best, median = seconds
        print("%-34s %8.1f ms %8.1f MB/s %8.2f M tok/s   (median %.1f ms)"
              % (name, best * 1e3, num_bytes / best / 1e6, tokens / best / 1e6, median * 1e3))

    print("%d texts (%d contexts + %d questions), %.2f MB, %d tokens; best of %d, one thread"
          % (len(texts), ratel["contexts"], len(texts) - ratel["contexts"], num_bytes / 1e6,
             num_tokens, args.repeat))
    row("HF tokenizers %s encode() loop" % __import__("tokenizers").__version__, loop, num_tokens)
    row("HF tokenizers encode_batch()", batch, num_tokens)
    row("Ratel BertTokenizer::encode", (ratel["best_s"], ratel["median_s"]), ratel["tokens"])
    fastest_hf = min(loop[0], batch[0])
    print("speed-up vs fastest HF: %.1fx" % (fastest_hf / ratel["best_s"]))
    print("identical ids: %s (%d of %d texts differ)"
          % ("YES" if not different else "NO", len(different), len(texts)))
    for i in different[:5]:
        print("  text %d: %r" % (i, texts[i][:120]))
    return 0 if not different else 1


if __name__ == "__main__":
    sys.exit(main())
