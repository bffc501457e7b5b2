// The public C API and its C++ wrapper, on a real .onnx file.
#include <gtest/gtest.h>

#include <cstring>

#include "ratel/ratel.h"
#include "ratel/ratel.hpp"
#include "support/onnx_models.h"

namespace ratel {
namespace {

using testing::affine_model;
using testing::save;
using testing::TempDir;

TEST(CApiTest, LoadRunAndReadOutputs) {
  TempDir dir;
  const std::string path = save(dir, affine_model());
  ratel_model* model = nullptr;
  ASSERT_EQ(ratel_model_load(path.c_str(), "x=2,3", &model), RATEL_OK) << ratel_last_error();
  EXPECT_EQ(ratel_model_num_inputs(model), 1u);
  EXPECT_EQ(ratel_model_num_outputs(model), 1u);
  ratel_tensor_view in{};
  ASSERT_EQ(ratel_model_input(model, 0, &in), RATEL_OK);
  EXPECT_STREQ(in.name, "x");
  EXPECT_EQ(in.dtype, RATEL_DTYPE_FLOAT32);
  ASSERT_EQ(in.rank, 2u);
  EXPECT_EQ(in.dims[0], 2);
  EXPECT_EQ(in.dims[1], 3);

  ratel_session* session = nullptr;
  ASSERT_EQ(ratel_session_create(model, nullptr, &session), RATEL_OK) << ratel_last_error();
  const float x[6] = {1, 1, 1, 0, 1, 2};
  const int64_t dims[2] = {2, 3};
  ASSERT_EQ(ratel_session_set_input(session, "x", RATEL_DTYPE_FLOAT32, dims, 2, x), RATEL_OK);
  ASSERT_EQ(ratel_session_run(session), RATEL_OK) << ratel_last_error();
  ratel_tensor_view out{};
  ASSERT_EQ(ratel_session_get_output(session, 0, &out), RATEL_OK);
  EXPECT_STREQ(out.name, "y");
  ASSERT_EQ(out.nbytes, 6 * sizeof(float));
  const float want[6] = {3, 4, 5, 1, 4, 9};
  EXPECT_EQ(std::memcmp(out.data, want, sizeof(want)), 0);
  ratel_session_free(session);
  ratel_model_free(model);
}

TEST(CApiTest, ErrorsAreStatusesWithMessages) {
  ratel_model* model = nullptr;
  EXPECT_EQ(ratel_model_load("/nonexistent.onnx", nullptr, &model), RATEL_NOT_FOUND);
  EXPECT_NE(std::strstr(ratel_last_error(), "/nonexistent.onnx"), nullptr);
  EXPECT_EQ(model, nullptr);
  EXPECT_EQ(ratel_model_load(nullptr, nullptr, &model), RATEL_INVALID_ARGUMENT);
  EXPECT_EQ(ratel_session_run(nullptr), RATEL_INVALID_ARGUMENT);

  TempDir dir;
  const std::string path = save(dir, affine_model());
  EXPECT_EQ(ratel_model_load(path.c_str(), "x=1,x", &model), RATEL_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(ratel_last_error(), "bad shape"), nullptr) << ratel_last_error();
  ASSERT_EQ(ratel_model_load(path.c_str(), "x=1,3", &model), RATEL_OK);
  ratel_session* session = nullptr;
  ASSERT_EQ(ratel_session_create(model, nullptr, &session), RATEL_OK);
  const int64_t dims[2] = {1, 4};
  const float x[4] = {};
  EXPECT_EQ(ratel_session_set_input(session, "x", RATEL_DTYPE_FLOAT32, dims, 2, x), RATEL_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(ratel_last_error(), "must have shape [1, 3]"), nullptr) << ratel_last_error();
  EXPECT_EQ(ratel_session_set_input(session, "nope", RATEL_DTYPE_FLOAT32, dims, 2, x), RATEL_NOT_FOUND);
  EXPECT_EQ(ratel_session_run(session), RATEL_INVALID_ARGUMENT);  // input never set
  EXPECT_NE(std::strstr(ratel_last_error(), "input 'x' was not set"), nullptr) << ratel_last_error();
  ratel_session_free(session);
  ratel_model_free(model);
}

TEST(CApiTest, CppWrapperThrowsRatelError) {
  TempDir dir;
  const std::string path = save(dir, affine_model());
  ModelHandle model(path, "x=1,3");
  SessionHandle session(model);
  session.set_input<float>("x", RATEL_DTYPE_FLOAT32, {1, 3}, {1, 2, 3});
  session.run();
  const ratel_tensor_view out = session.output(0);
  EXPECT_EQ(static_cast<const float*>(out.data)[2], 13.0f);
  try {
    ModelHandle bad("/nonexistent.onnx");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), RATEL_NOT_FOUND);
  }
}

}  // namespace
}  // namespace ratel
