//===- SafeTensorsReader.h - Tensor tables of .safetensors files -*- C++
//-*-===//
//
// Reads the headers of Hugging Face checkpoints: one .safetensors file, a
// sharded checkpoint's model.safetensors.index.json, or a checkpoint folder.
// Only headers are read, never tensor data, so a 700 GB checkpoint is
// indexed in milliseconds; every offset and size is checked against the
// file, so later readers can trust the table.
//
// A .safetensors file is a little-endian u64 header length N, N bytes of
// JSON, then the data:
//   {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]},
//    ..., "__metadata__": {string: string}}
// with offsets relative to the first byte after the header (8 + N).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_MODELFILE_SAFETENSORSREADER_H
#define STRATA_IR_MODELFILE_SAFETENSORSREADER_H

#include "ir/modelfile/TensorTable.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace strata::import {

/// The largest header accepted, as in the reference implementation
/// (safetensors' MAX_HEADER_SIZE); checked before anything is allocated.
constexpr uint64_t MaxSafeTensorsHeaderBytes = 100'000'000;

/// Reads the header of one .safetensors file (only its first 8 + N bytes).
/// The table has one file, Path; tensors are in data order (by offset,
/// ties by name), since JSON object order carries no meaning.
llvm::Expected<TensorTable> readSafeTensorsFile(llvm::StringRef Path);

/// The same from memory, for tests and fuzzing: Bytes holds at least the
/// header, FileSize is the whole file's size, Path names it in messages and
/// in TensorTable::Files (every tensor's File is 0).
llvm::Expected<TensorTable> parseSafeTensorsHeader(llvm::StringRef Bytes,
                                                   llvm::StringRef Path,
                                                   uint64_t FileSize);

/// Reads a model.safetensors.index.json ({"metadata": {...}, "weight_map":
/// {"tensor": "shard file"}}) and every shard it names (relative to the
/// index's folder). The weight map and the shards must agree exactly: every
/// tensor named is in its shard, and no shard holds a tensor the map does not
/// assign to it. Files are the shards in sorted order; tensors are in shard
/// order, then data order.
llvm::Expected<TensorTable> readSafeTensorsIndex(llvm::StringRef IndexPath);

/// Reads a checkpoint folder: model.safetensors.index.json if present, else
/// model.safetensors, else every *.safetensors file (sorted by name; a tensor
/// name may occur in only one of them).
llvm::Expected<TensorTable> readSafeTensorsFolder(llvm::StringRef Dir);

} // namespace strata::import

#endif // STRATA_IR_MODELFILE_SAFETENSORSREADER_H
