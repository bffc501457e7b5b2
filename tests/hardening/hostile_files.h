// Hostile inputs for the hardening tests and for scripts/reliability-report.sh: ONNX models with
// bad sizes, offsets, cycles, recursion bombs and a million nodes; weights with NaN/Inf; a tiny
// BERT-QA-shaped model (with vocab) for the CLI; deeply nested JSON; .npy files with lying
// headers. Every case is written by the same code for the tests and for the report, so the
// report's table shows what the tests check.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace ratel::hardening {

// ---------------------------------------------------------------------------------------------
// Small helpers.

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void save_model(const onnx::ModelProto& m, const std::string& path) {
  std::string bytes;
  m.SerializeToString(&bytes);
  write_bytes(path, bytes);
}

inline void set_type(onnx::ValueInfoProto* v, const std::string& name, int elem,
                     const std::vector<int64_t>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

inline onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                                 const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

inline onnx::ModelProto empty_model(const std::string& name) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("ratel-hardening");
  m.add_opset_import()->set_version(13);
  m.mutable_graph()->set_name(name);
  return m;
}

inline onnx::TensorProto* add_f32_initializer(onnx::GraphProto* g, const std::string& name,
                                              const std::vector<int64_t>& dims,
                                              const std::vector<float>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return t;
}

inline onnx::TensorProto* add_i64_initializer(onnx::GraphProto* g, const std::string& name,
                                              const std::vector<int64_t>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
  return t;
}

// y = x * w: x float [n], w an initializer of n floats (all `value`).
inline onnx::ModelProto scale_model(int64_t n, float value = 0.5f, const std::string& weight = "w") {
  auto m = empty_model("scale");
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {n});
  set_type(g->add_output(), "y", onnx::TensorProto::FLOAT, {n});
  add_f32_initializer(g, weight, {n}, std::vector<float>(static_cast<size_t>(n), value));
  add_node(g, "Mul", "mul", {"x", weight}, {"y"});
  return m;
}

// ---------------------------------------------------------------------------------------------
// Raw protobuf encoding, for files the protobuf API cannot build (a 100000-deep message would
// overflow the stack of the serializer itself).

inline void put_varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline void put_key(std::string* out, int field, int wire_type) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
}
inline void put_bytes_field(std::string* out, int field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  *out += bytes;
}

// A TypeProto nested `depth` levels deep: sequence(sequence(...(empty)...)).
// TypeProto.sequence_type = 4, TypeProto.Sequence.elem_type = 1.
inline std::string nested_type_proto(int depth) {
  std::vector<size_t> type_size(static_cast<size_t>(depth) + 1, 0), seq_size(static_cast<size_t>(depth) + 1, 0);
  for (size_t i = 1; i <= static_cast<size_t>(depth); ++i) {
    seq_size[i] = 1 + varint_size(type_size[i - 1]) + type_size[i - 1];
    type_size[i] = 1 + varint_size(seq_size[i]) + seq_size[i];
  }
  std::string out;
  out.reserve(type_size[static_cast<size_t>(depth)]);
  for (size_t i = static_cast<size_t>(depth); i >= 1; --i) {
    put_key(&out, 4, 2);
    put_varint(&out, seq_size[i]);
    put_key(&out, 1, 2);
    put_varint(&out, type_size[i - 1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hostile ONNX models. Each returns the model's bytes.

inline std::string bytes_of(const onnx::ModelProto& m) {
  std::string b;
  m.SerializeToString(&b);
  return b;
}

// A graph input declaring a dimension of 2^50.
inline std::string huge_input_dim_model() {
  auto m = scale_model(4);
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(0)->set_dim_value(int64_t{1} << 50);
  return bytes_of(m);
}

// An initializer whose dims multiply past 2^63: [2^31, 2^31, 2^31] (with 4 bytes of data).
inline std::string overflowing_dims_model() {
  auto m = scale_model(4);
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  for (int i = 0; i < 3; ++i) w->add_dims(int64_t{1} << 31);
  return bytes_of(m);
}

// An initializer with a negative dimension.
inline std::string negative_dim_model() {
  auto m = scale_model(4);
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, -4);
  return bytes_of(m);
}

// An initializer promising 2^30 floats (4 GiB) but holding 16 bytes: must be refused by the
// size check, not by trying to allocate 4 GiB.
inline std::string lying_initializer_model() {
  auto m = scale_model(4);
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, int64_t{1} << 30);
  return bytes_of(m);
}

// The weight `w` in external file `location` at `offset` (as a string, so malformed values can
// be written), `length` bytes (empty: no length entry).
inline std::string external_data_model(const std::string& location, const std::string& offset,
                                       const std::string& length = "16", int64_t n = 4) {
  auto m = scale_model(n);
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_kv = [&](const std::string& k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_kv("location", location);
  if (!offset.empty()) add_kv("offset", offset);
  if (!length.empty()) add_kv("length", length);
  return bytes_of(m);
}

// mul reads its own output.
inline std::string self_loop_model() {
  auto m = scale_model(4);
  m.mutable_graph()->mutable_node(0)->set_input(0, "y");
  m.mutable_graph()->mutable_input()->Clear();
  return bytes_of(m);
}

// a -> b -> c -> a.
inline std::string cycle_model() {
  auto m = empty_model("cycle");
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {4});
  set_type(g->add_output(), "c", onnx::TensorProto::FLOAT, {4});
  add_node(g, "Add", "A", {"x", "c"}, {"a"});
  add_node(g, "Relu", "B", {"a"}, {"b"});
  add_node(g, "Relu", "C", {"b"}, {"c"});
  return bytes_of(m);
}

// A valid model with one more graph input whose type nests `depth` sequences deep.
inline std::string deep_nesting_model(int depth) {
  std::string bytes = bytes_of(scale_model(4));
  std::string value_info;
  put_bytes_field(&value_info, 1, "deep");                     // ValueInfoProto.name
  put_bytes_field(&value_info, 2, nested_type_proto(depth));  // ValueInfoProto.type
  std::string graph;
  put_bytes_field(&graph, 11, value_info);  // GraphProto.input
  put_bytes_field(&bytes, 7, graph);        // ModelProto.graph: merges into the first one
  return bytes;
}

// prefix + i (spelled out: GCC 12's -Wrestrict misfires on "v" + std::to_string(i)).
inline std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

// x -> Relu -> Relu -> ... (`n` nodes) -> y.
inline std::string chain_model(int n) {
  auto m = empty_model("chain");
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 4});
  set_type(g->add_output(), numbered("v", n), onnx::TensorProto::FLOAT, {1, 4});
  g->mutable_node()->Reserve(n);
  for (int i = 0; i < n; ++i) {
    add_node(g, "Relu", numbered("r", i), {i == 0 ? std::string("x") : numbered("v", i)}, {numbered("v", i + 1)});
  }
  return bytes_of(m);
}

