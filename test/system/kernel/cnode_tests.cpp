// SPDX-License-Identifier: MIT
//
// CNode invocations through real system calls: copy, mint, move, mutate, delete, revoke and
// describe, with every error abi/invocations.def documents for them, and the lookup rules for
// (index, depth) pairs and cptr arguments.
#include <abi/fault.hpp>
#include <abi/invocation.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {

// --- Copy --------------------------------------------------------------------------------------

KTEST(cnode_copy_duplicates_capability) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  CHECK_OK(sys::cnode_copy(kRoot, dest, kDepth, kRoot, ep, kDepth, kAll));
  sys::CapInfo orig = describe(ep);
  sys::CapInfo copy = describe(dest);
  CHECK(copy.type == CapType::kEndpoint);
  CHECK(copy.object == orig.object);
  CHECK(copy.rights == orig.rights);
  CHECK(copy.data == 0);
  // The source is untouched.
  CHECK(orig.type == CapType::kEndpoint);
}

KTEST(cnode_copy_masks_rights_and_never_adds_them) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t rw = slot();
  CHECK_OK(sys::cnode_copy(kRoot, rw, kDepth, kRoot, ep, kDepth, Rights::kRead | Rights::kWrite));
  CHECK(describe(rw).rights == (Rights{Rights::kRead | Rights::kWrite}));
  // Asking for every right from a reduced capability still gives only what it has.
  uint64_t again = slot();
  CHECK_OK(sys::cnode_copy(kRoot, again, kDepth, kRoot, rw, kDepth, kAll));
  CHECK(describe(again).rights == (Rights{Rights::kRead | Rights::kWrite}));
  uint64_t ro = slot();
  CHECK_OK(sys::cnode_copy(kRoot, ro, kDepth, kRoot, again, kDepth, Rights::kRead));
  CHECK(describe(ro).rights == (Rights{Rights::kRead}));
  uint64_t none = slot();
  CHECK_OK(sys::cnode_copy(kRoot, none, kDepth, kRoot, ro, kDepth, 0));
  CHECK(describe(none).rights == Rights::none());
}

KTEST(cnode_copy_refuses_bad_rights_bits) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  CHECK_ERR(sys::invoke_void(kRoot, abi::Label::kCNodeCopy,
                             {dest, kDepth, kRoot, ep, kDepth, uint64_t{Rights::kAllBits} + 1}),
            Status::kInvalidArgument);
  CHECK_ERR(sys::invoke_void(kRoot, abi::Label::kCNodeCopy,
                             {dest, kDepth, kRoot, ep, kDepth, uint64_t{1} << 40}),
            Status::kInvalidArgument);
  CHECK(is_empty(dest));
}

KTEST(cnode_copy_needs_no_rights_on_the_cnodes) {
  // invocations.def: copy "needs no rights on the CNodes" (invoked or source root).
  uint64_t bare = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, bare, kDepth, kRoot, kRoot, kDepth, 0));
  CHECK(describe(bare).rights == Rights::none());
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  CHECK_OK(sys::cnode_copy(bare, dest, kDepth, bare, ep, kDepth, kAll));
  CHECK(describe(dest).object == describe(ep).object);
  CHECK(describe(dest, bare).type == CapType::kEndpoint);
}

KTEST(cnode_copy_of_untyped_is_illegal) {
  uint64_t ut = make(ObjectType::kUntyped, 12);
  uint64_t dest = slot();
  CHECK_ERR(sys::cnode_copy(kRoot, dest, kDepth, kRoot, ut, kDepth, kAll),
            Status::kIllegalOperation);
  CHECK_ERR(sys::cnode_mint(kRoot, dest, kDepth, kRoot, ut, kDepth, kAll, 0),
            Status::kIllegalOperation);
  CHECK(is_empty(dest));
}

KTEST(cnode_copy_destination_and_source_errors) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t other = make(ObjectType::kEndpoint);
  uint64_t empty = slot();
  uint64_t dest = slot();
  CHECK_ERR(sys::cnode_copy(kRoot, other, kDepth, kRoot, ep, kDepth), Status::kDeleteFirst);
  CHECK_ERR(sys::cnode_copy(kRoot, dest, kDepth, kRoot, empty, kDepth), Status::kEmptySlot);
  // The source root must be a CNode: an endpoint or an empty slot will not do.
  CHECK_ERR(sys::cnode_copy(kRoot, dest, kDepth, other, ep, kDepth), Status::kInvalidCapability);
  CHECK_ERR(sys::cnode_copy(kRoot, dest, kDepth, empty, ep, kDepth), Status::kEmptySlot);
  CHECK(is_empty(dest));
  CHECK(describe(other).object != describe(ep).object);
}

