// Progress reporting for long jobs: a redrawn bar with rate and ETA on a terminal, plain lines
// (every 10% or 30 s) when stderr is a file or pipe.
#pragma once

#include <chrono>
#include <string>

namespace ratel::cli {

class Progress {
 public:
  Progress(size_t total, std::string unit);
  void update(size_t done);
  void finish();

 private:
  size_t total_;
  std::string unit_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  size_t last_decile_ = 0;
};

}  // namespace ratel::cli
