// SPDX-License-Identifier: MIT
//
// Building a server: everything in abi/server.hpp, made from the server's container untyped.
//
// The root CNode is small, so the capabilities of a server's objects do not stay in it: each is
// made in a root slot, used there (a frame is mapped into the root task to be filled), then
// moved into the top of the server's own CNode ("stashed"), above the range the server is told
// is free. Only the server's CNode, TCB and PML4 keep a root slot, for later invocations.
#include <abi/invocation.hpp>
#include <abi/protocols/supervisor.hpp>
#include <abi/server.hpp>

#include <sys/debug.hpp>
#include <sys/invoke.hpp>

#include "lib/elf.hpp"
#include "lib/format.hpp"
#include "root.hpp"
#include "server.hpp"

#include <kstd/enforce.hpp>

extern "C" void* memcpy(void* dst, const void* src, size_t n);
extern "C" void* memset(void* dst, int c, size_t n);

namespace root {
namespace {

using abi::ObjectType;
using abi::Rights;
using abi::Status;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kServerSlots = uint64_t{1} << abi::kServerCNodeRadix;
// The top quarter of a server's CNode holds the capabilities of its own infrastructure.
constexpr uint64_t kInfraFirst = kServerSlots - kServerSlots / 4;
// Room for the CNode, TCB, PML4, page tables, stack, IPC buffer and info page, beyond the image.
constexpr uint64_t kInfraBytes = 256 * 1024;
constexpr uint64_t kServerCNodeGuard = abi::cnode_guard_data(0, 64 - abi::kServerCNodeRadix);

uint64_t log2_ceil(uint64_t v) {
  uint64_t bits = 0;
  while ((uint64_t{1} << bits) < v) {
    ++bits;
  }
  return bits;
}

void copy_name(char* dst, const char* src) {
  size_t i = 0;
  for (; i + 1 < abi::kManifestMaxName && src[i] != '\0'; ++i) {
    dst[i] = src[i];
  }
  dst[i] = '\0';
}

uint8_t segment_rights(uint32_t flags) {
  uint8_t r = Rights::kRead;
  if ((flags & kernel::elf::kFlagWrite) != 0) {
    r |= Rights::kWrite;
  }
  if ((flags & kernel::elf::kFlagExecute) != 0) {
    r |= Rights::kExecute;
  }
  return r;
}

// One start of one server.
class Builder {
 public:
  Builder(Context& ctx, Server& s) : ctx_(ctx), s_(s) {
    objects_.init(&ctx.slots);
    objects_.add(s.container, s.container_bits);
  }

  abi::Result<void> build(abi::ServerInfo& info);

 private:
  abi::Result<uint64_t> make(ObjectType type, uint64_t bits = 0) {
    return objects_.alloc(type, bits);
  }

  // Moves the capability in root slot `slot` to the server's infrastructure range.
  abi::Result<void> stash(uint64_t slot) {
    if (next_infra_ == kServerSlots) {
      return abi::err(Status::kNoSpace);
    }
    TRY(sys::cnode_move(s_.cnode, next_infra_, abi::kServerCNodeRadix, abi::kSlotInitCNode, slot,
                        64));
    ++next_infra_;
    ctx_.slots.free(slot);
    return {};
  }

  // Puts a copy (or a badged, rights-reduced mint) of a root capability in the server's slot.
  abi::Result<void> give(uint64_t dest, uint64_t src, uint8_t rights = Rights::kAllBits,
                         uint64_t badge = 0) {
    if (badge == 0) {
      return sys::cnode_copy(s_.cnode, dest, abi::kServerCNodeRadix, abi::kSlotInitCNode, src, 64,
                             rights);
    }
    return sys::cnode_mint(s_.cnode, dest, abi::kServerCNodeRadix, abi::kSlotInitCNode, src, 64,
                           rights, badge);
  }