// x -> a = Relu(x); then `n` nodes all reading a (the worst case for a topological sort that
// keeps its ready list sorted); the output is the last one.
inline std::string fan_out_model(int n) {
  auto m = empty_model("fan_out");
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 4});
  set_type(g->add_output(), numbered("o", n - 1), onnx::TensorProto::FLOAT, {1, 4});
  g->mutable_node()->Reserve(n + 1);
  add_node(g, "Relu", "a", {"x"}, {"a"});
  for (int i = 0; i < n; ++i) add_node(g, "Relu", numbered("f", i), {"a"}, {numbered("o", i)});
  return bytes_of(m);
}

// Ops whose output size comes from a constant: ConstantOfShape [2^20, 2^20], Expand to
// [2^20, 2^20], Tile by [2^20, 2^20], Range of 2^40 elements. `op` picks one.
inline std::string huge_output_model(const std::string& op) {
  auto m = empty_model("huge_" + op);
  auto* g = m.mutable_graph();
  const int64_t big = int64_t{1} << 20;
  if (op == "ConstantOfShape") {
    add_i64_initializer(g, "shape", {big, big});
    add_node(g, "ConstantOfShape", "cos", {"shape"}, {"y"});
  } else if (op == "Expand") {
    set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 1});
    add_i64_initializer(g, "shape", {big, big});
    add_node(g, "Expand", "expand", {"x", "shape"}, {"y"});
  } else if (op == "Tile") {
    set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 1});
    add_i64_initializer(g, "repeats", {big, big});
    add_node(g, "Tile", "tile", {"x", "repeats"}, {"y"});
  } else {  // Range
    auto* start = g->add_initializer();
    start->set_name("start");
    start->set_data_type(onnx::TensorProto::INT64);
    start->add_int64_data(0);
    auto* limit = g->add_initializer();
    limit->CopyFrom(*start);
    limit->set_name("limit");
    limit->set_int64_data(0, int64_t{1} << 40);
    auto* delta = g->add_initializer();
    delta->CopyFrom(*start);
    delta->set_name("delta");
    delta->set_int64_data(0, 1);
    add_node(g, "Range", "range", {"start", "limit", "delta"}, {"y"});
  }
  set_type(g->add_output(), "y", op == "Range" ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT, {});
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  return bytes_of(m);
}

