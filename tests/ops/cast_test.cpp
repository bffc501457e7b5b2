// Cast and CastLike: every dtype pair, float->int truncation and saturation, integer wrapping,
// correct single rounding into f16/bf16/f32, bool rules, opset differences and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../support/op_harness.h"
#include "ops/op_util.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

// ONNX TensorProto.DataType codes, written out here independently of the library's table.
const std::vector<std::pair<DType, int64_t>> kTypeCodes = {
    {DType::kF32, 1},  {DType::kU8, 2},   {DType::kI8, 3},   {DType::kU16, 4},  {DType::kI16, 5},
    {DType::kI32, 6},  {DType::kI64, 7},  {DType::kBool, 9}, {DType::kF16, 10}, {DType::kF64, 11},
    {DType::kU32, 12}, {DType::kU64, 13}, {DType::kBF16, 16}};

int64_t code_of(DType t) {
  for (const auto& [d, c] : kTypeCodes) {
    if (d == t) return c;
  }
  ADD_FAILURE() << "no code for " << dtype_name(t);
  return 0;
}

// A tensor of any dtype holding `values` (each exactly representable in that dtype).
Tensor make_tensor(DType t, const std::vector<double>& values) {
  Tensor out;
  Status s = ops::dispatch<ops::AllTypes>(t, [&](auto tag) -> Status {
    using T = decltype(tag);
    std::vector<T> v;
    for (double x : values) {
      if constexpr (std::is_same_v<T, bool>) {
        v.push_back(x != 0);
      } else if constexpr (std::is_integral_v<T>) {
        v.push_back(static_cast<T>(x));
      } else {
        v.push_back(ops::Arith<T>::store(static_cast<typename ops::Arith<T>::type>(x)));
      }
    }
    out = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok());
  return out;
}

Result<Tensor> cast(const Tensor& x, DType to, int opset = 13) {
  OpCall c{"Cast", opset};
  c.inputs = {x};
  c.attrs.set("to", code_of(to));
  RATEL_ASSIGN_OR_RETURN(auto outs, run_op(c));
  return outs[0];
}

void expect_error(const OpCall& c, const std::string& fragment) {
  auto r = run_op(c);
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "not one line";
}

TEST(CastTest, EveryPairOfTypesConvertsValuesEveryTypeHolds) {
  // 0, 1, 5 and 100 are exact in every numeric type; bool keeps "nonzero".
  const std::vector<double> values{0, 1, 5, 100};
  for (const auto& [from, from_code] : kTypeCodes) {
    for (const auto& [to, to_code] : kTypeCodes) {
      const Tensor x = make_tensor(from, from == DType::kBool ? std::vector<double>{0, 1} : values);
      auto r = cast(x, to);
      ASSERT_TRUE(r.ok()) << dtype_name(from) << "->" << dtype_name(to) << ": " << r.status().message();
      ASSERT_EQ(r->dtype(), to);
      ASSERT_EQ(r->shape(), x.shape());
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double want = to == DType::kBool ? (x.get_as_double(i) != 0 ? 1 : 0) : x.get_as_double(i);
        EXPECT_EQ(r->get_as_double(i), want) << dtype_name(from) << "->" << dtype_name(to) << " element " << i;
      }
    }
  }
}

TEST(CastTest, FloatToIntegerTruncatesAndSaturatesWithoutUB) {
  const float kNaN = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({2.7f, -2.7f, 0.5f, -0.5f, kNaN, INFINITY, -INFINITY, 3e9f, -3e9f}, {9});
  auto i32 = cast(x, DType::kI32);
  ASSERT_TRUE(i32.ok()) << i32.status().message();
  const int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(i32->to_vector<int32_t>(), (std::vector<int32_t>{2, -2, 0, 0, 0, hi, lo, hi, lo}));
  auto u8 = cast(x, DType::kU8);
  ASSERT_TRUE(u8.ok());
  EXPECT_EQ(u8->to_vector<uint8_t>(), (std::vector<uint8_t>{2, 0, 0, 0, 0, 255, 0, 255, 0}));
  auto i64 = cast(Tensor::from_vector<double>({9.3e18, -9.3e18, 9007199254740993.0, -0x1p63}, {4}), DType::kI64);
  ASSERT_TRUE(i64.ok());
  EXPECT_EQ(i64->to_vector<int64_t>(),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                  9007199254740992, std::numeric_limits<int64_t>::min()}));
  auto u64 = cast(Tensor::from_vector<double>({1.8e19, 2e19, -1}, {3}), DType::kU64);
  ASSERT_TRUE(u64.ok());
  EXPECT_EQ(u64->to_vector<uint64_t>(),
            (std::vector<uint64_t>{18000000000000000000ull, std::numeric_limits<uint64_t>::max(), 0}));
  std::vector<Half> h{Half{float_to_half(-7.9f)}, Half{0x7c00}};  // -7.9, +inf
  auto from_half = cast(Tensor::from_vector(h, {2}), DType::kI16);
  ASSERT_TRUE(from_half.ok());
  EXPECT_EQ(from_half->to_vector<int16_t>(), (std::vector<int16_t>{-7, 32767}));
}