  // Maps into the server's address space; the page tables made on the way go to its CNode.
  abi::Result<void> map(uint64_t frame, uint64_t vaddr, uint8_t rights, uint64_t attributes = 0) {
    return vspace_.map(frame, vaddr, rights, attributes);
  }
  static abi::Result<void> keep_table(void* builder, uint64_t table) {
    return static_cast<Builder*>(builder)->stash(table);
  }
  // Maps `frame` into the root task, runs fill(page), unmaps it.
  template <typename Fill>
  abi::Result<void> fill(uint64_t frame, Fill fill);
  abi::Result<void> load_image(uint64_t& entry);

  Context& ctx_;
  Server& s_;
  sys::ObjectAllocator objects_;
  sys::VSpace vspace_;  // The server's, once its PML4 exists.
  uint64_t next_infra_ = kInfraFirst;
};

template <typename Fill>
abi::Result<void> Builder::fill(uint64_t frame, Fill fill) {
  TRY(sys::frame_map(frame, abi::kSlotInitVSpace, kScratchVaddr, Rights::kRead | Rights::kWrite));
  fill(reinterpret_cast<uint8_t*>(kScratchVaddr));
  return sys::frame_unmap(frame);
}

// Copies the ELF image into fresh frames, each mapped with its segment's rights (the loader
// rules already refused writable code).
abi::Result<void> Builder::load_image(uint64_t& entry) {
  kstd::span<const uint8_t> file(s_.binary.data, s_.binary.size);
  auto image = kernel::elf::parse(file, abi::kServerHeapBase);
  if (!image) {
    log("server '%s': binary '%s' is not a loadable ELF: %s", s_.record->name, s_.binary.name,
        kernel::elf::error_name(image.error()));
    return abi::err(Status::kCorrupt);
  }
  entry = image.value().entry;
  for (size_t i = 0; i < image.value().segment_count; ++i) {
    const kernel::elf::Segment& seg = image.value().segments[i];
    for (uint64_t off = 0; off < seg.memsz; off += kPage) {
      uint64_t frame = TRY(make(ObjectType::kFrame4K));
      TRY(fill(frame, [&](uint8_t* page) {
        // Retyped frames are zero: copy only the part of the page the file covers.
        if (off < seg.filesz) {
          uint64_t n = seg.filesz - off < kPage ? seg.filesz - off : kPage;
          memcpy(page, s_.binary.data + seg.offset + off, n);
        }
      }));
      TRY(map(frame, seg.vaddr + off, segment_rights(seg.flags)));
      TRY(stash(frame));
    }
  }
  return {};
}

abi::Result<void> Builder::build(abi::ServerInfo& info) {
  const abi::ServerRecord& rec = *s_.record;
  const abi::ManifestHeader& m = *ctx_.plan.manifest;

  // The budget first, largest piece first, so the pieces pack the container from its start.
  uint64_t budget_slots[abi::ServerInfo::kMaxUntyped];
  uint64_t budget_bits[abi::ServerInfo::kMaxUntyped];
  uint64_t budget_count = 0;
  for (int bit = 63; bit >= 12; --bit) {
    if ((rec.memory >> bit & 1) != 0) {
      budget_slots[budget_count] = TRY(make(ObjectType::kUntyped, static_cast<uint64_t>(bit)));
      budget_bits[budget_count++] = static_cast<uint64_t>(bit);
    }
  }

  // The root task addresses the server's CNode through its plain capability (depth = radix);
  // the server gets a copy whose guard makes its slot numbers 64-bit cptrs.
  s_.cnode = TRY(make(ObjectType::kCNode, abi::kServerCNodeRadix));
  TRY(give(abi::kServerSlotCNode, s_.cnode, Rights::kAllBits, kServerCNodeGuard));

  s_.pml4 = TRY(make(ObjectType::kPml4));
  TRY(sys::asid_pool_assign(abi::kSlotInitAsidPool, s_.pml4));
  vspace_.init(s_.pml4, &objects_, keep_table, this);
  TRY(give(abi::kServerSlotVSpace, s_.pml4));
  s_.tcb = TRY(make(ObjectType::kTcb));
  TRY(give(abi::kServerSlotTcb, s_.tcb));
  TRY(give(abi::kServerSlotEndpoint, s_.endpoint));
  TRY(give(abi::kServerSlotSupervisor, ctx_.supervisor_ep, Rights::kWrite | Rights::kGrantReply,
           kSupervisorBadgeBase + s_.index));

  uint64_t entry = 0;
  TRY(load_image(entry));

  uint64_t stack = abi::kServerStackTop - abi::kServerStackSize;
  for (uint64_t va = stack; va < abi::kServerStackTop; va += kPage) {
    uint64_t frame = TRY(make(ObjectType::kFrame4K));
    TRY(map(frame, va, Rights::kRead | Rights::kWrite));
    TRY(stash(frame));
  }
  uint64_t ipc = TRY(make(ObjectType::kFrame4K));
  TRY(map(ipc, abi::kServerIpcBufferVaddr, Rights::kRead | Rights::kWrite));
  TRY(give(abi::kServerSlotIpcBuffer, ipc));

  // Grants, from kServerFirstGrantSlot on; the info page records where each one went.
  uint64_t next = abi::kServerFirstGrantSlot;
  for (uint32_t r = 0; r < rec.required_count; ++r) {
    uint8_t service = rec.required[r];
    const Server& provider = ctx_.servers[ctx_.plan.provider[service]];
    abi::ServiceGrant& g = info.services[info.service_count++];
    copy_name(g.name, m.services[service]);
    g.cptr = next++;
    // Badge: which client is calling (index + 1, so that no client has badge 0).
    TRY(give(g.cptr, provider.endpoint,
             Rights::kWrite | Rights::kGrant | Rights::kGrantReply, s_.index + 1));
  }
  for (uint32_t p = 0; p < rec.provides_count; ++p) {
    copy_name(info.provides[info.provides_count++], m.services[rec.provides[p]]);
  }
  for (uint32_t i = 0; i < rec.port_count; ++i) {
    abi::PortGrant& g = info.ports[info.port_count++];
    g.first = rec.ports[i].first;
    g.last = rec.ports[i].last;
    g.cptr = next++;
    TRY(give(g.cptr, s_.ports[i]));
  }
  for (uint32_t i = 0; i < rec.irq_count; ++i) {
    abi::IrqGrant& g = info.irqs[info.irq_count++];
    g.line = rec.irqs[i];
    g.cptr = next++;
    TRY(give(g.cptr, s_.irqs[i]));
  }
  uint64_t frame = 0;
  uint64_t mmio_va = abi::kServerMmioBase;
  for (uint32_t i = 0; i < rec.mmio_count; ++i) {
    abi::MmioGrant& g = info.mmio[info.mmio_count++];
    g.paddr = rec.mmio[i].base;
    g.size = rec.mmio[i].size;
    g.vaddr = mmio_va;
    for (uint64_t off = 0; off < g.size; off += kPage) {
      uint64_t copy = TRY(ctx_.slots.alloc());
      TRY(sys::cnode_copy(abi::kSlotInitCNode, copy, 64, s_.mmio_cnode, frame++,
                          s_.mmio_cnode_radix));
      TRY(map(copy, mmio_va + off, Rights::kRead | Rights::kWrite, kMapUncached));
      TRY(stash(copy));
    }
    mmio_va += (g.size + (1u << 21) - 1) & ~uint64_t{(1u << 21) - 1};
  }
  for (uint64_t i = 0; i < budget_count; ++i) {
    abi::UntypedGrant& g = info.untyped[info.untyped_count++];
    g.cptr = next++;
    g.size_bits = budget_bits[i];
    TRY(sys::cnode_move(s_.cnode, g.cptr, abi::kServerCNodeRadix, abi::kSlotInitCNode,
                        budget_slots[i], 64));
    ctx_.slots.free(budget_slots[i]);
  }
  info.memory_budget = rec.memory;
  info.free_slots = {next, kInfraFirst};

  uint64_t info_frame = TRY(make(ObjectType::kFrame4K));
  TRY(fill(info_frame, [&](uint8_t* page) { memcpy(page, &info, sizeof info); }));
  TRY(map(info_frame, abi::kServerInfoVaddr, Rights::kRead));
  TRY(give(abi::kServerSlotInfoFrame, info_frame));
  TRY(stash(info_frame));

  TRY(sys::tcb_configure(s_.tcb, abi::kServerSlotSupervisor, s_.cnode, kServerCNodeGuard, s_.pml4,
                         abi::kServerIpcBufferVaddr, ipc));
  TRY(stash(ipc));
  TRY(sys::tcb_set_mc_priority(s_.tcb, abi::kSlotInitTcb, rec.priority));
  TRY(sys::tcb_set_priority(s_.tcb, abi::kSlotInitTcb, rec.priority));
  sys::Registers regs{};
  regs.r[abi::kRegRip] = entry;
  regs.r[abi::kRegRsp] = abi::kServerStackTop;
  regs.r[abi::kRegRdi] = abi::kServerInfoVaddr;
  regs.r[abi::kRegRflags] = 0x202;
  return sys::tcb_write_registers(s_.tcb, true, regs);
}

// The device frames of every MMIO range, carved from the device untyped that covers it into a
// CNode of their own (kept across restarts; each start maps copies): the part of the untyped
// below the range goes into padding untyped objects (deleted again once the frames exist; the
// frames keep the untyped's watermark where it is).
// Whether device untyped blocks cover all of [base, end), however many it takes.
bool covered_by_device_untyped(const abi::BootInfo& b, uint64_t base, uint64_t end) {
  uint64_t pos = base;
  while (pos < end) {
    uint64_t u = 0;
    for (; u < b.untyped_count; ++u) {
      const abi::UntypedDesc& d = b.untyped_list[u];
      if (d.is_device != 0 && d.paddr <= pos && pos < d.paddr + (uint64_t{1} << d.size_bits)) {
        break;
      }
    }
    if (u == b.untyped_count) {
      return false;
    }
    pos = b.untyped_list[u].paddr + (uint64_t{1} << b.untyped_list[u].size_bits);
  }
  return true;
}

abi::Result<void> make_mmio_frames(Context& ctx, Server& s) {
  const abi::ServerRecord& rec = *s.record;
  const abi::BootInfo& b = *ctx.boot;
  uint64_t pages = 0;
  for (uint32_t i = 0; i < rec.mmio_count; ++i) {
    pages += rec.mmio[i].size / kPage;  // The archive check keeps each size below 2^52.
  }
  if (pages == 0) {
    return {};
  }
  // Each mapped page's capability goes into the server's infrastructure slots.
  if (pages > kServerSlots - kInfraFirst) {
    log("server '%s': MMIO ranges of %llu pages, more than the %llu the root task can map",
        rec.name, (unsigned long long)pages, (unsigned long long)(kServerSlots - kInfraFirst));
    return abi::err(Status::kRangeError);
  }
  uint64_t radix = log2_ceil(pages);
  s.mmio_cnode_radix = radix < abi::kMinCNodeRadix ? abi::kMinCNodeRadix : radix;
  s.mmio_cnode = TRY(ctx.objects.alloc(ObjectType::kCNode, s.mmio_cnode_radix));
  s.mmio_frames_count = 0;
  for (uint32_t i = 0; i < rec.mmio_count; ++i) {
    uint64_t base = rec.mmio[i].base;
    uint64_t end = base + rec.mmio[i].size;
    uint64_t u = 0;
    for (; u < b.untyped_count; ++u) {
      const abi::UntypedDesc& d = b.untyped_list[u];
      uint64_t d_end = d.paddr + (uint64_t{1} << d.size_bits);
      if (d.is_device != 0 && d.paddr <= base && end <= d_end) {
        break;
      }
    }
    if (u == b.untyped_count) {
      log(covered_by_device_untyped(b, base, end)
              ? "server '%s': MMIO range %#llx+%#llx spans more than one device untyped block; "
                "the root task carves each range from one (split the range)"
              : "server '%s': MMIO range %#llx+%#llx is not device memory the root task holds",
          rec.name, (unsigned long long)base, (unsigned long long)rec.mmio[i].size);
      return abi::err(Status::kRangeError);
    }
    uint64_t cptr = b.untyped.start + u;
    sys::UntypedInfo ui = TRY(sys::untyped_describe(cptr));
    uint64_t cursor = ui.paddr + ((uint64_t{1} << ui.size_bits) - ui.free_bytes);
    if (cursor > base) {
      log("server '%s': MMIO range %#llx+%#llx lies below device memory already handed out "
          "from the same untyped (up to %#llx)",
          rec.name, (unsigned long long)base, (unsigned long long)rec.mmio[i].size,
          (unsigned long long)cursor);
      return abi::err(Status::kRangeError);
    }
    // Blocks grow with the cursor's alignment, then shrink towards base: at most two per bit.
    constexpr uint64_t kMaxPadding = 2 * (abi::kMaxUntypedBits - 12);
    uint64_t padding[kMaxPadding];
    uint64_t padding_count = 0;
    abi::Result<void> r{};
    while (r && cursor < base) {
      uint64_t bits = 12;
      while (bits < 63 && (cursor & ((uint64_t{2} << bits) - 1)) == 0 &&
             cursor + (uint64_t{2} << bits) <= base) {
        ++bits;
      }
      auto slot = padding_count < kMaxPadding ? ctx.slots.alloc() : abi::err(Status::kNoSpace);
      if (!slot) {
        r = abi::err(slot.error());
        break;
      }
      r = sys::untyped_retype(cptr, ObjectType::kUntyped, bits, abi::kSlotInitCNode, 0, 0,
                              slot.value(), 1);
      if (!r) {
        ctx.slots.free(slot.value());
        break;
      }
      padding[padding_count++] = slot.value();
      cursor += uint64_t{1} << bits;
    }
    // The frames, at most kMaxRetypeCount (256) per retype, which the page limit above keeps.
    if (r) {
      uint64_t n = (end - base) / kPage;
      r = sys::untyped_retype(cptr, ObjectType::kFrame4K, 0, abi::kSlotInitCNode, s.mmio_cnode,
                              64, s.mmio_frames_count, n);
      if (r) {
        s.mmio_frames_count += n;
      }
    }
    for (uint64_t p = 0; p < padding_count; ++p) {
      (void)sys::cnode_delete(abi::kSlotInitCNode, padding[p], 64);
      ctx.slots.free(padding[p]);
    }
    if (!r) {
      return r;
    }
  }
  return {};
}

// Deletes the capability in the root task's `slot` (if any) and gives the slot back.
void drop(Context& ctx, uint64_t& slot) {
  if (slot != 0) {
    (void)sys::cnode_delete(abi::kSlotInitCNode, slot, 64);
    ctx.slots.free(slot);
    slot = 0;
  }
}

abi::Result<void> prepare(Context& ctx, Server& s) {
  const abi::ServerRecord& rec = *s.record;
  s.endpoint = TRY(ctx.objects.alloc(ObjectType::kEndpoint));
  for (uint32_t i = 0; i < rec.port_count; ++i) {
    s.ports[i] = TRY(ctx.slots.alloc());
    auto r = sys::ioport_control_issue(abi::kSlotIoPortControl, rec.ports[i].first,
                                       rec.ports[i].last, abi::kSlotInitCNode, s.ports[i], 64);
    if (!r) {
      log("server '%s': I/O ports %#x..%#x refused by the kernel: %s", rec.name,
          rec.ports[i].first, rec.ports[i].last, abi::status_name(r.error()));
      return abi::err(r.error());
    }
  }
  for (uint32_t i = 0; i < rec.irq_count; ++i) {
    s.irqs[i] = TRY(ctx.slots.alloc());
    auto r = sys::irq_control_get(abi::kSlotIrqControl, rec.irqs[i], abi::kSlotInitCNode,
                                  s.irqs[i], 64);
    if (!r) {
      log("server '%s': IRQ %u refused by the kernel: %s", rec.name, rec.irqs[i],
          abi::status_name(r.error()));
      return abi::err(r.error());
    }
  }
  TRY(make_mmio_frames(ctx, s));

  kstd::span<const uint8_t> file(s.binary.data, s.binary.size);
  auto image = kernel::elf::parse(file, abi::kServerHeapBase);
  uint64_t image_bytes = 0;
  if (image) {
    for (size_t i = 0; i < image.value().segment_count; ++i) {
      image_bytes += (image.value().segments[i].memsz + kPage - 1) & ~(kPage - 1);
    }
  }
  s.container_bits = log2_ceil(rec.memory + image_bytes + kInfraBytes);
  auto container = ctx.objects.alloc(ObjectType::kUntyped, s.container_bits);
  if (!container) {
    log("server '%s': no room for its %llu KiB (memory budget %llu KiB and its image)", rec.name,
        (unsigned long long)((uint64_t{1} << s.container_bits) >> 10),
        (unsigned long long)(rec.memory >> 10));
    return abi::err(container.error());
  }
  s.container = container.value();
  return {};
}

}  // namespace

abi::Result<void> prepare_server(Context& ctx, Server& s) {
  auto r = prepare(ctx, s);
  if (!r) {
    // The server will not start: let go of what was made for it, above all its IRQ handlers
    // and I/O ports. (The objects' memory stays with the root task's allocator, which only
    // grows; the capabilities and slots come back.)
    drop(ctx, s.endpoint);
    for (uint64_t& slot : s.ports) {
      drop(ctx, slot);
    }
    for (uint64_t& slot : s.irqs) {
      drop(ctx, slot);
    }
    drop(ctx, s.mmio_cnode);  // And with it the device frames.
    s.mmio_frames_count = 0;
    drop(ctx, s.container);
  }
  return r;
}

abi::Result<void> start_server(Context& ctx, Server& s) {
  abi::ServerInfo info{};
  info.magic = abi::ServerInfo::kMagic;
  info.version = abi::ServerInfo::kVersion;
  copy_name(info.name, s.record->name);
  info.index = s.index;
  info.restarts = s.restarts;
  info.cnode_radix = abi::kServerCNodeRadix;
  Builder b(ctx, s);
  auto r = b.build(info);
  if (!r) {
    log("server '%s': could not be started: %s", s.record->name, abi::status_name(r.error()));
    stop_server(ctx, s);
    return r;
  }
  s.state = ServerState::kRunning;
  return {};
}

void stop_server(Context& ctx, Server& s) {
  // Everything the instance was made of came from the container; revoking it destroys the
  // thread (which may be waiting for our answer to its fault), its CSpace and address space.
  (void)sys::cnode_revoke(abi::kSlotInitCNode, s.container, 64);
  for (uint64_t* slot : {&s.cnode, &s.tcb, &s.pml4}) {
    drop(ctx, *slot);
  }
}

void retire_server(Context& ctx, Server& s) {
  stop_server(ctx, s);
  // Clients' capabilities are badged copies of the endpoint: revoke them, then delete the
  // endpoint, which wakes anyone still waiting on it with an error.
  (void)sys::cnode_revoke(abi::kSlotInitCNode, s.endpoint, 64);
  (void)sys::cnode_delete(abi::kSlotInitCNode, s.endpoint, 64);
  s.state = ServerState::kDown;
}

}  // namespace root