// y = x * w with w of `n` floats holding `bad` at element `at`.
inline std::string bad_weight_model(int64_t n, float bad, int64_t at) {
  auto m = scale_model(n, 0.5f, "encoder.weight");
  auto* w = m.mutable_graph()->mutable_initializer(0);
  std::string raw = w->raw_data();
  std::memcpy(&raw[static_cast<size_t>(at) * 4], &bad, 4);
  w->set_raw_data(raw);
  return bytes_of(m);
}

// ---------------------------------------------------------------------------------------------
// A tiny model with BERT-QA's interface for `ratel qa`: inputs input_ids / input_mask /
// segment_ids int64 [1, seq], output logits float [1, seq, 2] = embedding[ids] + mask + segment.
// `vocab` lists its tokens (one per line, as vocab.txt). `poison_token` >= 0 gives that token's
// start logit `poison` (an infinity, a NaN, ...).

inline std::string qa_vocab() {
  std::string v = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nteam\nwon\nwho\n?\n.\ndenver\nbroncos\nsuper\nbowl\n";
  for (char c = 'a'; c <= 'z'; ++c) v += std::string("##") + c + "\n";
  return v;
}

inline int qa_vocab_size() {
  const std::string v = qa_vocab();
  return static_cast<int>(std::count(v.begin(), v.end(), '\n'));
}

inline onnx::ModelProto qa_model(int seq, int poison_token = -1, float poison = 0) {
  auto m = empty_model("tiny_qa");
  auto* g = m.mutable_graph();
  for (const char* name : {"input_ids", "input_mask", "segment_ids"}) {
    set_type(g->add_input(), name, onnx::TensorProto::INT64, {1, seq});
  }
  set_type(g->add_output(), "logits", onnx::TensorProto::FLOAT, {1, seq, 2});
  const int vocab = qa_vocab_size();
  std::vector<float> table(static_cast<size_t>(vocab) * 2);
  for (int i = 0; i < vocab; ++i) {
    table[static_cast<size_t>(2 * i)] = static_cast<float>((i * 7) % 11) * 0.25f;
    table[static_cast<size_t>(2 * i + 1)] = static_cast<float>((i * 5) % 13) * 0.25f;
  }
  if (poison_token >= 0) table[static_cast<size_t>(2 * poison_token)] = poison;
  add_f32_initializer(g, "embedding", {vocab, 2}, table);
  add_i64_initializer(g, "axes", {2});
  add_node(g, "Gather", "embed", {"embedding", "input_ids"}, {"emb"});
  for (const char* name : {"input_mask", "segment_ids"}) {
    auto* cast = add_node(g, "Cast", std::string("cast_") + name, {name}, {std::string(name) + "_f"});
    auto* to = cast->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnx::TensorProto::FLOAT);
    add_node(g, "Unsqueeze", std::string("unsqueeze_") + name, {std::string(name) + "_f", "axes"},
             {std::string(name) + "_u"});
  }
  add_node(g, "Add", "add_mask", {"emb", "input_mask_u"}, {"emb_mask"});
  add_node(g, "Add", "add_segment", {"emb_mask", "segment_ids_u"}, {"logits"});
  return m;
}

// ---------------------------------------------------------------------------------------------
// Text and arrays.

// `depth` nested arrays: [[[[...]]]].
inline std::string nested_json(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A SQuAD file whose one answer list nests `depth` arrays deep.
inline std::string nested_squad_json(size_t depth) {
  return R"({"version":"1.1","data":[{"title":"t","paragraphs":[{"context":"the team won","qas":[{"id":"q1","question":"who won?","answers":)" +
         nested_json(depth) + "}]}]}]}";
}

// About `bytes` of text: sentences of words, punctuation, accented and CJK characters.
inline std::string big_text(size_t bytes) {
  static const char* const kWords[] = {"the", "Denver", "Broncos", "won", "Super", "Bowl", "50,", "caf\xc3\xa9",
                                       "na\xc3\xafve", "\xe4\xb8\xad\xe6\x96\x87", "(1895-1943)", "\xe2\x80\x94",
                                       "unbelievably", "AFC.", "\"quoted\"", "tab\there"};
  std::string text;
  text.reserve(bytes + 32);
  uint32_t state = 12345;
  while (text.size() < bytes) {
    state = state * 1103515245u + 12345u;
    text += kWords[(state >> 16) % (sizeof(kWords) / sizeof(kWords[0]))];
    text += (state >> 8) % 17 == 0 ? "\n" : " ";
  }
  return text;
}

// A .npy header claiming `shape_text` (e.g. "(1099511627776, 1099511627776)") of float32 with
// `data_bytes` bytes of data after it.
inline std::string lying_npy(const std::string& shape_text, size_t data_bytes) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(data_bytes, '\0');
  return out;
}

}  // namespace ratel::hardening