KTEST(cnode_depth_must_be_1_to_64) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  for (uint64_t bad : {uint64_t{0}, uint64_t{65}, uint64_t{1000}, ~uint64_t{0}}) {
    CHECK_ERR(sys::cnode_copy(kRoot, dest, bad, kRoot, ep, kDepth), Status::kDepthMismatch);
    CHECK_ERR(sys::cnode_copy(kRoot, dest, kDepth, kRoot, ep, bad), Status::kDepthMismatch);
    CHECK_ERR(sys::cnode_move(kRoot, dest, bad, kRoot, ep, kDepth), Status::kDepthMismatch);
    CHECK_ERR(sys::cnode_delete(kRoot, ep, bad), Status::kDepthMismatch);
    CHECK_ERR(sys::cnode_revoke(kRoot, ep, bad), Status::kDepthMismatch);
    CHECK_ERR(sys::cnode_describe(kRoot, ep, bad), Status::kDepthMismatch);
  }
  // Fewer bits than the root CNode's guard and radix need cannot reach a slot either.
  CHECK_ERR(sys::cnode_describe(kRoot, ep, env().boot->root_cnode_radix), Status::kDepthMismatch);
  CHECK_ERR(sys::cnode_delete(kRoot, ep, 63), Status::kDepthMismatch);
  CHECK(describe(ep).type == CapType::kEndpoint);
  CHECK(is_empty(dest));
}

KTEST(cnode_guard_mismatch_in_index) {
  // The root CNode's guard is zero: any index with a bit above the radix set misses it.
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  uint64_t high = uint64_t{1} << 63;
  uint64_t just_above = uint64_t{1} << env().boot->root_cnode_radix;
  CHECK_ERR(sys::cnode_copy(kRoot, dest | high, kDepth, kRoot, ep, kDepth), Status::kGuardMismatch);
  CHECK_ERR(sys::cnode_copy(kRoot, dest, kDepth, kRoot, ep | just_above, kDepth),
            Status::kGuardMismatch);
  CHECK_ERR(sys::cnode_describe(kRoot, ep | high, kDepth), Status::kGuardMismatch);
  CHECK_ERR(sys::cnode_delete(kRoot, ep | just_above, kDepth), Status::kGuardMismatch);
  CHECK_ERR(sys::cnode_revoke(kRoot, ep | high, kDepth), Status::kGuardMismatch);
  CHECK(describe(ep).type == CapType::kEndpoint);
  CHECK(is_empty(dest));
}

KTEST(cnode_invoked_cptr_lookup_errors) {
  // The capability a system call names is looked up with 64 bits in the caller's CSpace.
  uint64_t empty = slot();
  CHECK_ERR(sys::cnode_describe(empty, 0, 1), Status::kEmptySlot);
  CHECK_ERR(sys::cnode_describe(kRoot | (uint64_t{1} << 63), 0, 1), Status::kGuardMismatch);
  CHECK_ERR(sys::cnode_copy(kRoot, slot(), kDepth, kRoot | (uint64_t{1} << 62), kRoot, kDepth),
            Status::kGuardMismatch);
}

