//===- DataTypeTest.cpp - Element types, shapes, byte sizes ---------------===//

#include "ir/DataType.h"
#include "ir/TensorType.h"

#include "gtest/gtest.h"

using namespace strata::ir;

TEST(DataType, NamesRoundTrip) {
  for (const DTypeInfo &Info : allDTypes()) {
    std::optional<DType> T = parseDType(Info.Name);
    ASSERT_TRUE(T) << Info.Name.str();
    EXPECT_EQ(*T, Info.Type);
  }
  EXPECT_FALSE(parseDType("f31"));
}

TEST(DataType, GGMLIdsAreUniqueAndMapBack) {
  for (const DTypeInfo &Info : allDTypes()) {
    if (Info.GGMLId < 0)
      continue;
    std::optional<DType> T = dtypeFromGGML(Info.GGMLId);
    ASSERT_TRUE(T);
    EXPECT_EQ(*T, Info.Type) << Info.Name.str();
  }
  // Retired ggml ids (Q4_2, Q4_3 and the repacked Q4_0 variants) are unknown.
  for (uint32_t Retired : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 1000u})
    EXPECT_FALSE(dtypeFromGGML(Retired)) << Retired;
}

TEST(DataType, BlockSizesMatchGGML) {
  // (type, elements per block, bytes per block) from ggml's block structs.
  struct Row {
    DType T;
    uint32_t Elems, Bytes;
  } Rows[] = {{DType::F32, 1, 4},        {DType::F16, 1, 2},
              {DType::BF16, 1, 2},       {DType::Q4_0, 32, 18},
              {DType::Q4_1, 32, 20},     {DType::Q5_0, 32, 22},
              {DType::Q5_1, 32, 24},     {DType::Q8_0, 32, 34},
              {DType::Q2_K, 256, 84},    {DType::Q3_K, 256, 110},
              {DType::Q4_K, 256, 144},   {DType::Q5_K, 256, 176},
              {DType::Q6_K, 256, 210},   {DType::Q8_K, 256, 292},
              {DType::IQ4_XS, 256, 136}, {DType::MXFP4, 32, 17}};
  for (const Row &R : Rows) {
    EXPECT_EQ(getDTypeInfo(R.T).BlockElems, R.Elems) << getDTypeName(R.T).str();
    EXPECT_EQ(getDTypeInfo(R.T).BlockBytes, R.Bytes) << getDTypeName(R.T).str();
  }
}

TEST(DataType, ExactByteSizes) {
  EXPECT_EQ(cantFail(getByteSize(DType::F32, 512 * 64)), 131072u);
  EXPECT_EQ(cantFail(getByteSize(DType::BF16, 7)), 14u);
  // Llama-3-8B's token embedding in Q4_K: 128256 * 4096 / 256 blocks.
  EXPECT_EQ(cantFail(getByteSize(DType::Q4_K, 128256ull * 4096)),
            128256ull * 4096 / 256 * 144);
  EXPECT_EQ(cantFail(getByteSize(DType::Q8_0, 0)), 0u);
}

TEST(DataType, PartialBlocksAreAnError) {
  auto Bytes = getByteSize(DType::Q4_0, 33);
  ASSERT_FALSE(Bytes);
  EXPECT_EQ(llvm::toString(Bytes.takeError()),
            "33 elements of q4_0 are not a whole number of 32-element blocks");
}

TEST(Shape, RejectsNegativeHugeAndDeepShapes) {
  EXPECT_EQ(cantFail(Shape::get({})).numElements(), 1u);

  auto Neg = Shape::get({4, -1});
  ASSERT_FALSE(Neg);
  EXPECT_EQ(llvm::toString(Neg.takeError()), "dimension 1 is negative (-1)");

  auto Huge = Shape::get({Shape::MaxDim + 1});
  ASSERT_FALSE(Huge);
  EXPECT_NE(llvm::toString(Huge.takeError()).find("exceeds"),
            std::string::npos);

  // Each dimension is allowed, their product is not.
  auto Many = Shape::get({1 << 20, 1 << 20, 1 << 20});
  ASSERT_FALSE(Many);
  EXPECT_EQ(llvm::toString(Many.takeError()),
            "shape has more than 2^48 elements");

  std::vector<int64_t> Deep(Shape::MaxRank + 1, 1);
  auto TooDeep = Shape::get(Deep);
  ASSERT_FALSE(TooDeep);
  EXPECT_EQ(llvm::toString(TooDeep.takeError()),
            "rank 9 exceeds the maximum of 8");
}

TEST(TensorType, PrintsAndSizes) {
  TensorType T{DType::Q8_0, cantFail(Shape::get({4, 64}))};
  EXPECT_EQ(T.str(), "q8_0[4, 64]");
  EXPECT_EQ(cantFail(T.getByteSize()), 8u * 34);
  TensorType Scalar{DType::I32, cantFail(Shape::get({}))};
  EXPECT_EQ(Scalar.str(), "i32[]");
}
