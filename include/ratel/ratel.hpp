// Thin C++ wrappers over the C API: RAII handles; failures throw ratel::Error.
#ifndef RATEL_RATEL_HPP_
#define RATEL_RATEL_HPP_

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ratel/ratel.h"

namespace ratel {

class Error : public std::runtime_error {
 public:
  Error(ratel_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  ratel_status status() const { return status_; }

 private:
  ratel_status status_;
};

inline void check(ratel_status s) {
  if (s != RATEL_OK) throw Error(s, ratel_last_error());
}

class ModelHandle {
 public:
  explicit ModelHandle(const std::string& path, const std::string& input_shapes = "") {
    ratel_model* m = nullptr;
    check(ratel_model_load(path.c_str(), input_shapes.empty() ? nullptr : input_shapes.c_str(), &m));
    model_.reset(m);
  }
  size_t num_inputs() const { return ratel_model_num_inputs(model_.get()); }
  size_t num_outputs() const { return ratel_model_num_outputs(model_.get()); }
  ratel_tensor_view input(size_t i) const {
    ratel_tensor_view v{};
    check(ratel_model_input(model_.get(), i, &v));
    return v;
  }
  ratel_tensor_view output(size_t i) const {
    ratel_tensor_view v{};
    check(ratel_model_output(model_.get(), i, &v));
    return v;
  }
  const ratel_model* get() const { return model_.get(); }

 private:
  struct Free {
    void operator()(ratel_model* m) const { ratel_model_free(m); }
  };
  std::unique_ptr<ratel_model, Free> model_;
};

class SessionHandle {
 public:
  explicit SessionHandle(const ModelHandle& model, int threads = 1) {
    ratel_session* s = nullptr;
    const ratel_session_options options{threads, 0};
    check(ratel_session_create(model.get(), &options, &s));
    session_.reset(s);
  }
  template <typename T>
  void set_input(const std::string& name, ratel_dtype dtype, const std::vector<int64_t>& dims,
                 const std::vector<T>& data) {
    check(ratel_session_set_input(session_.get(), name.c_str(), dtype, dims.data(), dims.size(),
                                  data.data()));
  }
  void run() { check(ratel_session_run(session_.get())); }
  ratel_tensor_view output(size_t i) const {
    ratel_tensor_view v{};
    check(ratel_session_get_output(session_.get(), i, &v));
    return v;
  }

 private:
  struct Free {
    void operator()(ratel_session* s) const { ratel_session_free(s); }
  };
  std::unique_ptr<ratel_session, Free> session_;
};

}  // namespace ratel

#endif  // RATEL_RATEL_HPP_
