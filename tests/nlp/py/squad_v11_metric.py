# The logic of the official SQuAD v1.1 evaluate-v1.1.py (Rajpurkar et al.), restated to
# produce the expected numbers of tests/nlp/metrics_test.cpp (see make_metric_cases.py).
# Usage: python3 squad_v11_metric.py dataset.json predictions.json
from collections import Counter
import string, re, json, sys

def normalize_answer(s):
    def remove_articles(text): return re.sub(r'\b(a|an|the)\b', ' ', text)
    def white_space_fix(text): return ' '.join(text.split())
    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)
    def lower(text): return text.lower()
    return white_space_fix(remove_articles(remove_punc(lower(s))))

def f1_score(prediction, ground_truth):
    p = normalize_answer(prediction).split(); g = normalize_answer(ground_truth).split()
    common = Counter(p) & Counter(g); num_same = sum(common.values())
    if num_same == 0: return 0
    precision = 1.0 * num_same / len(p); recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)

def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)

def metric_max_over_ground_truths(fn, prediction, ground_truths):
    return max(fn(prediction, gt) for gt in ground_truths)

def evaluate(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article['paragraphs']:
            for qa in paragraph['qas']:
                total += 1
                if qa['id'] not in predictions: continue
                gts = [x['text'] for x in qa['answers']]
                pred = predictions[qa['id']]
                exact_match += metric_max_over_ground_truths(exact_match_score, pred, gts)
                f1 += metric_max_over_ground_truths(f1_score, pred, gts)
    return {'exact_match': 100.0 * exact_match / total, 'f1': 100.0 * f1 / total}

if __name__ == '__main__':
    ds = json.load(open(sys.argv[1]))['data']; pr = json.load(open(sys.argv[2]))
    print(json.dumps(evaluate(ds, pr)))
