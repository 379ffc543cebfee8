//===- ContentDigest.h - A cheap digest of a checkpoint's bytes -*- C++ -*-===//
//
// Ties a plan to the bytes of the files it was compiled from, not only to
// their tensor names, types and shapes (the fingerprint): a file re-exported,
// re-quantised, patched or truncated after compiling is refused before
// anything runs. Hashing every byte would cost minutes on a 400B model, so
// the digest covers each file's size and, per tensor, a few pages of its
// data; a change confined to bytes no sample covers goes unnoticed.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_MODELFILE_CONTENTDIGEST_H
#define STRATA_IR_MODELFILE_CONTENTDIGEST_H

#include "ir/modelfile/TensorTable.h"

#include "llvm/Support/Error.h"

#include <string>

namespace strata::import {

/// Bytes in each sample; a tensor gets its first, middle and last sample
/// (fewer when it is small, all of it when it is smaller than one).
inline constexpr uint64_t ContentSampleBytes = 4096;

/// SHA-256, as 64 lowercase hex digits, of T's files as they are on disk
/// now: their number and sizes, then each tensor's name, offset, size and
/// sampled bytes, in table order (docs/plan-format.md spells it out). Fails,
/// naming the file, if one cannot be read or no longer holds a tensor.
llvm::Expected<std::string> sampleContentDigest(const TensorTable &T);

} // namespace strata::import

#endif // STRATA_IR_MODELFILE_CONTENTDIGEST_H