TEST(CastTest, IntegerNarrowingWraps) {
  auto u8 = cast(Tensor::from_vector<int32_t>({300, -1, 255, -129}, {4}), DType::kU8);
  ASSERT_TRUE(u8.ok());
  EXPECT_EQ(u8->to_vector<uint8_t>(), (std::vector<uint8_t>{44, 255, 255, 127}));
  auto i8 = cast(Tensor::from_vector<uint64_t>({0xffffffffffffff80ull, 200}, {2}), DType::kI8);
  ASSERT_TRUE(i8.ok());
  EXPECT_EQ(i8->to_vector<int8_t>(), (std::vector<int8_t>{-128, -56}));
  auto u64 = cast(Tensor::from_vector<int16_t>({-1}, {1}), DType::kU64);
  ASSERT_TRUE(u64.ok());
  EXPECT_EQ(u64->to_vector<uint64_t>()[0], std::numeric_limits<uint64_t>::max());
}

TEST(CastTest, BoolIsNonzeroAndNaNIsTrue) {
  auto b = cast(Tensor::from_vector<float>({0.0f, -0.0f, NAN, 1e-30f, -2}, {5}), DType::kBool);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->to_vector<bool>(), (std::vector<bool>{false, false, true, true, true}));
  auto f = cast(Tensor::from_vector<bool>({true, false}, {2}), DType::kF16);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->to_vector<Half>()[0].bits, 0x3c00);  // 1.0
  EXPECT_EQ(f->to_vector<Half>()[1].bits, 0x0000);
}

TEST(CastTest, EveryHalfRoundTripsThroughFloatAndDouble) {
  std::vector<Half> all;
  for (uint32_t b = 0; b < 65536; ++b) all.push_back(Half{static_cast<uint16_t>(b)});
  const Tensor h = Tensor::from_vector(all, {65536});
  for (DType wide : {DType::kF32, DType::kF64}) {
    auto up = cast(h, wide);
    ASSERT_TRUE(up.ok());
    auto down = cast(*up, DType::kF16);
    ASSERT_TRUE(down.ok());
    const auto back = down->to_vector<Half>();
    for (uint32_t b = 0; b < 65536; ++b) {
      const bool nan = (b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0;
      if (nan) {
        EXPECT_TRUE(std::isnan(half_to_float(back[b].bits))) << std::hex << b;
      } else {
        EXPECT_EQ(back[b].bits, b) << std::hex << b;
      }
    }
  }
}

TEST(CastTest, DoubleToHalfRoundsOnceNotTwice) {
  // 1 + 2^-11 + 2^-40 is just above the midpoint between the halves 1 and 1 + 2^-10. Rounded to
  // float first it becomes the midpoint exactly (2^-40 is below float's ulp), which then rounds
  // to even, 1.0: the wrong answer. Correct rounding gives 1 + 2^-10.
  const double d = 1 + 0x1p-11 + 0x1p-40;
  auto h = cast(Tensor::from_vector<double>({d, -d}, {2}), DType::kF16);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->to_vector<Half>()[0].bits, float_to_half(1 + 0x1p-10f));
  EXPECT_EQ(h->to_vector<Half>()[1].bits, float_to_half(-(1 + 0x1p-10f)));
  // The same trap for bfloat16 (8 significant bits): 1 + 2^-8 + 2^-40 rounds up to 1 + 2^-7.
  auto b = cast(Tensor::from_vector<double>({1 + 0x1p-8 + 0x1p-40}, {1}), DType::kBF16);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(bf16_to_float(b->to_vector<BFloat16>()[0].bits), 1 + 0x1p-7f);
  // Overflow: beyond the largest half (65504) by at least half an ulp is inf.
  auto big = cast(Tensor::from_vector<double>({65519.99, 65520, 1e300, -1e300}, {4}), DType::kF16);
  ASSERT_TRUE(big.ok());
  const auto bv = big->to_vector<Half>();
  EXPECT_EQ(bv[0].bits, 0x7bff);
  EXPECT_EQ(bv[1].bits, 0x7c00);
  EXPECT_EQ(bv[2].bits, 0x7c00);
  EXPECT_EQ(bv[3].bits, 0xfc00);
}

