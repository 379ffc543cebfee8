//===- Fingerprint.cpp - A stable digest of a model's weights -------------===//
//
// The fingerprint ties a plan to the weights it was made for: the runtime
// recomputes it from the checkpoint it loads and refuses a plan whose
// fingerprint differs. The encoding is spelled out in docs/plan-format.md so
// that other tools (the Python scripts) can compute the same value.
//
//===----------------------------------------------------------------------===//

#include "ir/plan/Plan.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/SHA256.h"

using namespace llvm;

namespace strata::plan {

namespace {

/// Feeds the digest a fixed-width little-endian word, so that the encoding
/// does not depend on the host's byte order.
void hashWord(SHA256 &Hash, uint64_t Word) {
  uint8_t Bytes[8];
  support::endian::write64le(Bytes, Word);
  Hash.update(ArrayRef<uint8_t>(Bytes));
}

/// Strings are length-prefixed: without the prefix ("ab", "c") and
/// ("a", "bc") would hash alike.
void hashString(SHA256 &Hash, StringRef S) {
  hashWord(Hash, S.size());
  Hash.update(S);
}

} // namespace

std::string planFingerprint(const std::vector<WeightSignature> &Weights) {
  SHA256 Hash;
  for (const WeightSignature &W : Weights) {
    hashString(Hash, W.Name);
    hashString(Hash, W.DType);
    // The rank prefixes the dimensions for the same reason as the lengths.
    hashWord(Hash, W.Shape.size());
    for (int64_t Dim : W.Shape)
      hashWord(Hash, static_cast<uint64_t>(Dim));
  }
  return toHex(Hash.final(), /*LowerCase=*/true);
}

} // namespace strata::plan
