// libFuzzer target: arbitrary bytes as a .rbm model bundle -> the loader `ratel_runtime` and
// `ratel bundle` use (header, section table, checksums, metadata, graph decode, inference over
// the decoded graph), then a session and a run with zero inputs when the graph is small.
//
// Every section carries a checksum, so almost every mutation of a valid bundle would stop at the
// first checksum check and the decoders behind it would never see hostile bytes. A hostile file
// can carry valid checksums, so the target re-seals its input first: wherever the header and
// table are in bounds, it recomputes each section's XXH64 and the header's, exactly as the
// writer would. (Inputs whose first byte is odd are left as they are, so the checks themselves
// are fuzzed too.)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bundle/bundle.h"
#include "bundle/checksum.h"
#include "bundle/format.h"
#include "runtime/model.h"

namespace {

namespace fmt_ = ratel::bundle;

template <typename T>
T load(const std::vector<std::byte>& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}
template <typename T>
void store(std::vector<std::byte>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}

void reseal(std::vector<std::byte>& b) {
  if (b.size() < fmt_::kHeaderSize) return;
  const uint32_t count = load<uint32_t>(b, fmt_::header::kSectionCount);
  if (count == 0 || count > fmt_::kMaxSections) return;
  const size_t table_end = fmt_::kHeaderSize + count * fmt_::kSectionEntrySize;
  if (table_end > b.size()) return;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = fmt_::kHeaderSize + i * fmt_::kSectionEntrySize;
    const uint64_t offset = load<uint64_t>(b, at + fmt_::entry::kOffset);
    const uint64_t size = load<uint64_t>(b, at + fmt_::entry::kSize);
    if (offset > b.size() || size > b.size() - offset) continue;
    const std::span<const std::byte> data(b.data() + offset, static_cast<size_t>(size));
    store<uint64_t>(b, at + fmt_::entry::kChecksum, ratel::bundle::xxh64(data));
  }
  ratel::bundle::Xxh64 h;
  h.update(std::span<const std::byte>(b.data(), fmt_::header::kChecksum));
  h.update(std::span<const std::byte>(b.data() + fmt_::kHeaderSize, table_end - fmt_::kHeaderSize));
  store<uint64_t>(b, fmt_::header::kChecksum, h.digest());
}

constexpr int64_t kMaxElements = 4096;
constexpr size_t kMaxNodes = 256;

bool small_enough(const ratel::ir::Graph& g) {
  if (g.nodes().size() > kMaxNodes) return false;
  for (const auto& v : g.values()) {
    if (!v->has_shape) return false;
    auto n = ratel::checked_numel(v->shape);
    if (!n.ok() || *n > kMaxElements) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    ratel::set_allocation_limit(size_t{256} << 20);
    return true;
  }();
  (void)init;
  // The loader maps weights in place and checks 64-byte alignment of the data: copy the input
  // into an aligned buffer, as a mapped file would be (the fuzzer's own buffer is not aligned).
  auto bytes = std::make_shared<std::vector<std::byte>>(size + 64);
  const size_t pad = (64 - reinterpret_cast<uintptr_t>(bytes->data()) % 64) % 64;
  std::vector<std::byte> work(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + size);
  if (size == 0 || (data[0] & 1) == 0) reseal(work);
  if (size) std::memcpy(bytes->data() + pad, work.data(), size);
  auto bundle = ratel::bundle::Bundle::parse(std::span<const std::byte>(bytes->data() + pad, size), bytes, "fuzz.rbm");
  if (!bundle.ok()) return 0;
  auto loaded = ratel::bundle::load_model(*bundle);
  if (!loaded.ok() || !small_enough(loaded->model->graph())) return 0;
  auto session = ratel::runtime::Session::create(loaded->model);
  if (!session.ok()) return 0;
  for (size_t i = 0; i < loaded->model->inputs().size(); ++i) {
    const ratel::ir::Value& v = *loaded->model->inputs()[i];
    auto t = ratel::Tensor::allocate(v.dtype, v.shape);
    if (!t.ok()) return 0;
    std::memset(t->mutable_raw(), 0, t->nbytes());
    if (!(*session)->set_input(i, *t).ok()) return 0;
  }
  (void)(*session)->run();
  return 0;
}
