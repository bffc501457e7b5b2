#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/dtype.h"

namespace ratel {
namespace {

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Every half value converts to float and back unchanged (NaNs stay NaN).
TEST(HalfTest, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    const uint16_t back = float_to_half(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(half_to_float(back))) << h;
    } else {
      EXPECT_EQ(back, h) << "half bits " << h;
    }
  }
}

// float -> half rounds to the nearest half, ties to even: check against a brute-force search
// over all finite halves for a sweep of float bit patterns.
TEST(HalfTest, RoundsToNearestEven) {
  // up to 65520, beyond which the correct result is infinity (checked below)
  for (uint32_t u = 0x33000000u; u < 0x477ff000u; u += 0x1357u) {
    const float f = bits_to_float(u);
    const uint16_t h = float_to_half(f);
    const double err = std::fabs(static_cast<double>(half_to_float(h)) - f);
    // neighbours must not be strictly closer
    for (int d : {-1, 1}) {
      const int n = static_cast<int>(h) + d;
      if (n < 0 || n >= 0x7c00) continue;
      const double nerr = std::fabs(static_cast<double>(half_to_float(static_cast<uint16_t>(n))) - f);
      EXPECT_LE(err, nerr) << "float " << f;
      if (err == nerr) {
        EXPECT_EQ(h & 1, 0) << "tie not to even for " << f;
      }
    }
  }
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
}

TEST(BFloat16Test, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST(DTypeTest, NamesParseBack) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kF64, DType::kI8, DType::kU8,
                  DType::kI16, DType::kU16, DType::kI32, DType::kU32, DType::kI64, DType::kU64,
                  DType::kBool}) {
    DType parsed;
    ASSERT_TRUE(parse_dtype(dtype_name(t), &parsed));
    EXPECT_EQ(parsed, t);
  }
  DType d;
  EXPECT_FALSE(parse_dtype("float128", &d));
}

}  // namespace
}  // namespace ratel
