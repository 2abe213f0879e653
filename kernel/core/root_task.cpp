// SPDX-License-Identifier: MIT
#include "core/root_task.hpp"

#include <abi/boot_info.hpp>
#include <abi/registers.hpp>

#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include "arch/x86_64/pte.hpp"
#include "mem/phys.hpp"
#include "object/asid.hpp"
#include "object/mdb.hpp"
#include "object/untyped.hpp"
#include "object/vspace.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::ObjectType;

constexpr uint64_t kPage = 4096;

struct Loader {
  BootCSpace& cs;
  mem::PhysMap& phys;
  uint64_t limit;
  Slot* vspace;  // The root task's PML4 capability.

  abi::Result<PhysAddr> alloc(uint64_t bytes) {
    auto r = phys.allocate(bytes, bytes, 1u << 20, limit);
    if (!r) {
      return abi::err(abi::Status::kNotEnoughMemory);
    }
    return r.value();
  }

  // A new object of `type` in the next free slot of the root CNode.
  abi::Result<Slot*> make(ObjectType type) {
    PhysAddr p = TRY(alloc(uint64_t{1} << abi::object_size_bits(type, 0)));
    uint64_t slot = boot_cspace_append(cs, create_object(type, p, 0, false));
    return &cs.slots[slot];
  }

  // Creates whatever page tables are missing above `vaddr`.
  abi::Result<void> ensure_tables(uint64_t vaddr) {
    constexpr ObjectType kTypes[] = {ObjectType::kPdpt, ObjectType::kPageDirectory,
                                     ObjectType::kPageTable};
    for (ObjectType type : kTypes) {
      Cap probe = create_probe(type);
      auto m = check_table_map(probe, vspace->cap, vaddr);
      if (!m) {
        if (m.error() == abi::Status::kDeleteFirst) {
          continue;  // Already there.
        }
        return abi::err(m.error());
      }
      Slot* table = TRY(make(type));
      perform_table_map(table, m.value());
    }
    return {};
  }

  // An unmapped capability of `type` to probe where a table would go (never stored).
  static Cap create_probe(ObjectType type) {
    switch (type) {
      case ObjectType::kPdpt: return Cap::table(CapType::kPdpt, 0);
      case ObjectType::kPageDirectory: return Cap::table(CapType::kPageDirectory, 0);
      default: return Cap::table(CapType::kPageTable, 0);
    }
  }

  abi::Result<void> map(Slot* frame, uint64_t vaddr, uint8_t rights) {
    TRY(ensure_tables(vaddr));
    FrameMapping m = TRY(check_frame_map(frame->cap, vspace->cap, vaddr, rights, 0));
    perform_frame_map(frame, m);
    return {};
  }

  // A fresh frame mapped at `vaddr`, returned through its kernel window.
  abi::Result<uint8_t*> map_new(uint64_t vaddr, uint8_t rights, Slot** slot_out = nullptr) {
    Slot* frame = TRY(make(ObjectType::kFrame4K));
    TRY(map(frame, vaddr, rights));
    if (slot_out != nullptr) {
      *slot_out = frame;
    }
    return mem::phys_to<uint8_t>(frame->cap.object());
  }
};

uint8_t segment_rights(uint32_t flags) {
  uint8_t r = Rights::kRead;
  if ((flags & elf::kFlagWrite) != 0) {
    r |= Rights::kWrite;
  }
  if ((flags & elf::kFlagExecute) != 0) {
    r |= Rights::kExecute;
  }
  return r;
}

abi::Result<void> load_segments(Loader& l, const elf::Image& img, kstd::span<const uint8_t> file) {
  for (size_t i = 0; i < img.segment_count; ++i) {
    const elf::Segment& s = img.segments[i];
    for (uint64_t off = 0; off < s.memsz; off += kPage) {
      uint8_t* page = TRY(l.map_new(s.vaddr + off, segment_rights(s.flags)));
      if (off < s.filesz) {
        memcpy(page, file.data() + s.offset + off, kstd::min(kPage, s.filesz - off));
      }
    }
  }
  return {};
}

