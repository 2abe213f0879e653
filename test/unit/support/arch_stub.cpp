// SPDX-License-Identifier: MIT
//
// Host doubles for the architecture hooks of the object layer. They record what the object
// layer asked for, so tests can check that destroying objects unmaps and releases them.
#include "arch_stub.hpp"

#include "object/arch_hooks.hpp"

namespace keel::test {

ArchLog& arch_log() {
  static ArchLog log;
  return log;
}

}  // namespace keel::test

namespace kernel::arch {

void init_pml4(PhysAddr pml4) { keel::test::arch_log().pml4_inits.push_back(pml4); }

void unmap_cap(const Cap& cap) { keel::test::arch_log().unmaps.push_back(cap); }

void release_address_space(uint64_t asid, PhysAddr pml4) {
  keel::test::arch_log().releases.push_back({asid, pml4});
}

}  // namespace kernel::arch