KTEST(cnode_copy_between_cnodes) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t child = make(ObjectType::kCNode, 4);  // 16 slots, no guard: depth 4.
  CHECK(describe(child).type == CapType::kCNode);
  // Into the child (the invoked CNode is the destination root), then back out of it.
  CHECK_OK(sys::cnode_copy(child, 3, 4, kRoot, ep, kDepth, Rights::kWrite));
  sys::CapInfo inside = describe(3, child, 4);
  CHECK(inside.type == CapType::kEndpoint);
  CHECK(inside.object == describe(ep).object);
  CHECK(inside.rights == (Rights{Rights::kWrite}));
  uint64_t back = slot();
  CHECK_OK(sys::cnode_copy(kRoot, back, kDepth, child, 3, 4));
  CHECK(describe(back).object == describe(ep).object);
  // Slots beyond a radix-4 CNode do not exist with depth 4; fewer bits than the radix cannot
  // name a slot; more bits than it leave bits over at a slot that is not a CNode.
  CHECK(is_empty(15, child, 4));
  CHECK_ERR(sys::cnode_describe(child, 3, 3), Status::kDepthMismatch);
  CHECK_ERR(sys::cnode_describe(child, 3 << 1, 5), Status::kDepthMismatch);
  CHECK_ERR(sys::cnode_copy(child, 4, 4, child, 5, 4), Status::kEmptySlot);
  CHECK_ERR(sys::cnode_copy(child, 3, 4, kRoot, ep, kDepth), Status::kDeleteFirst);
}

KTEST(cnode_two_level_index_resolution) {
  // An index walks through a CNode in a slot: bits for the outer radix, then the inner.
  uint64_t outer = make(ObjectType::kCNode, 4);
  uint64_t inner = make(ObjectType::kCNode, 3);
  uint64_t ep = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(outer, 5, 4, kRoot, inner, kDepth));
  CHECK_OK(sys::cnode_copy(outer, (5 << 3) | 2, 7, kRoot, ep, kDepth));
  CHECK(describe(2, inner, 3).type == CapType::kEndpoint);
  CHECK(describe(5, outer, 4).type == CapType::kCNode);
  // Depth 4 stops at the inner CNode's own slot; 6 bits do not add up to 4 + 3.
  CHECK_ERR(sys::cnode_describe(outer, (5 << 2) | 1, 6), Status::kDepthMismatch);
  // A walk that reaches an empty slot before its bits are used up.
  CHECK_ERR(sys::cnode_describe(outer, (6 << 3) | 2, 7), Status::kEmptySlot);
}

// --- Mint --------------------------------------------------------------------------------------

KTEST(cnode_mint_sets_badge_once) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t badged = slot();
  CHECK_OK(sys::cnode_mint(kRoot, badged, kDepth, kRoot, ep, kDepth, kAll, 0x55));
  sys::CapInfo b = describe(badged);
  CHECK(b.type == CapType::kEndpoint);
  CHECK(b.data == 0x55);
  CHECK(b.object == describe(ep).object);
  CHECK(describe(ep).data == 0);
  // A badged capability cannot be badged again.
  uint64_t rebadged = slot();
  CHECK_ERR(sys::cnode_mint(kRoot, rebadged, kDepth, kRoot, badged, kDepth, kAll, 0x66),
            Status::kIllegalOperation);
  CHECK(is_empty(rebadged));
  // Minting with data 0 copies the badge along.
  CHECK_OK(sys::cnode_mint(kRoot, rebadged, kDepth, kRoot, badged, kDepth, kAll, 0));
  CHECK(describe(rebadged).data == 0x55);
}

KTEST(cnode_mint_masks_rights) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  CHECK_OK(sys::cnode_mint(kRoot, dest, kDepth, kRoot, ep, kDepth, Rights::kWrite, 9));
  sys::CapInfo c = describe(dest);
  CHECK(c.rights == (Rights{Rights::kWrite}));
  CHECK(c.data == 9);
  CHECK_ERR(sys::cnode_mint(kRoot, slot(), kDepth, kRoot, ep, kDepth, 0x20, 9),
            Status::kInvalidArgument);
}

KTEST(cnode_mint_badge_reaches_receiver) {
  // The badge is what a receiver sees of the capability the message came through.
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t badged = slot();
  REQUIRE_OK(sys::cnode_mint(kRoot, badged, kDepth, kRoot, ep, kDepth, kAll, 0xBADE));
  REQUIRE_OK(spawn([](uint64_t cptr) { (void)sys::send(cptr, sys::Message::make(7, {1})); }, badged,
                   {100}));
  sys::Message m;
  REQUIRE(recv_within(ep, m, 16));
  CHECK(m.badge == 0xBADE);
  CHECK(m.label == 7);
}

