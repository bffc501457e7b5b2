#!/usr/bin/env python3
"""A compact restatement of Google BERT's tokenization.py and run_squad.py (v1.1 parts,
github.com/google-research/bert, Apache-2.0), used to derive the expected values of the C++
tests in tests/nlp. Not part of the product.

  python3 tests/nlp/py/bert_reference.py ../shared
prints the EM/F1 of the dev set with gold spans as one-hot logits (answers_test.cpp)."""
import collections, json, math, sys, unicodedata

def load_vocab(path):
    vocab = collections.OrderedDict()
    with open(path, encoding='utf-8') as f:
        for i, line in enumerate(f):
            vocab[line.strip()] = i
    return vocab

def whitespace_tokenize(text):
    text = text.strip()
    return text.split() if text else []

def _is_whitespace(c):
    if c in " \t\n\r": return True
    return unicodedata.category(c) == "Zs"

def _is_control(c):
    if c in "\t\n\r": return False
    return unicodedata.category(c) in ("Cc", "Cf")

def _is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126: return True
    return unicodedata.category(c).startswith("P")

def _is_chinese_char(cp):
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF) or
            (0x2A700 <= cp <= 0x2B73F) or (0x2B740 <= cp <= 0x2B81F) or
            (0x2B820 <= cp <= 0x2CEAF) or
            (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))

class BasicTokenizer:
    def __init__(self, do_lower_case=True): self.do_lower_case = do_lower_case
    def tokenize(self, text):
        text = self._clean_text(text)
        text = self._tokenize_chinese_chars(text)
        split_tokens = []
        for token in whitespace_tokenize(text):
            if self.do_lower_case:
                token = token.lower()
                token = "".join(c for c in unicodedata.normalize("NFD", token)
                                if unicodedata.category(c) != "Mn")
            split_tokens.extend(self._split_on_punc(token))
        return whitespace_tokenize(" ".join(split_tokens))
    def _split_on_punc(self, text):
        out = []; start_new = True
        for c in text:
            if _is_punctuation(c):
                out.append([c]); start_new = True
            else:
                if start_new: out.append([])
                start_new = False
                out[-1].append(c)
        return ["".join(x) for x in out]
    def _tokenize_chinese_chars(self, text):
        return "".join(" %s " % c if _is_chinese_char(ord(c)) else c for c in text)
    def _clean_text(self, text):
        out = []
        for c in text:
            cp = ord(c)
            if cp == 0 or cp == 0xfffd or _is_control(c): continue
            out.append(" " if _is_whitespace(c) else c)
        return "".join(out)

class WordpieceTokenizer:
    def __init__(self, vocab, unk_token="[UNK]", max_input_chars_per_word=200):
        self.vocab = vocab; self.unk_token = unk_token; self.max = max_input_chars_per_word
    def tokenize(self, text):
        output = []
        for token in whitespace_tokenize(text):
            chars = list(token)
            if len(chars) > self.max:
                output.append(self.unk_token); continue
            is_bad = False; start = 0; subs = []
            while start < len(chars):
                end = len(chars); cur = None
                while start < end:
                    s = "".join(chars[start:end])
                    if start > 0: s = "##" + s
                    if s in self.vocab: cur = s; break
                    end -= 1
                if cur is None: is_bad = True; break
                subs.append(cur); start = end
            if is_bad: output.append(self.unk_token)
            else: output.extend(subs)
        return output

class FullTokenizer:
    def __init__(self, vocab_file, do_lower_case=True, max_chars=200):
        self.vocab = load_vocab(vocab_file)
        self.basic = BasicTokenizer(do_lower_case)
        self.wp = WordpieceTokenizer(self.vocab, max_input_chars_per_word=max_chars)
    def tokenize(self, text):
        return [s for t in self.basic.tokenize(text) for s in self.wp.tokenize(t)]
    def ids(self, toks): return [self.vocab[t] for t in toks]

class Example:
    pass

