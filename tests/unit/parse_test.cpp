#include <gtest/gtest.h>

#include "core/parse.h"

namespace ratel {
namespace {

TEST(ParseShapeTest, AcceptsTheUsualSpellings) {
  for (const char* s : {"1 384", "1,384", "1x384", "[1, 384]", "(1,384)", "  1   384 "}) {
    auto r = parse_shape(s);
    ASSERT_TRUE(r.ok()) << s << ": " << r.status().message();
    EXPECT_EQ(*r, (Shape{1, 384})) << s;
  }
}

TEST(ParseShapeTest, RejectsMalformedShapesWithTheText) {
  for (const char* s : {"", "1,x", "x1", "1 -3", "1.5", "[1 384", "abc", "1 99999999999999999999"}) {
    auto r = parse_shape(s);
    ASSERT_FALSE(r.ok()) << "'" << s << "' parsed";
    EXPECT_NE(r.status().message().find("bad shape"), std::string::npos) << r.status().message();
  }
}

TEST(ParseShapeTest, ListsSplitOnSemicolons) {
  auto r = parse_shape_list("1 384;1 384;1 384");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  EXPECT_FALSE(parse_shape_list("1 384;;1 384").ok());
}

}  // namespace
}  // namespace ratel
