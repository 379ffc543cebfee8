//===- PrinterTest.cpp - The .sir printer and round trips -----------------===//

#include "TestGraphs.h"

#include "ir/text/Parser.h"
#include "ir/text/Printer.h"

using namespace strata;
using namespace strata::ir;

TEST(Printer, CanonicalForm) {
  Graph G = test::makeMLPGraph();
  EXPECT_EQ(text::printGraphToString(G), R"(graph @mlp {
  weight %norm : f32[8]
  weight %w : f16[16, 8]

  program @decode {
    input %x : f32[2, 8]
    %n = rms_norm %x, %norm {eps = 1e-05} : f32[2, 8]
    %m = matmul %n, %w : f32[2, 16]
    %a = argmax %m : i32[2]
    output %a
  }
}
)");
}

TEST(Printer, RoundTripsExactly) {
  Graph G = test::makeMLPGraph();
  std::string Once = text::printGraphToString(G);
  Graph Again = test::unwrap(text::parseGraph(Once));
  EXPECT_EQ(text::printGraphToString(Again), Once);
}

TEST(Printer, QuotesNamesAndEscapesBytes) {
  Graph G("odd graph");
  AttrDict A;
  A.set("s", std::string("tab\there \"quoted\" \xc3\xa9\x01"));
  A.set("f", 10000.0);
  A.set("g", 0.1);
  A.set("neg", -3);
  A.set("l", Attribute::IntList{});
  test::unwrap(G.addWeight("blk.0/attn q", test::type(DType::BF16, {2}), A));
  std::string Text = text::printGraphToString(G);
  EXPECT_EQ(Text, "graph @\"odd graph\" {\n"
                  "  weight %\"blk.0/attn q\" : bf16[2] {f = 10000.0, g = 0.1, "
                  "l = [], neg = -3, s = \"tab\\09here \\22quoted\\22 "
                  "\\c3\\a9\\01\"}\n}\n");
  Graph Again = test::unwrap(text::parseGraph(Text));
  EXPECT_EQ(text::printGraphToString(Again), Text);
  EXPECT_EQ(Again.getValue(0).Attrs, G.getValue(0).Attrs);
}

TEST(Printer, FloatsReadBackBitForBit) {
  for (double D :
       {1e-5, 1e-6, 0.1, 1.0 / 3.0, 5e5, 1e300, -2.5e-300, 123456789.125}) {
    Graph G("f");
    AttrDict A;
    A.set("v", D);
    test::unwrap(G.addWeight("w", test::type(DType::F32, {1}), A));
    Graph Again = test::unwrap(text::parseGraph(text::printGraphToString(G)));
    EXPECT_EQ(Again.getValue(0).Attrs.getFloat("v"), D);
  }
}