def read_squad_examples(path, is_training=False):
    data = json.load(open(path, encoding='utf-8'))["data"]
    def is_ws(c): return c in " \t\r\n" or ord(c) == 0x202F
    out = []
    for entry in data:
        for p in entry["paragraphs"]:
            text = p["context"]; doc_tokens = []; c2w = []; prev_ws = True
            for c in text:
                if is_ws(c): prev_ws = True
                else:
                    if prev_ws: doc_tokens.append(c)
                    else: doc_tokens[-1] += c
                    prev_ws = False
                c2w.append(len(doc_tokens) - 1)
            for qa in p["qas"]:
                e = Example(); e.qas_id = qa["id"]; e.question_text = qa["question"]
                e.doc_tokens = doc_tokens; e.answers = [a["text"] for a in qa["answers"]]
                e.start_position = e.end_position = None
                if is_training:
                    a = qa["answers"][0]; off = a["answer_start"]; L = len(a["text"])
                    e.orig_answer_text = a["text"]
                    e.start_position = c2w[off]; e.end_position = c2w[off + L - 1]
                    actual = " ".join(doc_tokens[e.start_position:e.end_position + 1])
                    cleaned = " ".join(whitespace_tokenize(a["text"]))
                    if actual.find(cleaned) == -1:
                        e.start_position = e.end_position = None
                out.append(e)
    return out

def _improve_answer_span(doc_tokens, s, e, tokenizer, orig_answer_text):
    tok_answer_text = " ".join(tokenizer.tokenize(orig_answer_text))
    for ns in range(s, e + 1):
        for ne in range(e, ns - 1, -1):
            if " ".join(doc_tokens[ns:ne + 1]) == tok_answer_text: return ns, ne
    return s, e

def _check_is_max_context(doc_spans, cur, position):
    best_score = None; best = None
    for i, (start, length) in enumerate(doc_spans):
        end = start + length - 1
        if position < start or position > end: continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score: best_score = score; best = i
    return cur == best

def convert(examples, tokenizer, max_seq_length=384, doc_stride=128, max_query_length=64,
            gold=False):
    uid = 1000000000; feats = []
    for ei, ex in enumerate(examples):
        q = tokenizer.tokenize(ex.question_text)[:max_query_length]
        t2o = []; o2t = []; all_doc = []
        for i, w in enumerate(ex.doc_tokens):
            o2t.append(len(all_doc))
            for s in tokenizer.tokenize(w): t2o.append(i); all_doc.append(s)
        ts = te = None
        if gold and ex.start_position is not None:
            ts = o2t[ex.start_position]
            if ex.end_position < len(ex.doc_tokens) - 1:
                te = o2t[ex.end_position + 1] - 1
            else:
                te = len(all_doc) - 1
            ts, te = _improve_answer_span(all_doc, ts, te, tokenizer, ex.orig_answer_text)
        max_doc = max_seq_length - len(q) - 3
        spans = []; so = 0
        while so < len(all_doc):
            L = min(len(all_doc) - so, max_doc); spans.append((so, L))
            if so + L == len(all_doc): break
            so += min(L, doc_stride)
        for si, (start, L) in enumerate(spans):
            tokens = ["[CLS]"] + q + ["[SEP]"]; seg = [0] * len(tokens); t2om = {}; maxc = {}
            for i in range(L):
                t2om[len(tokens)] = t2o[start + i]
                maxc[len(tokens)] = _check_is_max_context(spans, si, start + i)
                tokens.append(all_doc[start + i]); seg.append(1)
            tokens.append("[SEP]"); seg.append(1)
            f = dict(unique_id=uid, example_index=ei, doc_span_index=si, tokens=tokens,
                     token_to_orig_map=t2om, token_is_max_context=maxc,
                     input_ids=tokenizer.ids(tokens), segment_ids=seg)
            if ts is not None:
                off = len(q) + 2
                if start <= ts and te <= start + L - 1:
                    f['gold'] = (ts - start + off, te - start + off)
            feats.append(f); uid += 1
    return feats

def get_best_indexes(logits, n):
    return [i for i, _ in sorted(enumerate(logits), key=lambda x: x[1], reverse=True)[:n]]