KTEST(cnode_mint_guard_changes_resolution) {
  uint64_t raw = make(ObjectType::kCNode, 4);
  uint64_t ep = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(raw, 3, 4, kRoot, ep, kDepth));
  uint64_t guarded = slot();
  CHECK_OK(sys::cnode_mint(kRoot, guarded, kDepth, kRoot, raw, kDepth, kAll,
                           abi::cnode_guard_data(0xA, 4)));
  // Through the guarded capability an index needs the guard above the slot bits.
  CHECK(describe((0xA << 4) | 3, guarded, 8).type == CapType::kEndpoint);
  CHECK_ERR(sys::cnode_describe(guarded, (0xB << 4) | 3, 8), Status::kGuardMismatch);
  CHECK_ERR(sys::cnode_describe(guarded, 3, 4), Status::kDepthMismatch);
  // The unguarded original still works as before.
  CHECK(describe(3, raw, 4).type == CapType::kEndpoint);
}

KTEST(cnode_mint_guard_that_does_not_fit) {
  uint64_t raw = make(ObjectType::kCNode, 4);
  uint64_t dest = slot();
  // Guard bits and radix together beyond 64 bits.
  CHECK_ERR(
      sys::cnode_mint(kRoot, dest, kDepth, kRoot, raw, kDepth, kAll, abi::cnode_guard_data(0, 61)),
      Status::kInvalidArgument);
  CHECK_ERR(
      sys::cnode_mint(kRoot, dest, kDepth, kRoot, raw, kDepth, kAll, abi::cnode_guard_data(0, 63)),
      Status::kInvalidArgument);
  // A guard value wider than its guard bits.
  CHECK_ERR(sys::cnode_mint(kRoot, dest, kDepth, kRoot, raw, kDepth, kAll,
                            abi::cnode_guard_data(0x10, 4)),
            Status::kInvalidArgument);
  CHECK(is_empty(dest));
  // The largest guard that fits is fine.
  CHECK_OK(
      sys::cnode_mint(kRoot, dest, kDepth, kRoot, raw, kDepth, kAll, abi::cnode_guard_data(0, 60)));
}

// --- Move and mutate ---------------------------------------------------------------------------

KTEST(cnode_move_transfers_capability) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t obj = describe(ep).object;
  uint64_t dest = slot();
  CHECK_OK(sys::cnode_move(kRoot, dest, kDepth, kRoot, ep, kDepth));
  CHECK(is_empty(ep));
  CHECK(describe(dest).type == CapType::kEndpoint);
  CHECK(describe(dest).object == obj);
  // Moving from the now empty slot, or onto an occupied one, is refused.
  CHECK_ERR(sys::cnode_move(kRoot, slot(), kDepth, kRoot, ep, kDepth), Status::kEmptySlot);
  uint64_t other = make(ObjectType::kEndpoint);
  CHECK_ERR(sys::cnode_move(kRoot, other, kDepth, kRoot, dest, kDepth), Status::kDeleteFirst);
  CHECK(describe(dest).object == obj);
  // Into and out of another CNode.
  uint64_t child = make(ObjectType::kCNode, 2);
  CHECK_OK(sys::cnode_move(child, 1, 2, kRoot, dest, kDepth));
  CHECK(is_empty(dest));
  CHECK(describe(1, child, 2).object == obj);
  CHECK_ERR(sys::cnode_move(kRoot, dest, kDepth, other, 1, 2), Status::kInvalidCapability);
}

KTEST(cnode_move_keeps_place_in_derivation_tree) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t badged = slot();
  REQUIRE_OK(sys::cnode_mint(kRoot, badged, kDepth, kRoot, ep, kDepth, kAll, 7));
  uint64_t moved = slot();
  REQUIRE_OK(sys::cnode_move(kRoot, moved, kDepth, kRoot, badged, kDepth));
  // Still a child of the original: revoking the original deletes it.
  CHECK_OK(sys::cnode_revoke(kRoot, ep, kDepth));
  CHECK(is_empty(moved));
  CHECK(describe(ep).type == CapType::kEndpoint);
}

