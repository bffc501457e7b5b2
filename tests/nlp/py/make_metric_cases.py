#!/usr/bin/env python3
"""Writes tests/nlp/data/metric_{dataset,predictions,expected}.json: tricky SQuAD v1.1 metric
cases scored by the official logic (squad_v11_metric.py), for metrics_test.cpp to reproduce.
Run with CPython 3.8+: python3 tests/nlp/py/make_metric_cases.py"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from squad_v11_metric import evaluate, exact_match_score, f1_score, normalize_answer  # noqa: E402

# (prediction, gold answers)
CASES = [
    ("Denver Broncos", ["Denver Broncos", "Broncos"]),
    ("the Denver Broncos.", ["Denver Broncos"]),
    ("Broncos", ["Denver Broncos"]),
    ("", ["x"]),
    ("A", ["a", "the"]),
    ("an apple a day", ["apple day"]),
    ("the_cat", ["thecat"]),
    ("th\u00e9\u00e2tre the", ["th\u00e9\u00e2tre"]),
    ("l'an", ["lan"]),
    ("\uff34he end", ["end"]),
    ("\u03a3\u0391\u03a3", ["\u03c3\u03b1\u03c2"]),
    ("\u0130stanbul", ["istanbul"]),
    ("a\u00a0b\u2003c\u3000d", ["b c d"]),
    ("the\u2014a", ["\u2014"]),
    ("1,000", ["1000"]),
    ("caf\u00e9", ["cafe"]),
    ("the the the", ["a"]),
    ("ana an_a a1", ["ana ana a1"]),
    ("It's the 'Denver' \u201cBroncos\u201d", ["its denver broncos"]),
    ("the cat cat", ["cat", "dog cat"]),
    ("\u0663\u0662 the", ["\u0663\u0662"]),
    ("New  York\tCity", ["new york", "new york city"]),
    ("Santa Clara, California", ["Levi's Stadium", "Santa Clara"]),
    ("x", ["y", "z"]),
]
# One more question has no prediction: it counts in the total with score 0.
UNANSWERED_ID = "q_unanswered"


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
    qas, predictions, cases = [], {}, []
    for i, (prediction, golds) in enumerate(CASES):
        qid = "q%02d" % i
        qas.append({"id": qid, "question": "case %d?" % i,
                    "answers": [{"text": g, "answer_start": -1} for g in golds]})
        predictions[qid] = prediction
        cases.append({
            "id": qid,
            "normalized_prediction": normalize_answer(prediction),
            "exact_match": max(exact_match_score(prediction, g) for g in golds),
            "f1": max(f1_score(prediction, g) for g in golds),
        })
    qas.append({"id": UNANSWERED_ID, "question": "unanswered?",
                "answers": [{"text": "anything", "answer_start": -1}]})
    dataset = {"version": "1.1", "data": [{"title": "metric cases", "paragraphs": [
        {"context": "unused context", "qas": qas}]}]}
    expected = {"overall": evaluate(dataset["data"], predictions), "cases": cases}
    for name, obj in (("metric_dataset.json", dataset), ("metric_predictions.json", predictions),
                      ("metric_expected.json", expected)):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, ensure_ascii=True)
            f.write("\n")
    print(expected["overall"])


if __name__ == "__main__":
    main()
