// Bad values in inputs are reported by input name and position when the input is set.
#include <gtest/gtest.h>

#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;

std::shared_ptr<runtime::Model> embedding_model() {
  GraphBuilder g;
  auto* ids = g.input("input_ids", DType::kI32, {1, 6});
  auto* cast = g.op("Cast", {ids}, GraphBuilder::attrs({{"to", int64_t{7}}}));
  auto* emb = g.op("Gather", {g.random({10, 4}), cast}, GraphBuilder::attrs({{"axis", int64_t{0}}}));
  g.output(g.op("Relu", {emb}));
  auto m = runtime::Model::from_graph(g.build());
  EXPECT_TRUE(m.ok()) << m.status().message();
  return *m;
}

TEST(InputValidationTest, OutOfVocabularyIdNamesInputAndPosition) {
  auto s = runtime::Session::create(embedding_model());
  ASSERT_TRUE(s.ok());
  const Status bad = (*s)->set_input("input_ids", Tensor::from_vector<int32_t>({1, 2, 3, 12, 0, 0}, {1, 6}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("input 'input_ids': element 3 is 12, outside the 10 rows"), std::string::npos)
      << bad.message();
  EXPECT_FALSE((*s)->run().ok()) << "a rejected input must not stay bound";
  ASSERT_TRUE((*s)->set_input("input_ids", Tensor::from_vector<int32_t>({1, 2, 3, 9, 0, -1}, {1, 6})).ok());
  EXPECT_TRUE((*s)->run().ok());
}

}  // namespace
}  // namespace ratel
