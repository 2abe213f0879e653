// SPDX-License-Identifier: MIT
#include <kstd/utility.hpp>

#include <sys/invoke.hpp>
#include <sys/ipc.hpp>

#include <kstd/enforce.hpp>

namespace sys {

Result<Reply> invoke(uint64_t cptr, abi::Label label, const uint64_t* args, uint64_t count) {
  Message msg;
  msg.label = static_cast<uint64_t>(label);
  msg.length = count;
  for (uint64_t i = 0; i < count && i < abi::kMaxMessageWords; ++i) {
    msg.words[i] = args[i];
  }
  Status s = call(cptr, msg);
  if (s != Status::kOk) {
    return abi::err(s);
  }
  Reply r;
  r.length = msg.length < sizeof(r.words) / sizeof(r.words[0]) ? msg.length
                                                                 : sizeof(r.words) / 8;
  for (uint64_t i = 0; i < r.length; ++i) {
    r.words[i] = msg.words[i];
  }
  return r;
}

Result<Reply> invoke(uint64_t cptr, abi::Label label, kstd::initializer_list<uint64_t> args) {
  return invoke(cptr, label, args.begin(), args.size());
}

Result<void> invoke_void(uint64_t cptr, abi::Label label, kstd::initializer_list<uint64_t> args) {
  auto r = invoke(cptr, label, args.begin(), args.size());
  if (!r) {
    return abi::err(r.error());
  }
  return {};
}

Result<CapInfo> cnode_describe(uint64_t root, uint64_t index, uint64_t depth) {
  Reply r = TRY(invoke(root, abi::Label::kCNodeDescribe, {index, depth}));
  return CapInfo{static_cast<abi::CapType>(r.words[0]),
                 abi::Rights{static_cast<uint8_t>(r.words[1])}, r.words[2], r.words[3],
                 r.words[4]};
}

Result<UntypedInfo> untyped_describe(uint64_t ut) {
  Reply r = TRY(invoke(ut, abi::Label::kUntypedDescribe, {}));
  return UntypedInfo{r.words[0], r.words[1], r.words[2] != 0, r.words[3]};
}

Result<Registers> tcb_read_registers(uint64_t tcb, bool suspend) {
  Reply r = TRY(invoke(tcb, abi::Label::kTcbReadRegisters,
                       {suspend ? 1u : 0u, abi::kRegisterCount}));
  Registers regs{};
  for (uint64_t i = 0; i < abi::kRegisterCount; ++i) {
    regs.r[i] = r.words[i];
  }
  return regs;
}

Result<void> tcb_write_registers(uint64_t tcb, bool resume, const Registers& regs,
                                 uint64_t count) {
  uint64_t args[2 + abi::kRegisterCount];
  args[0] = resume ? 1 : 0;
  args[1] = count;
  for (uint64_t i = 0; i < count && i < abi::kRegisterCount; ++i) {
    args[2 + i] = regs.r[i];
  }
  auto r = invoke(tcb, abi::Label::kTcbWriteRegisters, args, 2 + count);
  if (!r) {
    return abi::err(r.error());
  }
  return {};
}

Result<uint64_t> frame_address(uint64_t frame) {
  Reply r = TRY(invoke(frame, abi::Label::kFrameAddress, {}));
  return r.words[0];
}

namespace {

abi::Label map_label(abi::CapType type, bool map) {
  switch (type) {
    case abi::CapType::kPageDirectory:
      return map ? abi::Label::kPageDirectoryMap : abi::Label::kPageDirectoryUnmap;
    case abi::CapType::kPdpt: return map ? abi::Label::kPdptMap : abi::Label::kPdptUnmap;
    default: return map ? abi::Label::kPageTableMap : abi::Label::kPageTableUnmap;
  }
}

}  // namespace

Result<void> table_map(abi::CapType type, uint64_t table, uint64_t vspace, uint64_t vaddr) {
  return invoke_void(table, map_label(type, true), {vspace, vaddr});
}

Result<void> table_unmap(abi::CapType type, uint64_t table) {
  return invoke_void(table, map_label(type, false), {});
}

}  // namespace sys
