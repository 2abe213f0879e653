// SPDX-License-Identifier: MIT
#include "boot_report.hpp"

#include "log.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using ull = unsigned long long;

const char* mb2_type_name(uint32_t type) {
  switch (static_cast<boot::Mb2MemoryType>(type)) {
    case boot::Mb2MemoryType::kAvailable: return "available";
    case boot::Mb2MemoryType::kReserved: return "reserved";
    case boot::Mb2MemoryType::kAcpiReclaimable: return "acpi-reclaimable";
    case boot::Mb2MemoryType::kAcpiNvs: return "acpi-nvs";
    case boot::Mb2MemoryType::kBad: return "bad";
  }
  return "unknown";
}

}  // namespace

void report_multiboot2(const boot::Multiboot2Info& info) {
  LOG_INFO("boot loader: %s", info.bootloader_name != nullptr ? info.bootloader_name : "(unnamed)");
  LOG_INFO("command line: \"%s\"", info.command_line != nullptr ? info.command_line : "");
  LOG_INFO("multiboot2 information: %u bytes, %u tags", info.total_size, info.tag_count);
  LOG_INFO("memory map: %zu entries", info.memory_region_count);
  for (const boot::Mb2MemoryRegion& r : info.regions()) {
    LOG_INFO("  %#018llx-%#018llx %-16s %llu KiB", static_cast<ull>(r.base),
             static_cast<ull>(r.base + r.length), mb2_type_name(r.type),
             static_cast<ull>(r.length >> 10));
  }
  LOG_INFO("modules: %zu", info.module_count);
  for (const boot::Mb2Module& m : info.module_list()) {
    LOG_INFO("  %#010x-%#010x %6u KiB \"%s\"", m.start, m.end, (m.end - m.start + 1023) / 1024,
             m.string);
  }
  if (info.has_framebuffer) {
    const boot::Mb2Framebuffer& fb = info.framebuffer;
    LOG_INFO("framebuffer: %ux%u, %u bpp, type %u, pitch %u, at %#llx", fb.width, fb.height,
             fb.bpp, fb.type, fb.pitch, static_cast<ull>(fb.address));
  } else {
    LOG_INFO("framebuffer: none");
  }
  if (info.has_rsdp) {
    const boot::Mb2Rsdp& r = info.rsdp;
    LOG_INFO("ACPI: RSDP revision %u, OEM \"%s\", RSDT %#x, XSDT %#llx, checksum %s", r.revision,
             r.oem_id, r.rsdt_address, static_cast<ull>(r.xsdt_address),
             r.checksum_ok ? "ok" : "BAD");
  } else {
    LOG_INFO("ACPI: no RSDP from the boot loader");
  }
  if (info.has_efi_memory_map) {
    const boot::Mb2EfiMemoryMap& e = info.efi_memory_map;
    LOG_INFO("EFI memory map: %u descriptors of %u bytes (version %u)", e.count,
             e.descriptor_size, e.descriptor_version);
  }
  if (info.efi_system_table != 0) {
    LOG_INFO("EFI system table at %#llx", static_cast<ull>(info.efi_system_table));
  }
}

void report_phys_map(const mem::PhysMap& map) {
  for (const mem::PhysRegion& r : map.regions()) {
    LOG_DEBUG("  phys %#018llx-%#018llx %-16s %llu KiB", static_cast<ull>(r.base),
              static_cast<ull>(r.end), mem::region_kind_name(r.kind),
              static_cast<ull>(r.size() >> 10));
  }
  uint64_t kernel = map.total(mem::RegionKind::kKernelImage) +
                    map.total(mem::RegionKind::kKernelData);
  LOG_INFO("physical memory: %llu KiB free; kernel keeps %llu KiB (image %llu, data %llu); "
           "modules %llu KiB; firmware-reserved %llu KiB",
           static_cast<ull>(map.total(mem::RegionKind::kFree) >> 10),
           static_cast<ull>(kernel >> 10),
           static_cast<ull>(map.total(mem::RegionKind::kKernelImage) >> 10),
           static_cast<ull>(map.total(mem::RegionKind::kKernelData) >> 10),
           static_cast<ull>(map.total(mem::RegionKind::kModule) >> 10),
           static_cast<ull>((map.total(mem::RegionKind::kFirmware) +
                             map.total(mem::RegionKind::kAcpiReclaimable)) >> 10));
}

}  // namespace kernel
