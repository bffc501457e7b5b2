#!/usr/bin/env python3
"""Writes tests/nlp/data/unicode_cases.jsonl: random strings over all assigned Unicode code
points (seeded) with the basic tokens (uncased and cased) and WordPiece ids that
bert_reference.py (Google's tokenization.py logic, CPython unicodedata) gives them, for
tokenizer_test.cpp. Code points unassigned in this Python's Unicode version are left out so the
Unicode versions of CPython and utf8proc do not matter.

  python3 tests/nlp/py/make_unicode_cases.py ../shared/data/vocab/bert-base-uncased-vocab.txt"""
import json
import os
import random
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import BasicTokenizer, FullTokenizer  # noqa: E402

# Characters whose handling differs in subtle ways: final sigma, U+0130, case-ignorables,
# whitespace and controls, replacement char, combining marks, VARIA and the Greek question
# mark (punctuation only after NFD), ASCII.
SPECIAL = [0x3A3, 0x130, 0x27, 0x2E, 0x20, 0x9, 0xA0, 0x2028, 0x200B, 0x0, 0xFFFD, 0x301, 0x323,
           0x307, 0x1FEF, 0x37E] + list(range(0x20, 0x7F))


def main():
    vocab = sys.argv[1]
    rng = random.Random(20240607)
    assigned = [c for c in range(0x110000)
                if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"]
    dense = [c for c in assigned if c < 0x3000 or 0xF900 <= c <= 0xFAFF]
    tokenizer = FullTokenizer(vocab)
    cased = BasicTokenizer(do_lower_case=False)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                       "unicode_cases.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(500):
            pool = rng.choice([assigned, dense, SPECIAL])
            text = "".join(chr(rng.choice(pool)) for _ in range(rng.randint(0, 24)))
            pieces = tokenizer.tokenize(text)
            f.write(json.dumps({"text": text, "uncased": tokenizer.basic.tokenize(text),
                                "cased": cased.tokenize(text),
                                "ids": tokenizer.ids(pieces)}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