KTEST(cnode_mutate_changes_cnode_guard) {
  uint64_t raw = make(ObjectType::kCNode, 4);
  uint64_t ep = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(raw, 1, 4, kRoot, ep, kDepth));
  uint64_t dest = slot();
  // A guard that does not fit changes nothing.
  CHECK_ERR(sys::cnode_mutate(kRoot, dest, kDepth, kRoot, raw, kDepth, abi::cnode_guard_data(4, 2)),
            Status::kInvalidArgument);
  CHECK(describe(raw).type == CapType::kCNode);
  CHECK(is_empty(dest));
  CHECK_OK(sys::cnode_mutate(kRoot, dest, kDepth, kRoot, raw, kDepth, abi::cnode_guard_data(3, 2)));
  CHECK(is_empty(raw));
  CHECK(describe((3 << 4) | 1, dest, 6).type == CapType::kEndpoint);
  CHECK_ERR(sys::cnode_describe(dest, 1, 4), Status::kDepthMismatch);
  CHECK_ERR(sys::cnode_describe(dest, (2 << 4) | 1, 6), Status::kGuardMismatch);
  // Mutate shares move's errors.
  CHECK_ERR(sys::cnode_mutate(kRoot, slot(), kDepth, kRoot, raw, kDepth, 0), Status::kEmptySlot);
  CHECK_ERR(sys::cnode_mutate(kRoot, ep, kDepth, kRoot, dest, kDepth, 0), Status::kDeleteFirst);
}

KTEST(cnode_mutate_does_not_badge_endpoints) {
  // invocations.def: badges are set only by mint; mutate with data on an endpoint is refused and
  // changes nothing.
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  CHECK_ERR(sys::cnode_mutate(kRoot, dest, kDepth, kRoot, ep, kDepth, 0x42),
            Status::kIllegalOperation);
  CHECK(describe(dest).type == CapType::kNull);
  sys::CapInfo c = describe(ep);
  CHECK(c.type == CapType::kEndpoint);
  CHECK(c.data == 0);
  CHECK_OK(sys::cnode_mutate(kRoot, dest, kDepth, kRoot, ep, kDepth, 0));
  CHECK(describe(dest).type == CapType::kEndpoint);
}

KTEST(cnode_mutate_refuses_to_rebadge) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t badged = slot();
  REQUIRE_OK(sys::cnode_mint(kRoot, badged, kDepth, kRoot, ep, kDepth, kAll, 5));
  uint64_t dest = slot();
  CHECK_ERR(sys::cnode_mutate(kRoot, dest, kDepth, kRoot, badged, kDepth, 6),
            Status::kIllegalOperation);
  CHECK(describe(badged).data == 5);
  CHECK(is_empty(dest));
  // Data 0 is a plain move that keeps the badge.
  CHECK_OK(sys::cnode_mutate(kRoot, dest, kDepth, kRoot, badged, kDepth, 0));
  CHECK(describe(dest).data == 5);
  CHECK(is_empty(badged));
}

// --- Delete and revoke -------------------------------------------------------------------------

KTEST(cnode_delete_empties_slot) {
  uint64_t ep = make(ObjectType::kEndpoint);
  CHECK_OK(sys::cnode_delete(kRoot, ep, kDepth));
  CHECK(is_empty(ep));
  // Deleting an empty slot succeeds.
  CHECK_OK(sys::cnode_delete(kRoot, ep, kDepth));
  // A slot in another CNode.
  uint64_t child = make(ObjectType::kCNode, 2);
  uint64_t ep2 = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(child, 2, 2, kRoot, ep2, kDepth));
  CHECK_OK(sys::cnode_delete(child, 2, 2));
  CHECK(is_empty(2, child, 2));
  CHECK(describe(ep2).type == CapType::kEndpoint);
}

KTEST(cnode_delete_last_tcb_capability_destroys_thread) {
  g_spin_count[0] = 0;
  sys::Thread t = REQUIRE_OK(spawn(spinner, 0, {100}));
  CHECK(advances(0));
  // Deleting one of two capabilities leaves the thread alone.
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, t.tcb(), kDepth));
  CHECK_OK(sys::cnode_delete(kRoot, t.tcb(), kDepth));
  CHECK(advances(0));
  // The last one destroys it.
  CHECK_OK(sys::cnode_delete(kRoot, copy, kDepth));
  sleep_ticks(1);
  CHECK(!advances(0));
}