abi::Result<Tcb*> build(Loader& l, const elf::Image& img, kstd::span<const uint8_t> file) {
  BootCSpace& cs = l.cs;
  abi::BootInfo& info = *cs.info;

  // ASID pool 0, and the root task's address space with its first ASID.
  PhysAddr pool = TRY(l.alloc(kPage));
  memset(mem::phys_to<void>(pool), 0, kPage);
  asid_install_pool(0, pool);
  mdb_insert_root(&cs.slots[abi::kSlotInitAsidPool], Cap::asid_pool(pool, 0), true);
  PhysAddr pml4 = TRY(l.alloc(kPage));
  Cap vs = create_object(ObjectType::kPml4, pml4, 0, false);
  uint64_t asid = TRY(asid_assign(0, pml4));
  mdb_insert_root(&cs.slots[abi::kSlotInitVSpace], vs.with_pml4_asid(asid), true);
  l.vspace = &cs.slots[abi::kSlotInitVSpace];

  info.user_image.start = cs.next_free;
  TRY(load_segments(l, img, file));
  for (uint64_t v = abi::kRootStackTop - abi::kRootStackSize; v < abi::kRootStackTop; v += kPage) {
    TRY(l.map_new(v, Rights::kRead | Rights::kWrite));
  }
  for (uint64_t i = 0; i < abi::BootInfo::kPages; ++i) {
    TRY(l.map(&cs.slots[info.boot_info_frames.start + i], abi::kRootBootInfoVaddr + i * kPage,
              Rights::kRead));
  }
  Slot* ipc = nullptr;
  TRY(l.map_new(abi::kRootIpcBufferVaddr, Rights::kRead | Rights::kWrite, &ipc));
  info.user_image.end = cs.next_free;

  // The IPC buffer frame's capability also sits in its fixed slot.
  mdb_insert_derived(ipc, &cs.slots[abi::kSlotInitIpcBuffer], ipc->cap.without_mapping());

  PhysAddr tcb_phys = TRY(l.alloc(uint64_t{1} << abi::kTcbBits));
  Cap tcb_cap = create_object(ObjectType::kTcb, tcb_phys, 0, false);
  mdb_insert_root(&cs.slots[abi::kSlotInitTcb], tcb_cap, true);
  Tcb* t = mem::phys_to<Tcb>(tcb_phys);
  mdb_insert_derived(&cs.slots[abi::kSlotInitCNode], &t->slots[kTcbCSpaceSlot], cs.root_cnode);
  mdb_insert_derived(l.vspace, &t->slots[kTcbVSpaceSlot], l.vspace->cap);
  mdb_insert_derived(&cs.slots[abi::kSlotInitIpcBuffer], &t->slots[kTcbIpcBufferSlot],
                     cs.slots[abi::kSlotInitIpcBuffer].cap);
  t->ipc_buffer_vaddr = abi::kRootIpcBufferVaddr;
  t->priority = abi::kRootPriority;
  t->mcp = abi::kRootPriority;
  t->context.rip = img.entry;
  t->context.rsp = abi::kRootStackTop;
  t->context.rdi = abi::kRootBootInfoVaddr;
  return t;
}

}  // namespace

abi::Result<Tcb*, RootTaskError> create_root_task(BootCSpace& cs, mem::PhysMap& map,
                                                  kstd::span<const uint8_t> image,
                                                  uint64_t ram_limit) {
  auto img = elf::parse(image, abi::kUserTop);
  if (!img) {
    return abi::Error{RootTaskError{true, img.error(), abi::Status::kOk}};
  }
  Loader l{cs, map, ram_limit, nullptr};
  auto t = build(l, img.value(), image);
  if (!t) {
    return abi::Error{RootTaskError{false, elf::Error::kTooSmall, t.error()}};
  }
  return t.value();
}

}  // namespace kernel
