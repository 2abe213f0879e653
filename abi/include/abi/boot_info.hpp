// SPDX-License-Identifier: MIT
//
// The boot-info page: what the kernel tells the root task about the capabilities it starts
// with. The root task's CSpace is a single CNode whose guard makes slot numbers usable as
// cptrs directly (depth 64). Fixed slots come first; the ranges below say where the rest are.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace abi {

enum InitialSlot : uint64_t {
  kSlotNull = 0,
  kSlotInitTcb = 1,        // The root task's own thread.
  kSlotInitCNode = 2,      // The root CNode (this CSpace).
  kSlotInitVSpace = 3,     // The root task's PML4.
  kSlotIrqControl = 4,
  kSlotAsidControl = 5,
  kSlotInitAsidPool = 6,   // ASID pool 0, which already holds the root task's ASID.
  kSlotIoPortControl = 7,
  kSlotBootInfoFrame = 8,  // The first boot-info frame (all are in boot_info_frames).
  kSlotInitIpcBuffer = 9,  // The frame of the root task's IPC buffer.
  kFirstFreeFixedSlot = 16,
};

// Where the kernel puts things in the root task's address space.
inline constexpr uint64_t kRootBootInfoVaddr = 0x00007F0000000000;  // kPages read-only pages.
inline constexpr uint64_t kRootIpcBufferVaddr = 0x00007F0000010000;
inline constexpr uint64_t kRootStackTop = 0x00007F0000200000;
inline constexpr uint64_t kRootStackSize = 256 * 1024;
inline constexpr uint8_t kRootPriority = 255;

struct SlotRange {
  uint64_t start;  // First slot.
  uint64_t end;    // One past the last.
};

struct UntypedDesc {
  uint64_t paddr;
  uint8_t size_bits;
  uint8_t is_device;
  uint8_t padding[6];
};
static_assert(sizeof(UntypedDesc) == 16);

struct BootModule {
  static constexpr size_t kMaxName = 40;

  char name[kMaxName];  // The module's command line (its name), terminated.
  uint64_t paddr;
  uint64_t size;        // Bytes; the last frame may extend past it.
  SlotRange frames;     // 4 KiB frame capabilities covering the module, in address order.
};
static_assert(sizeof(BootModule) == 72);

struct BootInfo {
  static constexpr uint64_t kMagic = 0x544f4f424c45454bull;  // "KEELBOOT"
  static constexpr uint64_t kVersion = 1;
  static constexpr size_t kMaxModules = 16;
  static constexpr size_t kMaxUntyped = 640;
  static constexpr size_t kPages = 3;

  uint64_t magic;
  uint64_t version;
  uint64_t root_cnode_radix;
  uint64_t phys_addr_bits;       // The CPU's physical address width.
  SlotRange empty;               // Free slots in the root CNode.
  SlotRange untyped;             // Untyped capabilities, in untyped_list order.
  SlotRange module_frames;       // Frames of every module, module after module.
  SlotRange boot_info_frames;    // The frames of this structure.
  SlotRange user_image;          // The root task's own page tables and frames (image, stack,
                                 // IPC buffer), in the order the kernel made them.
  uint64_t ram_untyped_bytes;    // Sum of the non-device untyped.
  uint64_t kernel_boot_bytes;    // Memory the kernel took from free memory at boot.
  uint64_t module_count;
  BootModule modules[kMaxModules];
  uint64_t untyped_count;
  UntypedDesc untyped_list[kMaxUntyped];
};
static_assert(sizeof(BootInfo) <= BootInfo::kPages * 4096);
static_assert(offsetof(BootInfo, modules) == 0x88);

}  // namespace abi