KTEST(cnode_delete_last_cnode_capability_destroys_contents) {
  // A CNode holding the only remaining capability to a thread: deleting the CNode deletes that
  // capability, and so the thread.
  g_spin_count[1] = 0;
  sys::Thread t = REQUIRE_OK(spawn(spinner, 1, {100}));
  uint64_t holder = make(ObjectType::kCNode, 2);
  REQUIRE_OK(sys::cnode_move(holder, 0, 2, kRoot, t.tcb(), kDepth));
  CHECK(advances(1));
  CHECK_OK(sys::cnode_delete(kRoot, holder, kDepth));
  sleep_ticks(1);
  CHECK(!advances(1));
}

KTEST(cnode_self_referencing_cnode_is_reclaimed) {
  // A CNode that holds a capability to itself is reachable only through itself once its last
  // outside capability goes; revoking the untyped it came from must still reclaim it.
  uint64_t ut = make(ObjectType::kUntyped, 14);
  uint64_t node = slot();
  REQUIRE_OK(sys::untyped_retype(ut, ObjectType::kCNode, 3, kRoot, 0, 0, node, 1));
  REQUIRE_OK(sys::cnode_copy(node, 0, 3, kRoot, node, kDepth));
  uint64_t ep = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(node, 1, 3, kRoot, ep, kDepth));
  CHECK_OK(sys::cnode_delete(kRoot, node, kDepth));
  CHECK_OK(sys::cnode_revoke(kRoot, ut, kDepth));
  sys::UntypedInfo info = REQUIRE_OK(sys::untyped_describe(ut));
  CHECK(info.free_bytes == (uint64_t{1} << 14));
  // And the memory can be used again.
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kCNode, 3, kRoot, 0, 0, node, 1));
  CHECK(describe(ep).type == CapType::kEndpoint);
}

KTEST(cnode_revoke_deletes_derived_and_keeps_original) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t copy = slot();
  uint64_t badged = slot();
  uint64_t badged_copy = slot();
  uint64_t same_badge = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, ep, kDepth));
  REQUIRE_OK(sys::cnode_mint(kRoot, badged, kDepth, kRoot, ep, kDepth, kAll, 5));
  REQUIRE_OK(sys::cnode_copy(kRoot, badged_copy, kDepth, kRoot, badged, kDepth));
  REQUIRE_OK(sys::cnode_mint(kRoot, same_badge, kDepth, kRoot, ep, kDepth, kAll, 5));
  uint64_t child = make(ObjectType::kCNode, 2);
  REQUIRE_OK(sys::cnode_copy(child, 3, 2, kRoot, ep, kDepth));

  // Revoking a badged capability takes its own copies only, not an independent mint of the
  // same badge, and not the unbadged ones.
  CHECK_OK(sys::cnode_revoke(kRoot, badged, kDepth));
  CHECK(describe(badged).data == 5);
  CHECK(is_empty(badged_copy));
  CHECK(describe(same_badge).data == 5);
  CHECK(describe(copy).type == CapType::kEndpoint);

  // Revoking the original takes everything derived from it, in any CNode.
  CHECK_OK(sys::cnode_revoke(kRoot, ep, kDepth));
  CHECK(describe(ep).type == CapType::kEndpoint);
  CHECK(is_empty(copy));
  CHECK(is_empty(badged));
  CHECK(is_empty(same_badge));
  CHECK(is_empty(3, child, 2));
  // Revoking a capability without children, or an empty slot, changes nothing.
  CHECK_OK(sys::cnode_revoke(kRoot, ep, kDepth));
  CHECK_OK(sys::cnode_revoke(kRoot, copy, kDepth));
  CHECK(describe(ep).type == CapType::kEndpoint);
}

KTEST(cnode_revoke_untyped_destroys_its_objects) {
  uint64_t ut = make(ObjectType::kUntyped, 16);
  uint64_t a = slot();
  uint64_t b = slot();
  REQUIRE_OK(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, 0, 0, a, 1));
  REQUIRE_OK(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, 0, 0, b, 1));
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, a, kDepth));
  CHECK_OK(sys::cnode_revoke(kRoot, ut, kDepth));
  CHECK(is_empty(a));
  CHECK(is_empty(b));
  CHECK(is_empty(copy));
  CHECK(describe(ut).type == CapType::kUntyped);
}

// --- Describe ----------------------------------------------------------------------------------

