#include "runtime/profile.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace ratel::runtime {
namespace {

std::string op_name(const ir::Node& n) { return n.domain.empty() ? n.op_type : n.domain + "." + n.op_type; }

double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// A JSON string literal: quotes, backslashes and control characters escaped (names come from
// model files).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string chrome_trace_json(const std::vector<ProfiledRun>& runs) {
  std::string out = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [";
  double offset_us = 0;
  bool first = true;
  for (size_t r = 0; r < runs.size(); ++r) {
    double end_us = offset_us;
    for (const StepTime& t : runs[r]) {
      const double ts = offset_us + static_cast<double>(t.start_ns) / 1e3;
      const double dur = static_cast<double>(t.end_ns - t.start_ns) / 1e3;
      const std::string op = json_string(op_name(*t.node));
      out += fmt::format("{}\n {{\"name\": {}, \"cat\": {}, \"ph\": \"X\", \"ts\": {:.3f}, \"dur\": {:.3f}, "
                         "\"pid\": 1, \"tid\": 1, \"args\": {{\"op\": {}, \"kernel\": {}, \"run\": {}}}}}",
                         first ? "" : ",", json_string(t.node->name.empty() ? op_name(*t.node) : t.node->name), op, ts,
                         dur, op, json_string(t.implementation), r);
      first = false;
      end_us = std::max(end_us, ts + dur);
    }
    offset_us = end_us + 100;  // a visible gap between runs
  }
  return out + "\n]}\n";
}

std::string profile_table(const std::vector<ProfiledRun>& runs, size_t top) {
  if (runs.empty()) return "";
  const size_t first = runs.size() > 1 ? 1 : 0;
  const double n = static_cast<double>(runs.size() - first);
  struct Op {
    int64_t ns = 0;
    size_t steps = 0;
    std::set<std::string> kernels;
  };
  std::map<std::string, Op> ops;
  std::map<const ir::Node*, std::pair<int64_t, std::string>> nodes;
  int64_t total = 0;
  for (size_t r = first; r < runs.size(); ++r) {
    for (const StepTime& t : runs[r]) {
      const int64_t d = t.end_ns - t.start_ns;
      Op& op = ops[op_name(*t.node)];
      op.ns += d;
      ++op.steps;
      op.kernels.insert(t.implementation);
      nodes[t.node].first += d;
      nodes[t.node].second = t.implementation;
      total += d;
    }
  }
  std::vector<std::pair<std::string, Op>> sorted(ops.begin(), ops.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
  std::string s = fmt::format("profile: kernel time per run {:.3f} ms ({}), by op:\n", ms(total) / n,
                              first ? fmt::format("mean of runs 2..{}; run 1 is warm-up", runs.size())
                                    : std::string("one run"));
  s += fmt::format("  {:<24} {:>6} {:>10} {:>6}  kernels\n", "op", "steps", "ms", "%");
  for (const auto& [name, op] : sorted) {
    std::string kernels;
    for (const std::string& k : op.kernels) kernels += (kernels.empty() ? "" : "; ") + k;
    s += fmt::format("  {:<24} {:>6} {:>10.3f} {:>5.1f}%  {}\n", name, static_cast<double>(op.steps) / n,
                     ms(op.ns) / n, total ? 100.0 * static_cast<double>(op.ns) / static_cast<double>(total) : 0.0,
                     kernels);
  }
  std::vector<std::pair<const ir::Node*, std::pair<int64_t, std::string>>> slow(nodes.begin(), nodes.end());
  std::sort(slow.begin(), slow.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  s += fmt::format("  slowest nodes:\n");
  for (size_t i = 0; i < std::min(top, slow.size()); ++i) {
    const auto& [node, v] = slow[i];
    s += fmt::format("  {:>10.3f} ms  {} ({}, {})\n", ms(v.first) / n, node->name, op_name(*node), v.second);
  }
  return s;
}

}  // namespace ratel::runtime