def compute_softmax(scores):
    if not scores: return []
    m = max(scores); e = [math.exp(s - m) for s in scores]; t = sum(e)
    return [x / t for x in e]

def get_final_text(pred_text, orig_text, do_lower_case):
    def strip_spaces(text):
        ns = []; m = collections.OrderedDict()
        for i, c in enumerate(text):
            if c == " ": continue
            m[len(ns)] = i; ns.append(c)
        return "".join(ns), m
    tok_text = " ".join(BasicTokenizer(do_lower_case).tokenize(orig_text))
    sp = tok_text.find(pred_text)
    if sp == -1: return orig_text
    ep = sp + len(pred_text) - 1
    ons, omap = strip_spaces(orig_text); tns, tmap = strip_spaces(tok_text)
    if len(ons) != len(tns): return orig_text
    t_s2ns = {v: k for k, v in tmap.items()}
    os_ = oe = None
    if sp in t_s2ns and t_s2ns[sp] in omap: os_ = omap[t_s2ns[sp]]
    if os_ is None: return orig_text
    if ep in t_s2ns and t_s2ns[ep] in omap: oe = omap[t_s2ns[ep]]
    if oe is None: return orig_text
    return orig_text[os_:oe + 1]

def write_predictions(examples, feats, results, n_best=20, max_len=30, do_lower_case=True):
    by_ex = collections.defaultdict(list)
    for f in feats: by_ex[f['example_index']].append(f)
    preds = collections.OrderedDict(); nbests = collections.OrderedDict()
    for ei, ex in enumerate(examples):
        fs = by_ex[ei]; prelim = []
        for fi, f in enumerate(fs):
            sl, el = results[f['unique_id']]
            for s in get_best_indexes(sl, n_best):
                for e in get_best_indexes(el, n_best):
                    if s >= len(f['tokens']) or e >= len(f['tokens']): continue
                    if s not in f['token_to_orig_map'] or e not in f['token_to_orig_map']: continue
                    if not f['token_is_max_context'].get(s, False): continue
                    if e < s or e - s + 1 > max_len: continue
                    prelim.append((fi, s, e, sl[s], el[e]))
        prelim.sort(key=lambda x: x[3] + x[4], reverse=True)
        seen = {}; nbest = []
        for fi, s, e, a, b in prelim:
            if len(nbest) >= n_best: break
            f = fs[fi]
            if s > 0:
                tok_text = " ".join(f['tokens'][s:e + 1]).replace(" ##", "").replace("##", "")
                tok_text = " ".join(tok_text.strip().split())
                first, last = f['token_to_orig_map'][s], f['token_to_orig_map'][e]
                orig_text = " ".join(ex.doc_tokens[first:last + 1])
                final = get_final_text(tok_text, orig_text, do_lower_case)
                if final in seen: continue
                seen[final] = True
            else:
                final = ""; seen[final] = True
            nbest.append((final, a, b))
        if not nbest: nbest.append(("empty", 0.0, 0.0))
        probs = compute_softmax([a + b for _, a, b in nbest])
        preds[ex.qas_id] = nbest[0][0]
        nbests[ex.qas_id] = [dict(text=t, probability=p, start_logit=a, end_logit=b)
                             for (t, a, b), p in zip(nbest, probs)]
    return preds, nbests


def main():
    import os
    from squad_v11_metric import evaluate
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared")
    data = os.path.join(shared, "data")
    tok = FullTokenizer(os.path.join(data, "vocab/bert-base-uncased-vocab.txt"))
    dev = os.path.join(data, "squad/dev-v1.1.reconstructed.json")
    examples = read_squad_examples(dev, is_training=True)
    features = convert(examples, tok, gold=True)
    results = {}
    for f in features:
        start, end = [0.0] * 384, [0.0] * 384
        if "gold" in f:
            start[f["gold"][0]] = 10.0
            end[f["gold"][1]] = 10.0
        results[f["unique_id"]] = (start, end)
    predictions, _ = write_predictions(examples, features, results)
    with open(dev, encoding="utf-8") as fh:
        print(evaluate(json.load(fh)["data"], predictions))


if __name__ == "__main__":
    main()