KTEST(cnode_describe_reports_type_rights_object) {
  struct Fixed {
    uint64_t slot;
    CapType type;
  };
  const Fixed fixed[] = {
      {abi::kSlotInitTcb, CapType::kTcb},
      {abi::kSlotInitCNode, CapType::kCNode},
      {abi::kSlotInitVSpace, CapType::kPml4},
      {abi::kSlotIrqControl, CapType::kIrqControl},
      {abi::kSlotAsidControl, CapType::kAsidControl},
      {abi::kSlotInitAsidPool, CapType::kAsidPool},
      {abi::kSlotIoPortControl, CapType::kIoPortControl},
      {abi::kSlotBootInfoFrame, CapType::kFrame},
      {abi::kSlotInitIpcBuffer, CapType::kFrame},
  };
  for (const Fixed& f : fixed) {
    sys::CapInfo c = describe(f.slot);
    if (c.type != f.type) {
      note("slot %llu is %s", static_cast<unsigned long long>(f.slot), abi::cap_type_name(c.type));
      CHECK(c.type == f.type);
    }
  }
  CHECK(describe(abi::kSlotNull).type == CapType::kNull);
  CHECK(is_empty(slot()));
  // The object word is the physical address, as FrameAddress and UntypedDescribe report it.
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t paddr = REQUIRE_OK(sys::frame_address(frame));
  CHECK(describe(frame).object == paddr);
  CHECK(describe(frame).rights == Rights::all());
  uint64_t ut = make(ObjectType::kUntyped, 12);
  sys::UntypedInfo info = REQUIRE_OK(sys::untyped_describe(ut));
  CHECK(describe(ut).object == info.paddr);
  // Untyped capabilities of the boot information are described as untyped too.
  const abi::BootInfo* b = env().boot;
  if (b->untyped.end > b->untyped.start) {
    CHECK(describe(b->untyped.start).type == CapType::kUntyped);
  }
}

// --- Labels and messages -----------------------------------------------------------------------

KTEST(cnode_labels_on_other_capabilities_are_illegal) {
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t ut = make(ObjectType::kUntyped, 12);
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  for (uint64_t target : {frame, tcb, ut, uint64_t{abi::kSlotIoPortControl},
                          uint64_t{abi::kSlotAsidControl}, uint64_t{abi::kSlotInitAsidPool}}) {
    CHECK_ERR(sys::cnode_copy(target, dest, kDepth, kRoot, ep, kDepth), Status::kIllegalOperation);
    CHECK_ERR(sys::cnode_describe(target, ep, kDepth), Status::kIllegalOperation);
    CHECK_ERR(sys::cnode_delete(target, ep, kDepth), Status::kIllegalOperation);
  }
  CHECK(is_empty(dest));
  CHECK(describe(ep).type == CapType::kEndpoint);
}

KTEST(cnode_unknown_and_foreign_labels_are_illegal) {
  uint64_t ep = make(ObjectType::kEndpoint);
  for (uint64_t label : {uint64_t{0}, uint64_t{8}, uint64_t{15}, uint64_t{999},
                         uint64_t{abi::kKernelLabelBase}, abi::kMaxLabel}) {
    CHECK_ERR(sys::invoke(kRoot, static_cast<abi::Label>(label), {ep, kDepth, 0, 0, 0, 0, 0}),
              Status::kIllegalOperation);
  }
  // Labels of other objects, with enough arguments for them.
  uint64_t args[8] = {ep, kDepth, 0, 0, 0, 0, 0, 0};
  for (abi::Label label : {abi::Label::kUntypedDescribe, abi::Label::kTcbSuspend,
                           abi::Label::kFrameMap, abi::Label::kIrqControlGet}) {
    CHECK_ERR(sys::invoke(kRoot, label, args, 8), Status::kIllegalOperation);
  }
  CHECK(describe(ep).type == CapType::kEndpoint);
}

KTEST(cnode_truncated_messages) {
  check_truncated(CapType::kCNode, kRoot);
  // With no words at all, too.
  CHECK_ERR(sys::invoke(kRoot, abi::Label::kCNodeDescribe, {}), Status::kTruncatedMessage);
  CHECK_ERR(sys::invoke(kRoot, abi::Label::kCNodeMint, {1, 64, 2, 3, 64, 31}),
            Status::kTruncatedMessage);
}

}  // namespace ktest
