//===- Schedule.cpp - Per-device steps of each program --------------------===//
//
// Each value of a program may exist on several devices, each copy in a
// layout: whole ("full"), one member's slice of a split axis ("split"), or
// one member's addend of a sum ("partial"). An op picks the group of
// devices it runs on and the layout it needs of each operand, from its
// weights: a weight split by rows makes a matmul run on the weight's group
// with the whole input and a split output; split by columns, with a split
// input and a partial output; a KV cache split by heads makes attention run
// per head group. Everything else keeps the layout its first operand
// already has where it can (so a split flows through reshape, rope and
// silu_mul without moving) and otherwise asks for whole values.
//
// Asking for a layout that does not exist yet creates it, once per device:
// partial sums are all-reduced over their group, splits all-gathered, whole
// values sliced locally or copied from a device that has them. The steps are
// collected in slots, one before and one after each op, so that a copy can
// be issued right after its source is made instead of right before its use.
//
//===----------------------------------------------------------------------===//

#include "passes/schedule/Schedule.h"

#include "passes/Placement.h"

#include "ir/OpOperands.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

namespace strata::passes {
namespace {

llvm::Error scheduleError(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

/// The axis of To that a split of From's axis FromAxis becomes when the
/// same elements are read under To's shape: the first axis (of size above
/// 1) with as many elements in front of it.
std::optional<int> mapSplitAxis(llvm::ArrayRef<int64_t> From, int FromAxis,
                                llvm::ArrayRef<int64_t> To) {
  int64_t Before = 1;
  for (int A = 0; A < FromAxis; ++A)
    Before *= From[A];
  int64_t Acc = 1;
  for (size_t A = 0; A < To.size() && Acc <= Before; ++A) {
    if (Acc == Before && To[A] != 1)
      return static_cast<int>(A);
    Acc *= To[A];
  }
  return std::nullopt;
}

/// The plan's step for a graph op that runs as a kernel.
plan::StepOp stepOpOf(ir::OpKind K) {
  switch (K) {
  case ir::OpKind::Embedding:
    return plan::StepOp::Embedding;
  case ir::OpKind::RMSNorm:
    return plan::StepOp::RMSNorm;
  case ir::OpKind::MatMul:
    return plan::StepOp::MatMul;
  case ir::OpKind::RoPE:
    return plan::StepOp::RoPE;
  case ir::OpKind::KVAppend:
    return plan::StepOp::KVAppend;
  case ir::OpKind::Attention:
    return plan::StepOp::Attention;
  case ir::OpKind::SiLUMul:
    return plan::StepOp::SiLUMul;
  case ir::OpKind::Add:
    return plan::StepOp::Add;
  case ir::OpKind::Mul:
    return plan::StepOp::Mul;
  case ir::OpKind::Softmax:
    return plan::StepOp::Softmax;
  case ir::OpKind::ArgMax:
    return plan::StepOp::ArgMax;
  case ir::OpKind::Copy:
    return plan::StepOp::Copy;
  case ir::OpKind::AllReduce:
    return plan::StepOp::AllReduce;
  case ir::OpKind::Slice:
    return plan::StepOp::Slice;
  case ir::OpKind::MoERoute:
    return plan::StepOp::MoERoute;
  case ir::OpKind::MoEExperts:
    return plan::StepOp::MoEExperts;
  case ir::OpKind::MLAAttention:
    return plan::StepOp::MLAAttention;
  case ir::OpKind::Reshape:
    break; // a view, never a step
  }
  llvm_unreachable("op without a step");
}

struct Layout {
  enum Kind : uint8_t { Full, Split, Partial };
  Kind K = Full;
  int Axis = -1;       ///< Split: the dimension split.
  uint32_t Group = 0;  ///< Split, Partial: interned device list.
  uint32_t Member = 0; ///< Split, Partial: position in the group.

  static Layout full() { return {}; }
  static Layout split(int Axis, uint32_t Group, uint32_t Member) {
    return {Split, Axis, Group, Member};
  }
  static Layout partial(uint32_t Group, uint32_t Member) {
    return {Partial, -1, Group, Member};
  }
  bool operator==(const Layout &O) const {
    return K == O.K && (K == Full || (Axis == O.Axis && Group == O.Group &&
                                      Member == O.Member));
  }
};

/// A value's buffer on one device, in one layout.
/// What one member of an op's group reads and makes.
struct MemberPlan {
  std::vector<Layout> Operands; ///< The layout of each operand.
  Layout Out;
  plan::StepAttrs Extra;    ///< Attributes of this member's step.
  std::vector<size_t> Skip; ///< Operands this member does not read.
};

/// The group an op runs on, and each member's part.
struct OpPlan {
  std::vector<unsigned> Devices;
  std::vector<MemberPlan> Members;
};

struct Instance {
  unsigned Device;
  Layout L;
  uint32_t Buffer;
  uint32_t Slot; ///< Where the step that made it is: copies of it go there.
};

/// Where a weight or KV cache is, read from the plan's buffers.
struct SharedHome {
  plan::Location::Kind Where = plan::Location::Kind::Device;
  std::vector<unsigned> Devices; ///< In shard order.
  std::vector<uint32_t> Buffers; ///< Parallel to Devices.
  int64_t Axis = -1;             ///< Split axis; -1 whole (or copies).
  bool isSplit() const { return Axis >= 0 && Devices.size() > 1; }
};

class ScheduleBuilder {
public:
  ScheduleBuilder(const ir::Graph &G, plan::Plan &P) : G(G), P(P) {
    for (uint32_t I = 0; I < P.Buffers.size(); ++I) {
      const plan::Buffer &B = P.Buffers[I];
      SharedHome &H = Homes[B.Name];
      H.Where = B.Where.Where;
      if (B.Where.Where != plan::Location::Kind::Device) {
        H.Buffers = {I};
        continue;
      }
      H.Devices.push_back(B.Where.Device);
      H.Buffers.push_back(I);
      if (B.ShardInfo)
        H.Axis = B.ShardInfo->Axis;
    }
    // Looked up per operand, member and op: by name, that was most of the
    // time on models with hundreds of experts per layer.
    HomeOf.assign(G.numValues(), nullptr);
    for (ir::ValueId V = 0; V < G.numValues(); ++V)
      if (auto It = Homes.find(G.getValue(V).Name); It != Homes.end())
        HomeOf[V] = &It->second;
  }

  llvm::Error run(ir::ProgramId Prog);

private:
  // Groups of devices, interned so that layouts compare cheaply.
  uint32_t groupOf(llvm::ArrayRef<unsigned> Devices);
  llvm::ArrayRef<unsigned> group(uint32_t G) const { return Groups[G]; }

  uint32_t beforeSlot(size_t OpIndex) const { return 2 * OpIndex + 1; }
  uint32_t afterSlot(size_t OpIndex) const { return 2 * OpIndex + 2; }
  uint32_t endSlot() const { return Slots.size() - 1; }

  llvm::Expected<std::vector<int64_t>> localShape(ir::ValueId V,
                                                  const Layout &L) const;
  llvm::Expected<uint32_t> newBuffer(ir::ValueId V, unsigned Device,
                                     const Layout &L, plan::BufferKind Kind,
                                     llvm::StringRef Suffix,
                                     llvm::StringRef PlacedBy);
  void addInstance(ir::ValueId V, unsigned Device, const Layout &L,
                   uint32_t Buffer, uint32_t Slot) {
    Instances[V].push_back({Device, L, Buffer, Slot});
  }
  const Instance *findInstance(ir::ValueId V, unsigned Device,
                               const Layout &L) const;
  plan::Step &emit(uint32_t Slot, plan::StepOp Op, llvm::StringRef Name,
                   unsigned Stream, std::vector<uint32_t> Inputs,
                   std::vector<uint32_t> Outputs, std::optional<int64_t> Layer);

  /// V's buffer on Device in layout L, made if needed by steps placed no
  /// later than Slot.
  llvm::Expected<uint32_t> require(ir::ValueId V, unsigned Device,
                                   const Layout &L, uint32_t Slot);
  llvm::Expected<uint32_t> requireFull(ir::ValueId V, unsigned Device,
                                       uint32_t Slot);
  llvm::Expected<uint32_t> requireShared(ir::ValueId V, unsigned Device,
                                         const Layout &L, uint32_t Slot);
  llvm::Expected<uint32_t> requireView(ir::ValueId V, unsigned Device,
                                       const Layout &L, uint32_t Slot);
  /// A staging buffer for weight W on Device, whole or (from host or
  /// disk) a split member's share.
  llvm::Expected<uint32_t> stageWeight(ir::ValueId W, unsigned Device,
                                       uint32_t Slot, const Layout &L);
  llvm::Error allReduce(ir::ValueId V, uint32_t Group, uint32_t Slot);
  llvm::Error allGather(ir::ValueId V, int Axis, uint32_t Group, uint32_t Slot);

  // Ops: where each runs, in which layouts, and its steps.
  const SharedHome *homeOf(ir::ValueId V) const;
  /// V's home when it is split over a group, which decides where the op
  /// runs.
  const SharedHome *splitHomeOf(ir::ValueId V) const;
  /// Devices, or where weight W is if a fallback moved it whole away from
  /// the op's one device.
  std::vector<unsigned> followWholeWeight(ir::ValueId W,
                                          std::vector<unsigned> Devices) const;
  llvm::Expected<std::vector<unsigned>> placedDevices(const ir::Op &Op) const;
  template <typename Fn>
  OpPlan eachMember(const ir::Op &Op, std::vector<unsigned> Devices, Fn Each);
  llvm::Error processOp(size_t OpIndex);
  llvm::Error passAllReduce(const ir::Op &Op, llvm::ArrayRef<unsigned> Devices,
                            uint32_t Before);
  llvm::Expected<OpPlan> planOp(const ir::Op &Op,
                                std::vector<unsigned> Devices);
  OpPlan planMatMul(const ir::Op &Op, std::vector<unsigned> Devices);
  OpPlan planEmbedding(const ir::Op &Op, std::vector<unsigned> Devices);
  llvm::Expected<OpPlan> planCacheOp(const ir::Op &Op,
                                     std::vector<unsigned> Devices);
  /// The devices holding some of a moe_experts op's experts, and Placed if
  /// some are offloaded (they are staged there).
  std::vector<unsigned> expertHolders(const ir::Op &Op, unsigned Placed) const;
  OpPlan planExperts(const ir::Op &Op, std::vector<unsigned> Devices);
  OpPlan planElementwise(const ir::Op &Op, std::vector<unsigned> Devices);
  /// One step per member of Plan's group.
  llvm::Error emitMembers(size_t OpIndex, const ir::Op &Op, const OpPlan &Plan);
  /// The layout an elementwise-like op keeps: Operand's split over Group
  /// at Member when it has one on that device, else whole.
  Layout keptLayout(ir::ValueId Operand, uint32_t Group, uint32_t Member,
                    bool AllowLastAxis) const;
  /// The layout operand B of an op over A needs when A is in layout L and
  /// B is broadcast from the right.
  Layout broadcastLayout(ir::ValueId A, ir::ValueId B, const Layout &L) const;
  plan::StepAttrs opAttrs(const ir::Op &O) const;

  const ir::Graph &G;
  plan::Plan &P;
  llvm::StringMap<SharedHome> Homes;
  std::vector<const SharedHome *> HomeOf; ///< Per value; null if none.

  // Per program.
  ir::ProgramId Prog = 0;
  std::string ProgName;
  std::vector<ir::OpId> Order;
  std::vector<std::vector<plan::Step>> Slots;
  llvm::DenseMap<ir::ValueId, llvm::SmallVector<Instance, 2>> Instances;
  /// (weight, device, op) -> staging buffer.
  std::map<std::tuple<ir::ValueId, unsigned, size_t>, uint32_t> Staged;
  std::map<ir::ValueId, std::vector<uint32_t>> InputBuffers;
  uint32_t NextCollective = 0;
  size_t Lookahead = 1;
  size_t CurrentOp = 0;

  std::vector<std::vector<unsigned>> Groups;
  std::map<std::vector<unsigned>, uint32_t> GroupIds;
};

uint32_t ScheduleBuilder::groupOf(llvm::ArrayRef<unsigned> Devices) {
  std::vector<unsigned> Key(Devices.begin(), Devices.end());
  auto [It, New] = GroupIds.try_emplace(Key, Groups.size());
  if (New)
    Groups.push_back(std::move(Key));
  return It->second;
}

llvm::Expected<std::vector<int64_t>>
ScheduleBuilder::localShape(ir::ValueId V, const Layout &L) const {
  const ir::Value &Val = G.getValue(V);
  std::vector<int64_t> Dims(Val.Type.Dims.dims().begin(),
                            Val.Type.Dims.dims().end());
  if (L.K != Layout::Split)
    return Dims;
  if (L.Axis < 0 || static_cast<size_t>(L.Axis) >= Dims.size())
    return scheduleError("value %" + Val.Name + " cannot be split on axis " +
                         llvm::Twine(L.Axis));
  unsigned N = group(L.Group).size();
  Dims[L.Axis] = shardRange(Dims[L.Axis], N, L.Member).Size;
  return Dims;
}

llvm::Expected<uint32_t>
ScheduleBuilder::newBuffer(ir::ValueId V, unsigned Device, const Layout &L,
                           plan::BufferKind Kind, llvm::StringRef Suffix,
                           llvm::StringRef PlacedBy) {
  const ir::Value &Val = G.getValue(V);
  auto Shape = localShape(V, L);
  if (!Shape)
    return Shape.takeError();
  uint64_t Elements = 1;
  for (int64_t D : *Shape)
    Elements *= static_cast<uint64_t>(D);
  auto Bytes = ir::getByteSize(Val.Type.Elem, Elements);
  if (!Bytes)
    return scheduleError("value %" + Val.Name + " on device " +
                         llvm::Twine(Device) + ": " +
                         toString(Bytes.takeError()));
  plan::Buffer B;
  B.Name = Val.Name + Suffix.str();
  B.Kind = Kind;
  B.Bytes = *Bytes;
  B.DType = ir::getDTypeName(Val.Type.Elem).str();
  B.Shape = std::move(*Shape);
  B.Where = plan::Location::device(Device);
  B.Layer = G.getAttrs(V).getInt(ir::AttrKeys::Layer);
  B.PlacedBy = PlacedBy.str();
  B.Region = plan::RegionKind::Arena;
  B.Program = ProgName;
  if (L.K == Layout::Split) {
    unsigned N = group(L.Group).size();
    ShardRange R = shardRange(Val.Type.Dims[L.Axis], N, L.Member);
    B.ShardInfo = plan::Shard{L.Member, N, L.Axis, R.Begin, R.Size};
  }
  P.Buffers.push_back(std::move(B));
  return static_cast<uint32_t>(P.Buffers.size() - 1);
}

const Instance *ScheduleBuilder::findInstance(ir::ValueId V, unsigned Device,
                                              const Layout &L) const {
  auto It = Instances.find(V);
  if (It == Instances.end())
    return nullptr;
  for (const Instance &I : It->second)
    if (I.Device == Device && I.L == L)
      return &I;
  return nullptr;
}

plan::Step &ScheduleBuilder::emit(uint32_t Slot, plan::StepOp Op,
                                  llvm::StringRef Name, unsigned Stream,
                                  std::vector<uint32_t> Inputs,
                                  std::vector<uint32_t> Outputs,
                                  std::optional<int64_t> Layer) {
  plan::Step S;
  S.Op = Op;
  S.Name = Name.str();
  S.Stream = Stream;
  S.Inputs = std::move(Inputs);
  S.Outputs = std::move(Outputs);
  S.Layer = Layer;
  Slots[Slot].push_back(std::move(S));
  return Slots[Slot].back();
}

//===----------------------------------------------------------------------===//
// Making a value available: copies, collectives, slices, staging
//===----------------------------------------------------------------------===//

llvm::Expected<uint32_t> ScheduleBuilder::require(ir::ValueId V,
                                                  unsigned Device,
                                                  const Layout &L,
                                                  uint32_t Slot) {
  if (const Instance *I = findInstance(V, Device, L))
    return I->Buffer;
  const ir::Value &Val = G.getValue(V);
  if (Val.isShared())
    return requireShared(V, Device, L, Slot);
  if (!Val.isDeclared()) {
    const ir::Op &Def = G.getOp(Val.Def);
    if (Def.Kind == ir::OpKind::Reshape)
      return requireView(V, Device, L, Slot);
    // An in-place update's result is the buffer it updated.
    int Aliased = ir::getOpInfo(Def.Kind).AliasedOperand;
    if (Aliased >= 0)
      return require(Def.Operands[Aliased], Device, L, Slot);
  } else if (L.K == Layout::Full) {
    // A program input: written by the runtime before the first step on
    // every device that reads it.
    auto B = newBuffer(V, Device, L, plan::BufferKind::Input, "", "input");
    if (!B)
      return B.takeError();
    addInstance(V, Device, L, *B, 0);
    InputBuffers[V].push_back(*B);
    return *B;
  }

  if (L.K == Layout::Full)
    return requireFull(V, Device, Slot);
  if (L.K == Layout::Partial)
    return scheduleError("internal: %" + Val.Name +
                         " is needed as a partial sum it never was");

  // A split member: slice it from a whole copy, on this device if there is
  // one (after it is made and before the use), else right after a whole
  // copy elsewhere is made, and copy the slice over.
  const Instance *Whole = findInstance(V, Device, Layout::full());
  if (!Whole) {
    auto It = Instances.find(V);
    if (It != Instances.end())
      for (const Instance &I : It->second)
        if (I.L.K == Layout::Full) {
          Whole = &I;
          break;
        }
  }
  if (!Whole) {
    auto B = require(V, Device, Layout::full(), Slot);
    if (!B)
      return B.takeError();
    Whole = findInstance(V, Device, Layout::full());
    assert(Whole && "require made no whole instance");
  }
  const unsigned SliceOn = Whole->Device;
  const uint32_t WholeBuffer = Whole->Buffer;
  const uint32_t SliceSlot =
      SliceOn == Device ? std::max(Whole->Slot, Slot) : Whole->Slot;
  std::optional<int64_t> Layer = G.getAttrs(V).getInt(ir::AttrKeys::Layer);
  auto Part =
      newBuffer(V, SliceOn, L, plan::BufferKind::Activation, ".part", "slice");
  if (!Part)
    return Part.takeError();
  unsigned N = group(L.Group).size();
  int64_t Dim = Val.Type.Dims[L.Axis];
  ShardRange Range = shardRange(Dim, N, L.Member);
  plan::Step &S = emit(SliceSlot, plan::StepOp::Slice, P.Buffers[*Part].Name,
                       computeStream(SliceOn), {WholeBuffer}, {*Part}, Layer);
  S.Attrs.set("axis", int64_t(L.Axis));
  S.Attrs.set("begin", Range.Begin);
  S.Attrs.set("end", Range.Begin + Range.Size);
  addInstance(V, SliceOn, L, *Part, SliceSlot);
  if (SliceOn == Device)
    return *Part;
  auto Copy = newBuffer(V, Device, L, plan::BufferKind::Activation,
                        ".part@" + std::to_string(Device),
                        "copy from device " + std::to_string(SliceOn));
  if (!Copy)
    return Copy.takeError();
  emit(SliceSlot, plan::StepOp::Copy, P.Buffers[*Copy].Name, copyStream(Device),
       {*Part}, {*Copy}, Layer);
  addInstance(V, Device, L, *Copy, SliceSlot);
  return *Copy;
}

llvm::Expected<uint32_t>
ScheduleBuilder::requireFull(ir::ValueId V, unsigned Device, uint32_t Slot) {
  const ir::Value &Val = G.getValue(V);
  auto It = Instances.find(V);
  if (It == Instances.end() || It->second.empty())
    return scheduleError("internal: %" + Val.Name +
                         " is used before any step makes it");
  // Collectives first: partial sums and splits over a group become whole on
  // every member of the group.
  auto Covering = [&](Layout::Kind K) -> std::optional<Layout> {
    for (const Instance &I : Instances[V]) {
      if (I.L.K != K)
        continue;
      llvm::ArrayRef<unsigned> Members = group(I.L.Group);
      bool All = true, Gathered = false;
      for (uint32_t M = 0; M < Members.size() && All; ++M) {
        Layout Each = I.L;
        Each.Member = M;
        All = findInstance(V, Members[M], Each) != nullptr;
        // A group gathered before (for another device) has whole copies:
        // one of them is copied rather than gathered again.
        Gathered |= findInstance(V, Members[M], Layout::full()) != nullptr;
      }
      if (All && !Gathered)
        return I.L;
    }
    return std::nullopt;
  };
  if (std::optional<Layout> L = Covering(Layout::Partial)) {
    if (llvm::Error E = allReduce(V, L->Group, Slot))
      return E;
  } else if (std::optional<Layout> L = Covering(Layout::Split)) {
    if (llvm::Error E = allGather(V, L->Axis, L->Group, Slot))
      return E;
  }
  if (const Instance *I = findInstance(V, Device, Layout::full()))
    return I->Buffer;

  // A whole copy elsewhere: copy it over, right after it is made. The
  // source is the whole copy made first, so that chains of copies do not
  // form.
  const Instance *Source = nullptr;
  for (const Instance &I : Instances[V])
    if (I.L.K == Layout::Full) {
      Source = &I;
      break;
    }
  if (!Source)
    return scheduleError("internal: no whole copy of %" + Val.Name +
                         " to copy to device " + llvm::Twine(Device));
  uint32_t SourceBuffer = Source->Buffer, SourceSlot = Source->Slot;
  unsigned From = Source->Device;
  auto Copy = newBuffer(V, Device, Layout::full(), plan::BufferKind::Activation,
                        "@" + std::to_string(Device),
                        "copy from device " + std::to_string(From));
  if (!Copy)
    return Copy.takeError();
  emit(SourceSlot, plan::StepOp::Copy, P.Buffers[*Copy].Name,
       copyStream(Device), {SourceBuffer}, {*Copy},
       G.getAttrs(V).getInt(ir::AttrKeys::Layer));
  addInstance(V, Device, Layout::full(), *Copy, SourceSlot);
  return *Copy;
}

llvm::Error ScheduleBuilder::allReduce(ir::ValueId V, uint32_t Group,
                                       uint32_t Slot) {
  // In place, as NCCL allows: each member's partial sum becomes the whole
  // sum in the same buffer, so no second buffer of the size is live.
  llvm::ArrayRef<unsigned> Members = group(Group);
  uint32_t Id = NextCollective++;
  std::vector<int64_t> Devices(Members.begin(), Members.end());
  for (uint32_t M = 0; M < Members.size(); ++M) {
    const Instance *Part =
        findInstance(V, Members[M], Layout::partial(Group, M));
    uint32_t Buffer = Part->Buffer;
    plan::Step &S =
        emit(Slot, plan::StepOp::AllReduce, P.Buffers[Buffer].Name + ".sum",
             computeStream(Members[M]), {Buffer}, {Buffer},
             G.getAttrs(V).getInt(ir::AttrKeys::Layer));
    S.Collective = Id;
    S.Attrs.set("devices", Devices);
    P.Buffers[Buffer].PlacedBy = "partial sum, all-reduced in place";
    // The partial sum is gone: the buffer now holds the whole.
    llvm::erase_if(Instances[V], [&](const Instance &I) {
      return I.Device == Members[M] && I.L == Layout::partial(Group, M);
    });
    addInstance(V, Members[M], Layout::full(), Buffer, Slot);
  }
  return llvm::Error::success();
}

llvm::Error ScheduleBuilder::allGather(ir::ValueId V, int Axis, uint32_t Group,
                                       uint32_t Slot) {
  llvm::ArrayRef<unsigned> Members = group(Group);
  uint32_t Id = NextCollective++;
  const ir::Value &Val = G.getValue(V);
  std::vector<int64_t> Sizes;
  for (uint32_t M = 0; M < Members.size(); ++M)
    Sizes.push_back(shardRange(Val.Type.Dims[Axis], Members.size(), M).Size);
  for (uint32_t M = 0; M < Members.size(); ++M) {
    const Instance *Part =
        findInstance(V, Members[M], Layout::split(Axis, Group, M));
    uint32_t In = Part->Buffer;
    auto Out = newBuffer(V, Members[M], Layout::full(),
                         plan::BufferKind::Activation, ".all", "all_gather");
    if (!Out)
      return Out.takeError();
    plan::Step &S = emit(Slot, plan::StepOp::AllGather, P.Buffers[*Out].Name,
                         computeStream(Members[M]), {In}, {*Out},
                         G.getAttrs(V).getInt(ir::AttrKeys::Layer));
    S.Collective = Id;
    S.Attrs.set("axis", int64_t(Axis));
    S.Attrs.set("sizes", Sizes);
    S.Attrs.set("devices",
                std::vector<int64_t>(Members.begin(), Members.end()));
    addInstance(V, Members[M], Layout::full(), *Out, Slot);
  }
  return llvm::Error::success();
}

llvm::Expected<uint32_t> ScheduleBuilder::requireView(ir::ValueId V,
                                                      unsigned Device,
                                                      const Layout &L,
                                                      uint32_t Slot) {
  const ir::Value &Val = G.getValue(V);
  ir::ValueId Src = G.getOp(Val.Def).Operands[0];
  const ir::Value &SrcVal = G.getValue(Src);
  // The source's layout with the same elements: a split axis maps to the
  // axis of the other shape with as many elements in front of it.
  Layout SrcL = L;
  if (L.K == Layout::Split) {
    llvm::ArrayRef<int64_t> Out = Val.Type.Dims.dims();
    llvm::ArrayRef<int64_t> In = SrcVal.Type.Dims.dims();
    unsigned N = group(L.Group).size();
    std::optional<int> Mapped = mapSplitAxis(Out, L.Axis, In);
    if (!Mapped)
      return scheduleError("reshape %" + Val.Name +
                           " cannot keep its input split " + llvm::Twine(N) +
                           " ways");
    int Axis = *Mapped;
    // Each member's elements must be the same run of the source: the
    // split dimension of one shape a multiple of the other's.
    int64_t OutRest = 1, InRest = 1;
    for (size_t A = L.Axis + 1; A < Out.size(); ++A)
      OutRest *= Out[A];
    for (size_t A = Axis + 1; A < In.size(); ++A)
      InRest *= In[A];
    for (unsigned M = 0; M < N; ++M)
      if (shardRange(Out[L.Axis], N, M).Size * OutRest !=
          shardRange(In[Axis], N, M).Size * InRest)
        return scheduleError("reshape %" + Val.Name + " splits its input " +
                             llvm::Twine(N) + " ways unevenly");
    SrcL.Axis = Axis;
  }
  auto Base = require(Src, Device, SrcL, Slot);
  if (!Base)
    return Base.takeError();
  auto View = newBuffer(V, Device, L, P.Buffers[*Base].Kind, "", "view");
  if (!View)
    return View.takeError();
  // A view of a view is a view of the first base.
  uint32_t Root = *Base;
  while (P.Buffers[Root].ViewOf)
    Root = *P.Buffers[Root].ViewOf;
  P.Buffers[*View].ViewOf = Root;
  P.Buffers[*View].Kind = P.Buffers[Root].Kind;
  addInstance(V, Device, L, *View, 0);
  return *View;
}

llvm::Expected<uint32_t> ScheduleBuilder::requireShared(ir::ValueId V,
                                                        unsigned Device,
                                                        const Layout &L,
                                                        uint32_t Slot) {
  const ir::Value &Val = G.getValue(V);
  if (!HomeOf[V])
    return scheduleError("internal: %" + Val.Name + " has no buffer");
  const SharedHome &H = *HomeOf[V];
  if (H.Where == plan::Location::Kind::Device) {
    for (size_t I = 0; I < H.Devices.size(); ++I) {
      if (H.Devices[I] != Device)
        continue;
      bool Whole = !H.isSplit();
      if (Whole && L.K == Layout::Full)
        return H.Buffers[I];
      if (!Whole && L.K == Layout::Split && L.Axis == H.Axis &&
          group(L.Group) == llvm::ArrayRef<unsigned>(H.Devices) &&
          L.Member == I)
        return H.Buffers[I];
    }
  }
  if (Val.Kind == ir::ValueKind::KVCache)
    return scheduleError("KV cache %" + Val.Name + " is needed on device " +
                         llvm::Twine(Device) +
                         ", where it is not: a cache is updated in place and "
                         "cannot be copied");
  if (L.K == Layout::Split && H.Where != plan::Location::Kind::Device)
    return stageWeight(V, Device, Slot, L); // a member's share, from host
  if (L.K != Layout::Full)
    return scheduleError("weight %" + Val.Name + " is needed split on device " +
                         llvm::Twine(Device) + " in a way it is not");
  return stageWeight(V, Device, Slot, Layout::full());
}

llvm::Expected<uint32_t> ScheduleBuilder::stageWeight(ir::ValueId W,
                                                      unsigned Device,
                                                      uint32_t Slot,
                                                      const Layout &L) {
  // One staging buffer per use: a weight read at both ends of a program
  // (tied embeddings) is not kept in the arena in between.
  auto Key = std::make_tuple(W, Device, CurrentOp);
  if (auto It = Staged.find(Key); It != Staged.end())
    return It->second;
  const ir::Value &Val = G.getValue(W);
  const SharedHome &H = *HomeOf[W];
  std::optional<int64_t> Layer = Val.Attrs.getInt(ir::AttrKeys::Layer);
  // Issued a layer ahead of its use, on the copy stream, so that the
  // transfer overlaps with the layer before.
  size_t Ahead = CurrentOp > Lookahead ? CurrentOp - Lookahead : 0;
  uint32_t IssueSlot = std::min(Slot, beforeSlot(Ahead));
  std::string Suffix = ".staged." + std::to_string(CurrentOp);
  std::string From;
  switch (H.Where) {
  case plan::Location::Kind::Host:
    From = "prefetch from host";
    break;
  case plan::Location::Kind::Disk:
    From = "prefetch from disk";
    break;
  case plan::Location::Kind::Device:
    From = H.isSplit() ? "gathered from its shards"
                       : "copy from device " + std::to_string(H.Devices[0]);
    break;
  }
  auto B = newBuffer(W, Device, L, plan::BufferKind::Staging, Suffix, From);
  if (!B)
    return B.takeError();
  P.Buffers[*B].Layer = Layer;
  const std::string &Name = P.Buffers[*B].Name;
  if (H.Where != plan::Location::Kind::Device) {
    plan::Step &S = emit(IssueSlot, plan::StepOp::Prefetch, Name,
                         copyStream(Device), {H.Buffers[0]}, {*B}, Layer);
    if (L.K == Layout::Split) {
      // The member's rows (or columns) of the whole in host memory.
      int64_t Dim = Val.Type.Dims[L.Axis];
      unsigned N = group(L.Group).size();
      S.Attrs.set("axis", int64_t(L.Axis));
      ShardRange Range = shardRange(Dim, N, L.Member);
      S.Attrs.set("begin", Range.Begin);
      S.Attrs.set("end", Range.Begin + Range.Size);
    }
  } else if (!H.isSplit()) {
    emit(IssueSlot, plan::StepOp::Copy, Name, copyStream(Device),
         {H.Buffers[0]}, {*B}, Layer);
  } else {
    if (H.Axis != 0)
      return scheduleError(
          "weight %" + Val.Name + " is split on axis " + llvm::Twine(H.Axis) +
          " but needed whole on device " + llvm::Twine(Device) +
          ": only row shards can be gathered");
    // Row shards are contiguous: each lands at its byte offset.
    uint64_t Offset = 0;
    for (uint32_t Shard : H.Buffers) {
      plan::Step &S = emit(IssueSlot, plan::StepOp::Copy, Name,
                           copyStream(Device), {Shard}, {*B}, Layer);
      S.Attrs.set("dst_offset", static_cast<int64_t>(Offset));
      Offset += P.Buffers[Shard].Bytes;
    }
  }
  Staged[Key] = *B;
  return *B;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

Layout ScheduleBuilder::keptLayout(ir::ValueId Operand, uint32_t Group,
                                   uint32_t Member, bool AllowLastAxis) const {
  unsigned Device = group(Group)[Member];
  int Rank = static_cast<int>(G.getValue(Operand).Type.Dims.rank());
  // Look through reshapes (made only where needed) to the value made, and
  // map its split axis back through them.
  llvm::SmallVector<ir::ValueId, 2> Views;
  ir::ValueId V = Operand;
  while (!G.getValue(V).isDeclared() &&
         G.getOp(G.getValue(V).Def).Kind == ir::OpKind::Reshape) {
    Views.push_back(V);
    V = G.getOp(G.getValue(V).Def).Operands[0];
  }
  auto It = Instances.find(V);
  if (It == Instances.end())
    return Layout::full();
  for (const Instance &I : It->second) {
    if (I.Device != Device || I.L.K != Layout::Split || I.L.Group != Group ||
        I.L.Member != Member)
      continue;
    std::optional<int> Axis = I.L.Axis;
    ir::ValueId From = V;
    for (auto R = Views.rbegin(); R != Views.rend() && Axis; ++R) {
      Axis = mapSplitAxis(G.getValue(From).Type.Dims.dims(), *Axis,
                          G.getValue(*R).Type.Dims.dims());
      From = *R;
    }
    if (Axis && (AllowLastAxis || *Axis != Rank - 1))
      return Layout::split(*Axis, Group, Member);
  }
  return Layout::full();
}

Layout ScheduleBuilder::broadcastLayout(ir::ValueId A, ir::ValueId B,
                                        const Layout &L) const {
  if (L.K != Layout::Split)
    return L;
  int Shift = static_cast<int>(G.getValue(A).Type.Dims.rank()) -
              static_cast<int>(G.getValue(B).Type.Dims.rank());
  if (L.Axis < Shift)
    return Layout::full(); // broadcast along the split axis
  Layout BL = L;
  BL.Axis = L.Axis - Shift;
  // A dimension of 1 is broadcast, not split.
  if (G.getValue(B).Type.Dims[BL.Axis] == 1)
    return Layout::full();
  return BL;
}

plan::StepAttrs ScheduleBuilder::opAttrs(const ir::Op &O) const {
  plan::StepAttrs A;
  for (const auto &[Key, V] : O.Attrs) {
    if (Key == ir::AttrKeys::Layer || Key == ir::AttrKeys::Device ||
        Key == PlacementKeys::Devices || Key == PlacementKeys::PlacedBy ||
        Key == "devices_reduced")
      continue;
    switch (V.kind()) {
    case ir::Attribute::Kind::Bool:
      A.set(Key, int64_t(V.getBool()));
      break;
    case ir::Attribute::Kind::Int:
      A.set(Key, V.getInt());
      break;
    case ir::Attribute::Kind::Float:
      A.set(Key, V.getFloat());
      break;
    case ir::Attribute::Kind::String:
      A.set(Key, V.getString());
      break;
    case ir::Attribute::Kind::IntList:
      A.set(Key, V.getIntList());
      break;
    }
  }
  return A;
}

const SharedHome *ScheduleBuilder::homeOf(ir::ValueId V) const {
  // An in-place update's result is the cache it updated.
  while (!G.getValue(V).isDeclared()) {
    const ir::Op &Def = G.getOp(G.getValue(V).Def);
    int Aliased = ir::getOpInfo(Def.Kind).AliasedOperand;
    if (Aliased < 0)
      return nullptr;
    V = Def.Operands[Aliased];
  }
  return G.getValue(V).isShared() ? HomeOf[V] : nullptr;
}

const SharedHome *ScheduleBuilder::splitHomeOf(ir::ValueId V) const {
  const SharedHome *H = homeOf(V);
  return H && H->Where == plan::Location::Kind::Device && H->isSplit()
             ? H
             : nullptr;
}

std::vector<unsigned>
ScheduleBuilder::followWholeWeight(ir::ValueId W,
                                   std::vector<unsigned> Devices) const {
  const SharedHome *H = homeOf(W);
  if (Devices.size() != 1 || !H || H->Where != plan::Location::Kind::Device ||
      H->isSplit() || llvm::is_contained(H->Devices, Devices[0]))
    return Devices;
  return {H->Devices[0]};
}

llvm::Expected<std::vector<unsigned>>
ScheduleBuilder::placedDevices(const ir::Op &Op) const {
  const std::string &Name = G.getValue(Op.Result).Name;
  Placement Where = getPlacement(Op.Attrs);
  if (Where.Where != Placement::Kind::Devices)
    return scheduleError("op %" + Name + " (" + ir::getOpName(Op.Kind) +
                         ") was not placed on a device");
  for (unsigned D : Where.Devices)
    if (D >= P.Devices.size())
      return scheduleError("op %" + Name + " is placed on device " +
                           llvm::Twine(D) + ", which does not exist");
  return std::vector<unsigned>(Where.Devices.begin(), Where.Devices.end());
}

template <typename Fn>
OpPlan ScheduleBuilder::eachMember(const ir::Op &Op,
                                   std::vector<unsigned> Devices, Fn Each) {
  OpPlan Plan;
  Plan.Devices = std::move(Devices);
  uint32_t Grp = groupOf(Plan.Devices);
  Plan.Members.assign(Plan.Devices.size(), {});
  for (uint32_t M = 0; M < Plan.Devices.size(); ++M) {
    Plan.Members[M].Operands.assign(Op.Operands.size(), Layout::full());
    Each(Grp, M, Plan.Members[M]);
  }
  return Plan;
}

llvm::Error ScheduleBuilder::processOp(size_t K) {
  CurrentOp = K;
  const ir::Op &Op = G.getOp(Order[K]);
  auto Devices = placedDevices(Op);
  if (!Devices)
    return Devices.takeError();
  if (Op.Kind == ir::OpKind::Reshape)
    return llvm::Error::success(); // a view, made where it is needed
  if (Op.Kind == ir::OpKind::AllReduce)
    return passAllReduce(Op, *Devices, beforeSlot(K));
  auto Plan = planOp(Op, std::move(*Devices));
  if (!Plan)
    return Plan.takeError();
  return emitMembers(K, Op, *Plan);
}

llvm::Error ScheduleBuilder::passAllReduce(const ir::Op &Op,
                                           llvm::ArrayRef<unsigned> Devices,
                                           uint32_t Before) {
  // Partial sums become whole on every member; a value already whole
  // (nothing was split) passes through.
  ir::ValueId In = Op.Operands[0];
  for (unsigned D : Devices) {
    auto B = require(In, D, Layout::full(), Before);
    if (!B)
      return B.takeError();
    const Instance *I = findInstance(In, D, Layout::full());
    addInstance(Op.Result, D, Layout::full(), *B, I ? I->Slot : Before);
  }
  return llvm::Error::success();
}

llvm::Expected<OpPlan> ScheduleBuilder::planOp(const ir::Op &Op,
                                               std::vector<unsigned> Devices) {
  switch (Op.Kind) {
  case ir::OpKind::MatMul:
    return planMatMul(Op, std::move(Devices));
  case ir::OpKind::Embedding:
    return planEmbedding(Op, std::move(Devices));
  case ir::OpKind::KVAppend:
  case ir::OpKind::Attention:
  case ir::OpKind::MLAAttention:
    return planCacheOp(Op, std::move(Devices));
  case ir::OpKind::MoEExperts:
    return planExperts(Op, std::move(Devices));
  case ir::OpKind::Add:
  case ir::OpKind::Mul:
  case ir::OpKind::SiLUMul:
  case ir::OpKind::RoPE:
  case ir::OpKind::Softmax:
  case ir::OpKind::Slice:
    return planElementwise(Op, std::move(Devices));
  default:
    // Everything else (norms, argmax, routing) needs whole inputs and
    // makes a whole result on each device of its group.
    return eachMember(Op, std::move(Devices),
                      [](uint32_t, uint32_t, MemberPlan &) {});
  }
}

OpPlan ScheduleBuilder::planMatMul(const ir::Op &Op,
                                   std::vector<unsigned> Devices) {
  using namespace ir::MatMulOperand;
  ir::ValueId W = Op.Operands[Weight];
  // A weight split over a group runs the op there: split by rows, each
  // member makes its slice of the result from the whole input; by columns,
  // an addend of the result from its slice of the input.
  std::optional<int64_t> Axis;
  if (const SharedHome *Pivot = splitHomeOf(W)) {
    Devices = Pivot->Devices;
    Axis = Pivot->Axis;
  } else if (Devices.size() > 1) {
    // An offloaded matrix used by a tensor-parallel group is staged in
    // shares, split as it would have been on the group.
    if (const SharedHome *H = homeOf(W);
        H && H->Where != plan::Location::Kind::Device &&
        G.getValue(W).Type.Dims.rank() == 2)
      Axis = isColumnSplitUnderTensorParallel(G.getValue(W)) ? 1 : 0;
  } else {
    // A weight moved whole to another device by a fallback: run the op
    // there rather than move the weight.
    Devices = followWholeWeight(W, std::move(Devices));
  }
  int Last = static_cast<int>(G.getValue(Op.Result).Type.Dims.rank()) - 1;
  int InLast =
      static_cast<int>(G.getValue(Op.Operands[Input]).Type.Dims.rank()) - 1;
  return eachMember(
      Op, std::move(Devices), [&](uint32_t Grp, uint32_t M, MemberPlan &MP) {
        if (!Axis)
          return;
        MP.Operands[Weight] = Layout::split(static_cast<int>(*Axis), Grp, M);
        if (*Axis == 0) {
          MP.Out = Layout::split(Last, Grp, M);
        } else {
          MP.Operands[Input] = Layout::split(InLast, Grp, M);
          MP.Out = Layout::partial(Grp, M);
        }
      });
}

OpPlan ScheduleBuilder::planEmbedding(const ir::Op &Op,
                                      std::vector<unsigned> Devices) {
  using namespace ir::EmbeddingOperand;
  ir::ValueId T = Op.Operands[Table];
  const SharedHome *Pivot = splitHomeOf(T);
  Devices = Pivot ? Pivot->Devices : followWholeWeight(T, std::move(Devices));
  int64_t Rows = G.getValue(T).Type.Dims[0];
  unsigned N = Devices.size();
  return eachMember(Op, std::move(Devices),
                    [&](uint32_t Grp, uint32_t M, MemberPlan &MP) {
                      if (!Pivot)
                        return;
                      // Vocabulary-parallel: each member gathers the rows it
                      // holds and writes zeros for the others; the sum of
                      // the parts is the whole.
                      MP.Operands[Table] = Layout::split(0, Grp, M);
                      MP.Out = Layout::partial(Grp, M);
                      MP.Extra.set("row_offset", shardRange(Rows, N, M).Begin);
                      MP.Extra.set("vocab", Rows);
                    });
}

llvm::Expected<OpPlan>
ScheduleBuilder::planCacheOp(const ir::Op &Op, std::vector<unsigned> Devices) {
  bool Append = Op.Kind == ir::OpKind::KVAppend;
  bool Latent = Op.Kind == ir::OpKind::MLAAttention;
  ir::ValueId Cache = Op.Operands[Append   ? ir::KVAppendOperand::Cache
                                  : Latent ? ir::MLAAttentionOperand::Latent
                                           : ir::AttentionOperand::Keys];
  // An MLA cache has one head: it is never split, and its attention reads
  // whole inputs where the caches are.
  const SharedHome *Pivot = Latent ? nullptr : splitHomeOf(Cache);
  if (Pivot) {
    Devices = Pivot->Devices;
  } else {
    // Runs where its cache is.
    const SharedHome *H = homeOf(Cache);
    if (!H || H->Where != plan::Location::Kind::Device)
      return scheduleError("op %" + G.getValue(Op.Result).Name +
                           ": its KV cache is not on a device");
    Devices = {H->Devices[0]};
  }
  // A cache split by KV heads splits the queries, the new keys and values
  // and the result by heads alike: [batch, tokens, heads, head size].
  constexpr int HeadAxis = 2;
  return eachMember(Op, std::move(Devices),
                    [&](uint32_t Grp, uint32_t M, MemberPlan &MP) {
                      if (!Pivot)
                        return;
                      Layout Heads = Layout::split(HeadAxis, Grp, M);
                      if (Append) {
                        MP.Operands[ir::KVAppendOperand::Cache] = Heads;
                        MP.Operands[ir::KVAppendOperand::New] = Heads;
                      } else {
                        MP.Operands[ir::AttentionOperand::Queries] = Heads;
                        MP.Operands[ir::AttentionOperand::Keys] = Heads;
                        MP.Operands[ir::AttentionOperand::Values] = Heads;
                      }
                      MP.Out = Heads;
                    });
}

std::vector<unsigned> ScheduleBuilder::expertHolders(const ir::Op &Op,
                                                     unsigned Placed) const {
  std::vector<unsigned> Holders;
  bool Offloaded = false;
  for (size_t I = ir::MoEExpertsOperand::FirstExpert; I < Op.Operands.size();
       ++I) {
    const SharedHome *H = homeOf(Op.Operands[I]);
    if (!H)
      continue;
    if (H->Where != plan::Location::Kind::Device) {
      Offloaded = true;
      continue;
    }
    for (unsigned D : H->Devices)
      if (!llvm::is_contained(Holders, D))
        Holders.push_back(D);
  }
  // Offloaded experts are staged where the op was placed.
  if (Offloaded && !llvm::is_contained(Holders, Placed))
    Holders.push_back(Placed);
  llvm::sort(Holders);
  return Holders;
}

OpPlan ScheduleBuilder::planExperts(const ir::Op &Op,
                                    std::vector<unsigned> Devices) {
  // Expert parallel: each device holding experts (or shards of them)
  // computes their contribution; the parts are summed by an all-reduce.
  const unsigned Placed = Devices[0];
  std::vector<unsigned> Holders = expertHolders(Op, Placed);
  if (Holders.size() <= 1)
    return eachMember(Op, Holders.empty() ? std::move(Devices) : Holders,
                      [](uint32_t, uint32_t, MemberPlan &) {});
  using ir::MoEExpertsOperand::ExpertPart;
  const ExpertPart Parts[] = {ExpertPart::Gate, ExpertPart::Up,
                              ExpertPart::Down};
  return eachMember(Op, Holders, [&](uint32_t Grp, uint32_t M, MemberPlan &MP) {
    unsigned D = Holders[M];
    MP.Out = Layout::partial(Grp, M);
    std::vector<int64_t> Experts;
    for (unsigned E = 0; E < ir::getNumExperts(Op); ++E) {
      // The member computes expert E if it holds all of its weights (or
      // their shards), or stages the offloaded ones.
      bool Here = true;
      for (ExpertPart Part : Parts) {
        unsigned J = ir::getExpertOperand(E, Part);
        const SharedHome *H = homeOf(Op.Operands[J]);
        if (!H || H->Where != plan::Location::Kind::Device) {
          Here = Here && D == Placed;
          continue;
        }
        auto Pos = llvm::find(H->Devices, D);
        if (Pos == H->Devices.end()) {
          Here = false;
          continue;
        }
        if (H->isSplit())
          MP.Operands[J] =
              Layout::split(static_cast<int>(H->Axis), groupOf(H->Devices),
                            static_cast<uint32_t>(Pos - H->Devices.begin()));
      }
      if (Here)
        Experts.push_back(E);
      else
        for (ExpertPart Part : Parts)
          MP.Skip.push_back(ir::getExpertOperand(E, Part));
    }
    MP.Extra.set("experts", Experts);
  });
}

OpPlan ScheduleBuilder::planElementwise(const ir::Op &Op,
                                        std::vector<unsigned> Devices) {
  using namespace ir::BinaryOperand;
  bool Binary = Op.Kind == ir::OpKind::Add || Op.Kind == ir::OpKind::Mul ||
                Op.Kind == ir::OpKind::SiLUMul;
  // A split bias (of q, k or v) added or multiplied in decides the group.
  const SharedHome *Pivot = nullptr;
  if ((Op.Kind == ir::OpKind::Add || Op.Kind == ir::OpKind::Mul) &&
      G.getValue(Op.Operands[Right]).isShared())
    Pivot = splitHomeOf(Op.Operands[Right]);
  if (Pivot)
    Devices = Pivot->Devices;
  int Rank = static_cast<int>(G.getValue(Op.Result).Type.Dims.rank());
  std::optional<int64_t> SliceAxis = Op.Attrs.getInt("axis");
  bool Several = Devices.size() > 1;
  return eachMember(
      Op, std::move(Devices), [&](uint32_t Grp, uint32_t M, MemberPlan &MP) {
        // A split flows through unless the op reads along the split axis: rope
        // and softmax read the whole last axis, a slice its own axis.
        Layout L;
        if (Pivot) {
          L = Layout::split(Rank - 1, Grp, M);
        } else if (Several) {
          L = keptLayout(Op.Operands[Left], Grp, M,
                         Op.Kind != ir::OpKind::RoPE &&
                             Op.Kind != ir::OpKind::Softmax);
          if (Op.Kind == ir::OpKind::Slice && L.K == Layout::Split &&
              SliceAxis && L.Axis == *SliceAxis)
            L = Layout::full();
        }
        MP.Operands[Left] = L;
        MP.Out = L;
        if (Binary)
          MP.Operands[Right] =
              Pivot ? Layout::split(0, Grp, M)
                    : broadcastLayout(Op.Operands[Left], Op.Operands[Right], L);
      });
}

llvm::Error ScheduleBuilder::emitMembers(size_t K, const ir::Op &Op,
                                         const OpPlan &Plan) {
  const std::string &Name = G.getValue(Op.Result).Name;
  std::optional<int64_t> Layer = Op.Attrs.getInt(ir::AttrKeys::Layer);
  plan::StepAttrs Attrs = opAttrs(Op);
  int Aliased = ir::getOpInfo(Op.Kind).AliasedOperand;
  for (uint32_t M = 0; M < Plan.Devices.size(); ++M) {
    unsigned D = Plan.Devices[M];
    const MemberPlan &MP = Plan.Members[M];
    std::vector<uint32_t> Inputs;
    for (size_t I = 0; I < Op.Operands.size(); ++I) {
      if (llvm::is_contained(MP.Skip, I))
        continue;
      auto B = require(Op.Operands[I], D, MP.Operands[I], beforeSlot(K));
      if (!B)
        return scheduleError("op %" + Name + " on device " + llvm::Twine(D) +
                             ": " + toString(B.takeError()));
      Inputs.push_back(*B);
    }
    std::vector<uint32_t> Outputs;
    if (Aliased >= 0) {
      // In place: the result is the operand's buffer.
      Outputs.push_back(Inputs[Aliased]);
    } else {
      llvm::StringRef By = MP.Out.K == Layout::Partial ? "partial sum"
                           : MP.Out.K == Layout::Split ? "split"
                                                       : "computed";
      auto B =
          newBuffer(Op.Result, D, MP.Out, plan::BufferKind::Activation, "", By);
      if (!B)
        return B.takeError();
      Outputs.push_back(*B);
    }
    addInstance(Op.Result, D, MP.Out, Outputs.front(), afterSlot(K));
    plan::Step &S =
        emit(afterSlot(K), stepOpOf(Op.Kind), Name, computeStream(D),
             std::move(Inputs), std::move(Outputs), Layer);
    S.Attrs = Attrs;
    for (const auto &[Key, V] : MP.Extra.Values)
      S.Attrs.set(Key, V);
  }
  return llvm::Error::success();
}

llvm::Error ScheduleBuilder::run(ir::ProgramId ProgId) {
  Prog = ProgId;
  const ir::Program &Program = G.getProgram(Prog);
  ProgName = Program.Name;
  auto Sorted = G.topologicalOrder(Prog);
  if (!Sorted)
    return Sorted.takeError();
  Order = std::move(*Sorted);
  Slots.assign(2 * Order.size() + 2, {});
  Instances.clear();
  Staged.clear();
  InputBuffers.clear();
  NextCollective = 0;
  // Staging is issued one layer ahead: as many ops as the first layer has.
  std::optional<int64_t> FirstLayer;
  Lookahead = 0;
  for (ir::OpId O : Order) {
    std::optional<int64_t> L = G.getOp(O).Attrs.getInt(ir::AttrKeys::Layer);
    if (!L)
      continue;
    if (!FirstLayer)
      FirstLayer = L;
    Lookahead += L == FirstLayer;
  }
  Lookahead = std::max<size_t>(Lookahead, 1);

  for (size_t K = 0; K < Order.size(); ++K)
    if (llvm::Error E = processOp(K))
      return E;

  plan::ProgramSchedule S;
  S.Name = ProgName;
  for (ir::ValueId Out : Program.Outputs) {
    // An output is read back from the first device that has it whole.
    auto It = Instances.find(Out);
    if (It == Instances.end() || It->second.empty())
      return scheduleError("output %" + G.getValue(Out).Name +
                           " is never computed");
    unsigned D = It->second.front().Device;
    for (const Instance &I : It->second)
      if (I.L.K == Layout::Full) {
        D = I.Device;
        break;
      }
    auto B = require(Out, D, Layout::full(), endSlot());
    if (!B)
      return B.takeError();
    S.Outputs.push_back({G.getValue(Out).Name, {*B}});
  }
  for (ir::ValueId In : Program.Inputs)
    S.Inputs.push_back({G.getValue(In).Name, InputBuffers[In]});
  for (std::vector<plan::Step> &Slot : Slots)
    for (plan::Step &Step : Slot)
      S.Steps.push_back(std::move(Step));
  P.Programs.push_back(std::move(S));
  return llvm::Error::success();
}

} // namespace

llvm::Error buildSchedules(const ir::Graph &G, plan::Plan &P) {
  P.Streams.clear();
  P.Programs.clear();
  for (const plan::Device &D : P.Devices) {
    P.Streams.push_back({D.Index, plan::StreamKind::Compute});
    P.Streams.push_back({D.Index, plan::StreamKind::Copy});
  }
  // Buffers are many and moved on every reallocation: reserve for about
  // one per op and device, plus copies and views.
  size_t Parts = 0;
  for (const ir::Program &Prog : G.programs())
    for (ir::OpId O : Prog.Body)
      Parts +=
          std::max<size_t>(1, getPlacement(G.getOp(O).Attrs).Devices.size());
  P.Buffers.reserve(P.Buffers.size() + 2 * Parts);
  ScheduleBuilder Builder(G, P);
  for (ir::ProgramId Prog = 0; Prog < G.programs().size(); ++Prog)
    if (llvm::Error E = Builder.run(Prog))
      return E;
  return llvm::Error::success();
}

} // namespace strata::passes