TEST(CastTest, LargeIntegersRoundOnceIntoNarrowFloats) {
  // 2^60 + 2^52 + 1 lies just above the midpoint between the bfloat16 values 2^60 and
  // 2^60 + 2^53. Converted to double first, the +1 is lost and the midpoint rounds to even
  // (2^60): wrong. Correct rounding gives 2^60 + 2^53.
  const int64_t v = (int64_t{1} << 60) + (int64_t{1} << 52) + 1;
  auto b = cast(Tensor::from_vector<int64_t>({v, -v}, {2}), DType::kBF16);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(bf16_to_float(b->to_vector<BFloat16>()[0].bits), 0x1p60f + 0x1p53f);
  EXPECT_EQ(bf16_to_float(b->to_vector<BFloat16>()[1].bits), -(0x1p60f + 0x1p53f));
  // float: 2^60 + 2^36 + 1 is above the midpoint of float's 2^37 spacing there.
  const int64_t w = (int64_t{1} << 60) + (int64_t{1} << 36) + 1;
  auto f = cast(Tensor::from_vector<int64_t>({w}, {1}), DType::kF32);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->to_vector<float>()[0], 0x1p60f + 0x1p37f);
  auto u = cast(Tensor::from_vector<uint64_t>({std::numeric_limits<uint64_t>::max()}, {1}), DType::kF32);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->to_vector<float>()[0], 0x1p64f);
  auto i = cast(Tensor::from_vector<int32_t>({70000, -70000}, {2}), DType::kF16);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->to_vector<Half>()[0].bits, 0x7c00);  // beyond 65504: inf
  EXPECT_EQ(i->to_vector<Half>()[1].bits, 0xfc00);
}

TEST(CastTest, FloatToBfloat16RoundsToNearestEven) {
  // The inputs of ONNX's FLOAT_to_BFLOAT16 test. ONNX 1.12's expected file holds the truncated
  // bits; ONNX's current reference implementation (and ONNX Runtime) round to nearest even,
  // giving these codes.
  const std::vector<float> x{0.47892547f, 0.48033667f, 0.49968487f, 0.81910545f, 0.47031248f, 0.816468f,
                             0.21087195f, 0.7229038f, NAN, INFINITY, -INFINITY};
  auto r = cast(Tensor::from_vector(x, {11}), DType::kBF16);
  ASSERT_TRUE(r.ok());
  const auto got = r->to_vector<BFloat16>();
  const std::vector<uint16_t> want{16117, 16118, 16128, 16210, 16113, 16209, 15960, 16185};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i].bits, want[i]) << i;
  EXPECT_TRUE(std::isnan(bf16_to_float(got[8].bits)));
  EXPECT_EQ(got[9].bits, 0x7f80);
  EXPECT_EQ(got[10].bits, 0xff80);
}

TEST(CastTest, OpsetDifferencesAndErrors) {
  const Tensor x = Tensor::from_vector<float>({1.5f}, {1});
  // Before opset 6 the target is named by a string.
  OpCall named{"Cast", 5};
  named.inputs = {x};
  named.attrs.set("to", std::string("INT32"));
  auto r = run_op(named);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].dtype(), DType::kI32);
  named.attrs.set("to", std::string("FLOAT128"));
  expect_error(named, "attribute 'to' names no ONNX type: 'FLOAT128'");

  OpCall c{"Cast", 13};
  c.inputs = {x};
  c.attrs.set("to", int64_t{8});
  expect_error(c, "cannot cast to STRING: Ratel has no such element type");
  c.attrs.set("to", int64_t{99});
  expect_error(c, "cannot cast to 99 (not an ONNX type)");
  OpCall missing{"Cast", 13};
  missing.inputs = {x};
  expect_error(missing, "attribute 'to' is missing");
  c.attrs.set("to", int64_t{16});
  c.opset = 12;
  expect_error(c, "target type bf16 needs opset 13");
}

TEST(CastLikeTest, TakesTheTypeOfItsSecondInput) {
  OpCall c{"CastLike", 15};
  c.inputs = {Tensor::from_vector<double>({-2.5, 7.9}, {2}), Tensor::from_vector<int16_t>({0}, {1})};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].dtype(), DType::kI16);
  EXPECT_EQ((*r)[0].shape(), (Shape{2}));
  EXPECT_EQ((*r)[0].to_vector<int16_t>(), (std::vector<int16_t>{-2, 7}));
  c.opset = 14;
  expect_error(c, "CastLike requires opset 15");
  OpCall one{"CastLike", 15};
  one.inputs = {Tensor::from_vector<float>({1}, {1})};
  expect_error(one, "expects 2 inputs");
}

}  // namespace
}  // namespace ratel
