#include "progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace ratel::cli {

namespace {
std::string duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02.0f}s", static_cast<int>(s / 60), s - 60 * static_cast<int>(s / 60));
  return fmt::format("{}h{:02}m", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
}
}  // namespace

Progress::Progress(size_t total, std::string unit)
    : total_(total), unit_(std::move(unit)), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_print_(start_) {}

void Progress::update(size_t done) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
  if (tty_) {
    if (done != total_ && std::chrono::duration<double>(now - last_print_).count() < 0.1) return;
    const int width = 30;
    const int filled = total_ ? static_cast<int>(width * done / total_) : width;
    std::fprintf(stderr, "\r[%s%s] %zu/%zu %s  %.1f %s/s  ETA %s   ", std::string(static_cast<size_t>(filled), '=').c_str(),
                 std::string(static_cast<size_t>(width - filled), ' ').c_str(), done, total_, unit_.c_str(), rate,
                 unit_.c_str(), duration(eta).c_str());
    last_print_ = now;
    return;
  }
  const size_t decile = total_ ? done * 10 / total_ : 10;
  if (decile > last_decile_ || std::chrono::duration<double>(now - last_print_).count() >= 30) {
    std::fprintf(stderr, "progress: %zu/%zu %s, %.1f %s/s, ETA %s\n", done, total_, unit_.c_str(), rate,
                 unit_.c_str(), duration(eta).c_str());
    last_decile_ = decile;
    last_print_ = now;
  }
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace ratel::cli
