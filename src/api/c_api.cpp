// The C API over runtime::Model / runtime::Session.
#include <cstring>
#include <string>

#include "core/parse.h"
#include "ratel/ratel.h"
#include "runtime/model.h"

struct ratel_model {
  std::shared_ptr<ratel::runtime::Model> model;
};

struct ratel_session {
  std::unique_ptr<ratel::runtime::Session> session;
};

namespace {

thread_local std::string g_last_error;

ratel_status fail(const ratel::Status& s) {
  g_last_error = s.message();
  switch (s.code()) {
    case ratel::StatusCode::kOk: return RATEL_OK;
    case ratel::StatusCode::kInvalidArgument: return RATEL_INVALID_ARGUMENT;
    case ratel::StatusCode::kNotFound: return RATEL_NOT_FOUND;
    case ratel::StatusCode::kUnsupported: return RATEL_UNSUPPORTED;
    case ratel::StatusCode::kCorrupt: return RATEL_CORRUPT;
    case ratel::StatusCode::kOutOfRange: return RATEL_OUT_OF_RANGE;
    case ratel::StatusCode::kIo: return RATEL_IO_ERROR;
    case ratel::StatusCode::kInternal: return RATEL_INTERNAL;
  }
  return RATEL_INTERNAL;
}

ratel_status null_argument(const char* what) {
  g_last_error = std::string(what) + " is NULL";
  return RATEL_INVALID_ARGUMENT;
}

constexpr ratel::DType kDTypes[] = {
    ratel::DType::kUndefined, ratel::DType::kF32, ratel::DType::kF16, ratel::DType::kBF16,
    ratel::DType::kF64,       ratel::DType::kI8,  ratel::DType::kU8,  ratel::DType::kI16,
    ratel::DType::kU16,       ratel::DType::kI32, ratel::DType::kU32, ratel::DType::kI64,
    ratel::DType::kU64,       ratel::DType::kBool,
};

bool to_dtype(ratel_dtype d, ratel::DType* out) {
  const int i = static_cast<int>(d);
  if (i <= 0 || i >= static_cast<int>(std::size(kDTypes))) return false;
  *out = kDTypes[i];
  return true;
}

ratel_dtype from_dtype(ratel::DType d) {
  for (size_t i = 1; i < std::size(kDTypes); ++i) {
    if (kDTypes[i] == d) return static_cast<ratel_dtype>(i);
  }
  return RATEL_DTYPE_FLOAT32;
}

void describe(const ratel::ir::Value& v, ratel_tensor_view* out) {
  out->name = v.name.c_str();
  out->dtype = from_dtype(v.dtype);
  out->rank = v.shape.size();
  out->dims = v.shape.data();
  out->data = nullptr;
  out->nbytes = static_cast<size_t>(ratel::numel(v.shape)) * ratel::dtype_size(v.dtype);
}

}  // namespace

extern "C" {

const char* ratel_last_error(void) { return g_last_error.c_str(); }
const char* ratel_version(void) { return "0.1.0"; }

ratel_status ratel_model_load(const char* path, const char* input_shapes, ratel_model** out) {
  if (!path) return null_argument("path");
  if (!out) return null_argument("out");
  *out = nullptr;
  ratel::runtime::LoadOptions options;
  if (input_shapes && *input_shapes) {
    for (const std::string& item : ratel::split_list(input_shapes, ';')) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return fail(ratel::invalid_argument("input shape '{}' must look like name=1,384", item));
      }
      auto shape = ratel::parse_shape(item.substr(eq + 1));
      if (!shape.ok()) return fail(shape.status());
      options.input_shapes[item.substr(0, eq)] = *shape;
    }
  }
  auto model = ratel::runtime::Model::load_onnx(path, options);
  if (!model.ok()) return fail(model.status());
  *out = new ratel_model{std::move(model).value()};
  return RATEL_OK;
}

void ratel_model_free(ratel_model* model) { delete model; }

size_t ratel_model_num_inputs(const ratel_model* model) {
  return model ? model->model->inputs().size() : 0;
}
size_t ratel_model_num_outputs(const ratel_model* model) {
  return model ? model->model->outputs().size() : 0;
}

ratel_status ratel_model_input(const ratel_model* model, size_t i, ratel_tensor_view* out) {
  if (!model) return null_argument("model");
  if (!out) return null_argument("out");
  if (i >= model->model->inputs().size()) {
    return fail(ratel::invalid_argument("input index {} out of range", i));
  }
  describe(*model->model->inputs()[i], out);
  return RATEL_OK;
}

ratel_status ratel_model_output(const ratel_model* model, size_t i, ratel_tensor_view* out) {
  if (!model) return null_argument("model");
  if (!out) return null_argument("out");
  if (i >= model->model->outputs().size()) {
    return fail(ratel::invalid_argument("output index {} out of range", i));
  }
  describe(*model->model->outputs()[i], out);
  return RATEL_OK;
}

ratel_status ratel_session_create(const ratel_model* model, const ratel_session_options* options,
                                  ratel_session** out) {
  if (!model) return null_argument("model");
  if (!out) return null_argument("out");
  ratel::runtime::SessionOptions so;
  if (options) {
    so.threads = options->threads;
    so.executor = options->reference ? ratel::runtime::ExecutorKind::kReference : ratel::runtime::ExecutorKind::kFast;
  }
  auto s = ratel::runtime::Session::create(model->model, so);
  if (!s.ok()) return fail(s.status());
  *out = new ratel_session{std::move(s).value()};
  return RATEL_OK;
}

void ratel_session_free(ratel_session* session) { delete session; }

ratel_status ratel_session_set_input(ratel_session* session, const char* name, ratel_dtype dtype,
                                     const int64_t* dims, size_t rank, const void* data) {
  if (!session) return null_argument("session");
  if (!name) return null_argument("name");
  if (rank && !dims) return null_argument("dims");
  ratel::DType t;
  if (!to_dtype(dtype, &t)) return fail(ratel::invalid_argument("invalid dtype {}", static_cast<int>(dtype)));
  ratel::Shape shape(dims, dims + rank);
  auto tensor = ratel::Tensor::allocate(t, shape);
  if (!tensor.ok()) return fail(tensor.status());
  if (tensor->nbytes()) {
    if (!data) return null_argument("data");
    std::memcpy(tensor->mutable_raw(), data, tensor->nbytes());
  }
  ratel::Status s = session->session->set_input(name, *tensor);
  return s.ok() ? RATEL_OK : fail(s);
}

ratel_status ratel_session_run(ratel_session* session) {
  if (!session) return null_argument("session");
  ratel::Status s = session->session->run();
  return s.ok() ? RATEL_OK : fail(s);
}

ratel_status ratel_session_get_output(const ratel_session* session, size_t i,
                                      ratel_tensor_view* out) {
  if (!session) return null_argument("session");
  if (!out) return null_argument("out");
  const auto& outputs = session->session->outputs();
  if (i >= outputs.size()) {
    return fail(ratel::invalid_argument("output {} is not available (run the session first?)", i));
  }
  const ratel::Tensor& t = outputs[i];
  out->name = session->session->model().outputs()[i]->name.c_str();
  out->dtype = from_dtype(t.dtype());
  out->rank = t.shape().size();
  out->dims = t.shape().data();
  out->data = t.raw();
  out->nbytes = t.nbytes();
  return RATEL_OK;
}

}  // extern "C"
