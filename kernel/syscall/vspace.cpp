// SPDX-License-Identifier: MIT
//
// Frame and page-table invocations.
#include <abi/invocation.hpp>

#include "object/vspace.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

using abi::Label;
using abi::Status;

abi::Result<void> decode_frame(Slot* target, Invocation& inv) {
  switch (static_cast<Label>(inv.label)) {
    case Label::kFrameMap: {
      Slot* vspace = TRY(lookup_typed_arg(inv, inv.args[0], CapType::kPml4));
      FrameMapping m =
          TRY(check_frame_map(target->cap, vspace->cap, inv.args[1], inv.args[2], inv.args[3]));
      perform_frame_map(target, m);
      return {};
    }
    case Label::kFrameUnmap: perform_unmap(target); return {};
    case Label::kFrameAddress:
      inv.reply[0] = target->cap.object();
      inv.reply_length = 1;
      return {};
    default: return abi::err(Status::kIllegalOperation);
  }
}

abi::Result<void> decode_table(Slot* target, Invocation& inv) {
  switch (static_cast<Label>(inv.label)) {
    case Label::kPageTableMap:
    case Label::kPageDirectoryMap:
    case Label::kPdptMap: {
      Slot* vspace = TRY(lookup_typed_arg(inv, inv.args[0], CapType::kPml4));
      TableMapping m = TRY(check_table_map(target->cap, vspace->cap, inv.args[1]));
      perform_table_map(target, m);
      return {};
    }
    case Label::kPageTableUnmap:
    case Label::kPageDirectoryUnmap:
    case Label::kPdptUnmap: perform_unmap(target); return {};
    default: return abi::err(Status::kIllegalOperation);
  }
}

}  // namespace kernel
