// SPDX-License-Identifier: MIT
//
// A randomized test of capability operations against a reference model.
//
// A fixed-seed generator sends long sequences of invocations to a TestSystem: untyped retype
// and describe, CNode copy, mint, move, mutate, delete, revoke and describe, ASID pool creation
// and assignment, and malformed calls (wrong labels, empty or out-of-range slots, occupied
// destinations, bad rights, bad depths and guards, truncated messages, random words). The
// model below is written from the documented semantics (abi/invocations.def, docs/objects.md,
// kernel/object/cspace.hpp), not from the decoders: for every message it predicts the status
// and the effect, and after every step the test compares
//   - every slot of the root CNode (a 256-slot window the model owns, the boot capabilities it
//     uses, and a snapshot of everything else) and of every CNode made during the run, as whole
//     capabilities (type, rights, object address, badge, guard, watermark);
//   - for every capability, whether the kernel's derivation tree gives it children;
//   - the free bytes UntypedDescribe reports for every untyped capability in the root CNode;
//   - which address space every ASID names;
//   - the kernel's invariant checker.
//
// Where the documents say nothing, the model follows the decoders: the order in which errors
// are checked when several apply, kInvalidArgument for mint or mutate data on a capability
// that takes none, ASID control and pool capabilities being copyable. Frames and page tables
// are never mapped here (there is no mapping invocation), and reply capabilities, which only
// IPC makes, are made by the test itself the way a Call would.
//
// Reproducing: KEEL_RANDOM_SEED=<seed> (decimal or 0x...) replaces the fixed seed and
// KEEL_RANDOM_OPS=<n> the number of operations (default: the build option random_test_ops).
// KEEL_RANDOM_VERBOSE=1 prints statistics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/arena.hpp"
#include "../support/catch_status.hpp"
#include "mem/phys.hpp"
#include "object/asid.hpp"
#include "object/mdb.hpp"
#include "object/tcb.hpp"

#ifndef KEEL_RANDOM_TEST_OPS
#define KEEL_RANDOM_TEST_OPS 100000
#endif

namespace {

using abi::CapType;
using abi::Label;
using abi::ObjectType;
using abi::Rights;
using abi::Status;
using keel::test::TestSystem;
using kernel::Cap;
using kernel::PhysAddr;
using kernel::Slot;

constexpr int kNone = -1;
constexpr uint64_t kWindowSlots = 256;
constexpr uint64_t kDefaultSeed = 0x4b45454c52414e44;  // "KEELRAND"

uint64_t word(Label l) { return static_cast<uint64_t>(l); }

// The `count` bits of `v` that end `end` bits from the bottom: cptrs are read from the top.
uint64_t bits_at(uint64_t v, uint64_t end, uint64_t count) {
  if (count == 0) {
    return 0;
  }
  uint64_t shifted = v >> (end - count);
  return count >= 64 ? shifted : shifted & ((uint64_t{1} << count) - 1);
}

uint64_t shl(uint64_t v, uint64_t n) { return n >= 64 ? 0 : v << n; }

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string cap_text(const Cap& c) {
  if (c.is_null()) {
    return "empty";
  }
  return std::string(abi::cap_type_name(c.type())) + "{rights " + hex(c.rights().bits) +
         ", object " + hex(c.object()) + ", word1 " + hex(c.word1()) + "}";
}

// --- The model --------------------------------------------------------------------------------

// A slot: index `index` of the CNode object `cnode`. A TCB's master reply capability has no
// slot the model can address (cnode == kNone).
struct Loc {
  int cnode = kNone;
  uint64_t index = 0;
};

struct ModelObject {
  bool alive = false;
  CapType type = CapType::kNull;
  PhysAddr base = 0;
  uint64_t bits = 0;          // log2 of the object's size in bytes
  bool device = false;
  PhysAddr from_base = 0;     // the untyped it was made from (which may be gone by now)
  uint64_t from_bits = 0;
  int caps = 0;               // live capabilities of the object's own type (not reply caps)
  std::vector<int> slots;     // CNode: the capability in each slot, or kNone
  int master = kNone;         // TCB: its master reply capability
  int asid = kNone;           // PML4: the ASID the address space holds
  uint64_t pool = 0;          // ASID pool: its index
};

// A capability and its node in the derivation tree. The tree is explicit: a parent and an
// ordered list of children, in the order the documented operations produce (a new child of a
// capability comes first, a copy of a capability that cannot have children comes right after
// it among its siblings).
struct ModelCap {
  bool alive = false;
  Cap cap;                    // what the slot must hold, word for word
  int object = kNone;
  bool revocable = false;     // may have children
  bool fixed = false;         // boot capability: never moved or deleted by the generator
  int parent = kNone;
  std::vector<int> children;
  Loc loc;
};

struct Message {
  uint64_t target = 0;
  uint64_t label = 0;
  std::vector<uint64_t> args;
};

struct Expect {
  Status status = Status::kOk;
  std::vector<uint64_t> reply;
  // The model declines the message: it would touch a slot the model does not own, or it hits a
  // known bug while those are not generated.
  bool discard = false;
  std::string note;
};

Expect status_only(Status s) {
  Expect e;
  e.status = s;
  return e;
}

Expect declined(const char* why) {
  Expect e;
  e.discard = true;
  e.note = why;
  return e;
}

class Model {
 public:
  Model(TestSystem& sys, uint64_t window_start, const std::vector<uint64_t>& untyped_slots);

  // Predicts the outcome of `m` and, when it succeeds, applies it.
  Expect invoke(const Message& m);
  // Records a reply capability to the TCB object `tcb` placed in the empty root slot `slot`.
  int add_reply(int tcb, uint64_t slot, bool can_grant);
  // The first difference between the model and the kernel, or "".
  std::string verify(TestSystem& sys) const;

  // What the generator needs to know.
  int root_object() const { return root_; }
  uint64_t root_radix() const { return root_radix_; }
  uint64_t window_start() const { return window_start_; }
  bool frozen(Loc l) const { return l.cnode == root_ && frozen_[l.index]; }
  int cap_at(Loc l) const { return frozen(l) ? kNone : objs_[l.cnode].slots[l.index]; }
  int root_cap(uint64_t slot) const { return frozen_[slot] ? kNone : objs_[root_].slots[slot]; }
  const ModelCap& cap(int id) const { return caps_[id]; }
  const ModelObject& object(int id) const { return objs_[id]; }
  size_t object_count() const { return objs_.size(); }
  const std::vector<uint64_t>& fixed_slots() const { return fixed_slots_; }
  // Resolves (index, depth) from the CNode capability `cnode`, as cspace.hpp documents.
  Status resolve(int cnode, uint64_t index, uint64_t depth, Loc* out) const;
  // How often the interesting cases happened, to show that the generator reaches them.
  const std::map<std::string, uint64_t>& events() const { return events_; }

 private:
  struct Target {
    int cap = kNone;
    CapType type = CapType::kNull;
    bool frozen = false;
  };

  Expect decode(const Message& m);
  Status lookup_cptr(uint64_t cptr, Target* t) const;
  Status lookup_cnode(uint64_t cptr, int* cap) const;
  // What copy, mint, move and mutate check first, in the kernel's order: the destination
  // slot, the source CNode and slot, a source capability and an empty destination. On success
  // `*id` is the source capability; otherwise `*fail` is the expected answer.
  bool source_and_dest(int target, const Message& m, const char* what, Loc* dest, Loc* src,
                       int* id, Expect* fail) const;
  Expect copy_or_mint(int target, const Message& m, bool minting);
  Expect move_or_mutate(int target, const Message& m, bool mutating);
  Expect retype(int untyped, const Message& m);
  Expect describe_slot(int target, const Message& m) const;
  Expect describe_untyped(int untyped) const;
  Expect make_pool(const Message& m);
  Expect assign_asid(int pool, const Message& m);
  void release_asid(int pml4);

  int new_object(CapType type, PhysAddr base, uint64_t bits, bool device, int from);
  int new_cap(const Cap& cap, int object, bool revocable, Loc loc);
  void link_child(int parent, int child, int after);
  void set_slot(Loc l, int cap);
  void delete_cap(int id);
  void destroy(int object);
  void revoke(int id);
  bool counts(const ModelCap& c) const { return c.cap.type() == objs_[c.object].type; }
  uint64_t untyped_used(const ModelCap& ut) const {
    return ut.children.empty() ? 0 : ut.cap.untyped_watermark();
  }
  const Slot* kernel_slot(TestSystem& sys, const ModelCap& c) const;
  void note(const char* event) { ++events_[event]; }

  std::vector<ModelObject> objs_;
  std::vector<ModelCap> caps_;
  std::vector<int> free_objs_;
  std::vector<int> free_caps_;
  int root_ = kNone;
  uint64_t root_radix_ = 0;
  uint64_t window_start_ = 0;
  std::vector<bool> frozen_;      // root slots the model does not own
  std::vector<Cap> snapshot_;     // their contents, which must never change
  std::vector<uint64_t> fixed_slots_;
  // ASIDs: which pool object has each index, and which address space holds each ASID.
  int pools_[abi::kAsidPools];
  int asids_[abi::kAsidPools][abi::kAsidPoolEntries];
  std::map<std::string, uint64_t> events_;
  int destroying_ = 0;         // nesting of destroy()
  mutable bool deep_ = false;  // resolve went through more than one CNode
};

Model::Model(TestSystem& sys, uint64_t window_start,
             const std::vector<uint64_t>& untyped_slots)
    : window_start_(window_start) {
  std::fill(&pools_[0], &pools_[abi::kAsidPools], kNone);
  for (auto& pool : asids_) {
    std::fill(std::begin(pool), std::end(pool), kNone);
  }
  root_radix_ = sys.info().root_cnode_radix;
  uint64_t n = sys.slot_count();
  root_ = new_object(CapType::kCNode, sys.root().object(), root_radix_ + abi::kSlotBits, false,
                     kNone);
  objs_[root_].slots.assign(n, kNone);
  frozen_.assign(n, true);
  snapshot_.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    snapshot_[i] = sys.slot(i)->cap;
  }
  for (uint64_t i = window_start; i < window_start + kWindowSlots; ++i) {
    frozen_[i] = false;
  }
  // The boot capabilities the model owns are roots of their own trees, and revocable (the
  // kernel's boot code makes them so); the generator never moves or deletes them.
  auto adopt = [&](uint64_t slot, int object) {
    frozen_[slot] = false;
    int id = new_cap(sys.slot(slot)->cap, object, true, Loc{root_, slot});
    caps_[id].fixed = true;
    fixed_slots_.push_back(slot);
  };
  adopt(abi::kSlotInitCNode, root_);
  const Cap& info_frame = sys.slot(abi::kSlotBootInfoFrame)->cap;
  adopt(abi::kSlotBootInfoFrame,
        new_object(CapType::kFrame, info_frame.object(), abi::kPageBits, false, kNone));
  adopt(abi::kSlotAsidControl, new_object(CapType::kAsidControl, 0, 0, false, kNone));
  for (uint64_t slot : untyped_slots) {
    const Cap& c = sys.slot(slot)->cap;
    adopt(slot, new_object(CapType::kUntyped, c.object(), c.untyped_size_bits(),
                           c.untyped_is_device(), kNone));
  }
}

int Model::new_object(CapType type, PhysAddr base, uint64_t bits, bool device, int from) {
  int id;
  if (free_objs_.empty()) {
    id = static_cast<int>(objs_.size());
    objs_.emplace_back();
  } else {
    id = free_objs_.back();
    free_objs_.pop_back();
  }
  ModelObject& o = objs_[id];
  o = ModelObject{};
  o.alive = true;
  o.type = type;
  o.base = base;
  o.bits = bits;
  o.device = device;
  if (from != kNone) {
    o.from_base = objs_[from].base;
    o.from_bits = objs_[from].bits;
  }
  return id;
}

int Model::new_cap(const Cap& cap, int object, bool revocable, Loc loc) {
  int id;
  if (free_caps_.empty()) {
    id = static_cast<int>(caps_.size());
    caps_.emplace_back();
  } else {
    id = free_caps_.back();
    free_caps_.pop_back();
  }
  ModelCap& c = caps_[id];
  c = ModelCap{};
  c.alive = true;
  c.cap = cap;
  c.object = object;
  c.revocable = revocable;
  c.loc = loc;
  if (counts(c)) {
    ++objs_[object].caps;
  }
  if (loc.cnode != kNone) {
    set_slot(loc, id);
  }
  return id;
}

// Makes `child` a child of `parent`: first, or right after the sibling `after`.
void Model::link_child(int parent, int child, int after) {
  caps_[child].parent = parent;
  if (parent == kNone) {
    return;
  }
  std::vector<int>& list = caps_[parent].children;
  auto it = after == kNone ? list.begin() : std::find(list.begin(), list.end(), after) + 1;
  list.insert(it, child);
}

void Model::set_slot(Loc l, int cap) { objs_[l.cnode].slots[l.index] = cap; }

// Deletes one capability: its children take its place under its parent, and the last
// capability to an object destroys it.
void Model::delete_cap(int id) {
  ModelCap& c = caps_[id];
  if (c.loc.cnode != kNone) {
    set_slot(c.loc, kNone);
  }
  int parent = c.parent;
  for (int child : c.children) {
    caps_[child].parent = parent;
  }
  if (parent != kNone) {
    std::vector<int>& list = caps_[parent].children;
    auto it = list.erase(std::find(list.begin(), list.end(), id));
    list.insert(it, c.children.begin(), c.children.end());
  }
  if (!c.children.empty()) {
    note("deleted a capability with children");
  }
  c.children.clear();
  c.alive = false;
  free_caps_.push_back(id);
  int object = c.object;
  if (counts(c) && --objs_[object].caps == 0) {
    destroy(object);
  }
}

// Destroys an object whose last capability went away. A CNode deletes its contents (from the
// last slot down, as the kernel's zombie does; the order only matters when a revoke loses its
// own slot on the way), a TCB every reply capability leading back to it.
void Model::destroy(int object) {
  ModelObject& o = objs_[object];
  ++destroying_;
  if (destroying_ > 1 && (o.type == CapType::kCNode || o.type == CapType::kTcb)) {
    note("destroyed a container while destroying another");
  }
  if (o.type == CapType::kCNode) {
    if (std::count(o.slots.begin(), o.slots.end(), kNone) != std::ptrdiff_t(o.slots.size())) {
      note("destroyed a cnode holding capabilities");
    }
    for (size_t i = o.slots.size(); i-- > 0;) {
      int c = objs_[object].slots[i];
      if (c != kNone) {
        delete_cap(c);
      }
    }
  } else if (o.type == CapType::kTcb) {
    int master = o.master;
    if (!caps_[master].children.empty()) {
      note("destroyed a tcb with reply capabilities");
    }
    revoke(master);
    delete_cap(master);
  } else if (o.type == CapType::kPml4) {
    release_asid(object);
  } else if (o.type == CapType::kAsidPool) {
    // Every address space in the pool loses its ASID; their capabilities keep recording it.
    for (int& space : asids_[o.pool]) {
      if (space != kNone) {
        objs_[space].asid = kNone;
        space = kNone;
      }
    }
    pools_[o.pool] = kNone;
  }
  --destroying_;
  objs_[object].alive = false;
  free_objs_.push_back(object);
}

// Deletes the descendants of `id` one by one, first child first, and stops early if the
// capability itself is deleted on the way (its slot was in a CNode that was destroyed).
void Model::revoke(int id) {
  int deleted = 0;
  while (caps_[id].alive && !caps_[id].children.empty()) {
    delete_cap(caps_[id].children.front());
    ++deleted;
  }
  if (!caps_[id].alive) {
    note("revoke lost its own capability");
  }
  if (deleted >= 8) {
    note("revoke deleted 8 or more children");
  }
}

Status Model::resolve(int cnode, uint64_t index, uint64_t depth, Loc* out) const {
  if (depth < 1 || depth > 64) {
    return Status::kDepthMismatch;
  }
  const ModelCap* c = &caps_[cnode];
  uint64_t remaining = depth;
  for (;;) {
    uint64_t guard_bits = c->cap.cnode_guard_bits();
    uint64_t radix = c->cap.cnode_radix();
    if (guard_bits + radix > remaining) {
      return Status::kDepthMismatch;
    }
    if (bits_at(index, remaining, guard_bits) != c->cap.cnode_guard()) {
      return Status::kGuardMismatch;
    }
    remaining -= guard_bits;
    Loc l{c->object, bits_at(index, remaining, radix)};
    remaining -= radix;
    if (remaining == 0) {
      *out = l;
      return Status::kOk;
    }
    // Bits are left: the slot must hold a CNode capability to go on.
    if (frozen(l)) {
      return snapshot_[l.index].is_null() ? Status::kEmptySlot : Status::kDepthMismatch;
    }
    int next = cap_at(l);
    if (next == kNone) {
      return Status::kEmptySlot;
    }
    if (caps_[next].cap.type() != CapType::kCNode) {
      return Status::kDepthMismatch;
    }
    c = &caps_[next];
    deep_ = true;
  }
}

// A cptr argument or the invoked cptr: all 64 bits from the root CNode, whose guard is
// 64 - radix zero bits, so it names a root slot or does not resolve.
Status Model::lookup_cptr(uint64_t cptr, Target* t) const {
  if ((cptr >> root_radix_) != 0) {
    return Status::kGuardMismatch;
  }
  if (frozen_[cptr]) {
    if (snapshot_[cptr].is_null()) {
      return Status::kEmptySlot;
    }
    t->frozen = true;
    t->type = snapshot_[cptr].type();
    return Status::kOk;
  }
  int c = objs_[root_].slots[cptr];
  if (c == kNone) {
    return Status::kEmptySlot;
  }
  t->cap = c;
  t->type = caps_[c].cap.type();
  return Status::kOk;
}

Status Model::lookup_cnode(uint64_t cptr, int* cap) const {
  Target t;
  Status s = lookup_cptr(cptr, &t);
  if (s != Status::kOk) {
    return s;
  }
  if (t.type != CapType::kCNode) {
    return Status::kInvalidCapability;
  }
  *cap = t.cap;  // No frozen slot holds a CNode capability.
  return Status::kOk;
}

Expect Model::invoke(const Message& m) {
  deep_ = false;
  Expect e = decode(m);
  if (!e.discard && e.status == Status::kOk && deep_) {
    note("succeeded through two or more cnodes");
  }
  return e;
}

Expect Model::decode(const Message& m) {
  Target t;
  Status s = lookup_cptr(m.target, &t);
  if (s != Status::kOk) {
    return status_only(s);
  }
  const abi::InvocationInfo* info = abi::find_invocation(m.label);
  if (info == nullptr || info->cap_type != t.type) {
    return status_only(Status::kIllegalOperation);
  }
  if (t.frozen) {
    return declined("a valid invocation of a boot capability the model does not own");
  }
  if (m.args.size() < info->arguments) {
    return status_only(Status::kTruncatedMessage);
  }
  switch (static_cast<Label>(m.label)) {
    case Label::kCNodeCopy: return copy_or_mint(t.cap, m, false);
    case Label::kCNodeMint: return copy_or_mint(t.cap, m, true);
    case Label::kCNodeMove: return move_or_mutate(t.cap, m, false);
    case Label::kCNodeMutate: return move_or_mutate(t.cap, m, true);
    case Label::kCNodeDelete:
    case Label::kCNodeRevoke: {
      Loc l;
      s = resolve(t.cap, m.args[0], m.args[1], &l);
      if (s != Status::kOk) {
        return status_only(s);
      }
      if (frozen(l)) {
        return declined("deletes in a slot the model does not own");
      }
      int c = cap_at(l);
      if (c == kNone) {
        return status_only(Status::kOk);  // Deleting or revoking an empty slot succeeds.
      }
      if (static_cast<Label>(m.label) == Label::kCNodeRevoke) {
        revoke(c);
      } else if (caps_[c].fixed) {
        return declined("deletes a boot capability");
      } else {
        delete_cap(c);
      }
      return status_only(Status::kOk);
    }
    case Label::kCNodeDescribe: return describe_slot(t.cap, m);
    case Label::kUntypedRetype: return retype(t.cap, m);
    case Label::kUntypedDescribe: return describe_untyped(t.cap);
    case Label::kAsidControlMakePool: return make_pool(m);
    case Label::kAsidPoolAssign: return assign_asid(t.cap, m);
    default: return declined("an invocation the model does not cover");
  }
}

// Copy and mint. Documented: rights are masked, untyped and reply capabilities and unmapped
// page tables cannot be copied, a badge is set once, a CNode's guard data must fit.
bool Model::source_and_dest(int target, const Message& m, const char* what, Loc* dest,
                            Loc* src, int* id, Expect* fail) const {
  int src_root = kNone;
  Status s = resolve(target, m.args[0], m.args[1], dest);
  if (s == Status::kOk) {
    s = lookup_cnode(m.args[2], &src_root);
  }
  if (s == Status::kOk) {
    s = resolve(src_root, m.args[3], m.args[4], src);
  }
  if (s != Status::kOk) {
    *fail = status_only(s);
    return false;
  }
  if (frozen(*src) || frozen(*dest)) {
    *fail = declined(what);
    return false;
  }
  *id = cap_at(*src);
  if (*id == kNone) {
    *fail = status_only(Status::kEmptySlot);
    return false;
  }
  if (cap_at(*dest) != kNone) {
    *fail = status_only(Status::kDeleteFirst);
    return false;
  }
  return true;
}

Expect Model::copy_or_mint(int target, const Message& m, bool minting) {
  Loc dest;
  Loc src;
  int from = kNone;
  Expect fail;
  if (!source_and_dest(target, m, "copies from or to a slot the model does not own", &dest, &src,
                       &from, &fail)) {
    return fail;
  }
  uint64_t mask = m.args[5];
  if ((mask & ~uint64_t{Rights::kAllBits}) != 0) {
    return status_only(Status::kInvalidArgument);
  }
  const ModelCap& sc = caps_[from];
  switch (sc.cap.type()) {
    case CapType::kUntyped:
    case CapType::kReply:
    case CapType::kPageTable:  // Never mapped in this test.
    case CapType::kPageDirectory:
    case CapType::kPdpt: return status_only(Status::kIllegalOperation);
    case CapType::kPml4:
      // "A PML4 without an ASID" cannot be copied. After its pool is destroyed an address
      // space has none, but its capabilities still record one and the kernel copies them
      // (known bug 2).
      if (objs_[sc.object].asid == kNone) {
        return status_only(Status::kIllegalOperation);
      }
      break;
    default: break;
  }
  Cap cap = sc.cap.with_rights(Rights{static_cast<uint8_t>(sc.cap.rights().bits & mask)});
  bool revocable = false;
  if (minting) {
    uint64_t data = m.args[6];
    switch (sc.cap.type()) {
      case CapType::kEndpoint:
        if (sc.cap.badge() != 0) {
          // A badge is set once: only data 0, a plain copy keeping the badge, is accepted.
          if (data != 0) {
            return status_only(Status::kIllegalOperation);
          }
          break;
        }
        if (data != 0) {
          cap = cap.with_word1(data);
          revocable = true;  // A newly badged capability is the parent of its later copies.
        }
        break;
      case CapType::kCNode: {
        uint64_t guard_bits = data & 63;
        uint64_t guard = data >> 6;
        if (guard_bits > Cap::kMaxGuardBits || guard_bits + cap.cnode_radix() > 64 ||
            (guard >> guard_bits) != 0 || (guard >> Cap::kGuardValueBits) != 0) {
          return status_only(Status::kInvalidArgument);
        }
        cap = Cap::cnode(cap.object(), cap.cnode_radix(), guard_bits, guard)
                  .with_rights(cap.rights());
        break;
      }
      default:
        if (data != 0) {
          return status_only(Status::kInvalidArgument);  // Nothing to badge.
        }
        break;
    }
  }
  // A capability that can have children is the parent of the copy; any other is its sibling.
  if (sc.cap.type() == CapType::kEndpoint && sc.cap.badge() != 0) {
    note("copied a badged endpoint capability");
  }
  if (revocable) {
    note("minted a new badge");
  }
  if (!sc.revocable) {
    note("copied a copy");
  }
  if (dest.cnode != root_ || src.cnode != root_) {
    note("copied from or into a created cnode");
  }
  bool child = sc.revocable;
  int parent = child ? from : sc.parent;
  int object = sc.object;
  int id = new_cap(cap, object, revocable, dest);
  link_child(parent, id, child ? kNone : from);
  return status_only(Status::kOk);
}

// Move and mutate: the capability keeps its place in the tree. Mutate changes a CNode guard;
// badges are set only by mint.
Expect Model::move_or_mutate(int target, const Message& m, bool mutating) {
  Loc dest;
  Loc src;
  int id = kNone;
  Expect fail;
  if (!source_and_dest(target, m, "moves from or to a slot the model does not own", &dest, &src,
                       &id, &fail)) {
    return fail;
  }
  if (caps_[id].fixed) {
    return declined("moves a boot capability");
  }
  Cap cap = caps_[id].cap;
  if (mutating) {
    uint64_t data = m.args[5];
    switch (cap.type()) {
      case CapType::kEndpoint:
        if (data != 0) {
          return status_only(Status::kIllegalOperation);
        }
        break;
      case CapType::kCNode: {
        uint64_t guard_bits = data & 63;
        uint64_t guard = data >> 6;
        if (guard_bits > Cap::kMaxGuardBits || guard_bits + cap.cnode_radix() > 64 ||
            (guard >> guard_bits) != 0 || (guard >> Cap::kGuardValueBits) != 0) {
          return status_only(Status::kInvalidArgument);
        }
        cap = Cap::cnode(cap.object(), cap.cnode_radix(), guard_bits, guard)
                  .with_rights(cap.rights());
        break;
      }
      default:
        if (data != 0) {
          return status_only(Status::kInvalidArgument);
        }
        break;
    }
  }
  if (dest.cnode != root_ || src.cnode != root_) {
    note("moved from or into a created cnode");
  }
  set_slot(src, kNone);
  caps_[id].cap = cap;
  caps_[id].loc = dest;
  set_slot(dest, id);
  return status_only(Status::kOk);
}

// The documented object sizes (docs/objects.md), or 0 for a type retype does not make.
uint64_t model_object_bits(uint64_t type, uint64_t size_bits) {
  switch (static_cast<ObjectType>(type)) {
    case ObjectType::kUntyped: return size_bits;
    case ObjectType::kTcb: return 12;
    case ObjectType::kEndpoint: return 6;
    case ObjectType::kCNode: return size_bits + 5;
    case ObjectType::kFrame4K: return 12;
    case ObjectType::kFrame2M: return 21;
    case ObjectType::kPageTable:
    case ObjectType::kPageDirectory:
    case ObjectType::kPdpt:
    case ObjectType::kPml4: return 12;
    case ObjectType::kAsidPool: return 0;
  }
  return 0;
}

Cap model_object_cap(ObjectType type, PhysAddr base, uint64_t size_bits, bool device) {
  switch (type) {
    case ObjectType::kUntyped: return Cap::untyped(base, size_bits, device);
    case ObjectType::kTcb: return Cap::tcb(base);
    case ObjectType::kEndpoint: return Cap::endpoint(base, Rights::all(), 0);
    case ObjectType::kCNode: return Cap::cnode(base, size_bits, 0, 0);
    case ObjectType::kFrame4K: return Cap::frame(base, Rights::all(), 0, device);
    case ObjectType::kFrame2M: return Cap::frame(base, Rights::all(), 1, device);
    case ObjectType::kPageTable: return Cap::table(CapType::kPageTable, base);
    case ObjectType::kPageDirectory: return Cap::table(CapType::kPageDirectory, base);
    case ObjectType::kPdpt: return Cap::table(CapType::kPdpt, base);
    case ObjectType::kPml4: return Cap::table(CapType::kPml4, base);
    case ObjectType::kAsidPool: break;
  }
  return Cap();
}

// Retype. Checks in the order the arguments come (type, size, destination CNode, slot range,
// occupied slots, memory); an untyped without children starts again from the bottom, and
// objects are aligned to their size.
Expect Model::retype(int untyped, const Message& m) {
  uint64_t type = m.args[0];
  uint64_t size_bits = m.args[1];
  if (type >= abi::kObjectTypeCount || type == uint64_t(ObjectType::kAsidPool)) {
    return status_only(Status::kInvalidArgument);
  }
  auto t = static_cast<ObjectType>(type);
  if (t == ObjectType::kUntyped && (size_bits < 4 || size_bits > 47)) {
    return status_only(Status::kRangeError);
  }
  if (t == ObjectType::kCNode && (size_bits < 1 || size_bits > 24)) {
    return status_only(Status::kRangeError);
  }
  const ModelCap& ut = caps_[untyped];
  bool device = ut.cap.untyped_is_device();
  if (device && t != ObjectType::kUntyped && t != ObjectType::kFrame4K &&
      t != ObjectType::kFrame2M) {
    return status_only(Status::kInvalidArgument);
  }
  int root = kNone;
  Status s = lookup_cnode(m.args[2], &root);
  if (s != Status::kOk) {
    return status_only(s);
  }
  int node = root;
  if (m.args[4] != 0) {
    Loc l;
    s = resolve(root, m.args[3], m.args[4], &l);
    if (s != Status::kOk) {
      return status_only(s);
    }
    if (frozen(l)) {
      return status_only(snapshot_[l.index].is_null() ? Status::kEmptySlot
                                                      : Status::kInvalidCapability);
    }
    node = cap_at(l);
    if (node == kNone) {
      return status_only(Status::kEmptySlot);
    }
    if (caps_[node].cap.type() != CapType::kCNode) {
      return status_only(Status::kInvalidCapability);
    }
  }
  uint64_t offset = m.args[5];
  uint64_t count = m.args[6];
  uint64_t slots = uint64_t{1} << caps_[node].cap.cnode_radix();
  if (count == 0 || count > 256 || offset >= slots || count > slots - offset) {
    return status_only(Status::kRangeError);
  }
  int dest_obj = caps_[node].object;
  for (uint64_t i = 0; i < count; ++i) {
    if (frozen(Loc{dest_obj, offset + i})) {
      return declined("retypes into slots the model does not own");
    }
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (cap_at(Loc{dest_obj, offset + i}) != kNone) {
      return status_only(Status::kDeleteFirst);
    }
  }
  uint64_t object_bits = model_object_bits(type, size_bits);
  uint64_t ut_bits = ut.cap.untyped_size_bits();
  if (object_bits > ut_bits) {
    return status_only(Status::kNotEnoughMemory);
  }
  uint64_t start = align_up(untyped_used(ut), uint64_t{1} << object_bits);
  uint64_t size = uint64_t{1} << ut_bits;
  uint64_t bytes = count << object_bits;
  if (start > size || bytes > size - start) {
    return status_only(Status::kNotEnoughMemory);
  }
  if (ut.children.empty() && ut.cap.untyped_watermark() != 0) {
    note("retyped an untyped that had been emptied");
  }
  if (dest_obj != root_) {
    note("retyped into a created cnode");
  }
  int ut_obj = ut.object;
  PhysAddr ut_base = ut.cap.object();
  CapType cap_type = model_object_cap(t, 0, size_bits, device).type();
  for (uint64_t i = 0; i < count; ++i) {
    PhysAddr base = ut_base + start + (i << object_bits);
    int o = new_object(cap_type, base, object_bits, device, ut_obj);
    if (t == ObjectType::kCNode) {
      objs_[o].slots.assign(uint64_t{1} << size_bits, kNone);
    }
    int c = new_cap(model_object_cap(t, base, size_bits, device), o, true,
                    Loc{dest_obj, offset + i});
    link_child(untyped, c, kNone);
    if (t == ObjectType::kTcb) {
      int master = new_cap(Cap::reply(base, true, true), o, true, Loc{});
      objs_[o].master = master;
    }
  }
  caps_[untyped].cap = caps_[untyped].cap.with_untyped_watermark(start + bytes);
  return status_only(Status::kOk);
}

Expect Model::describe_slot(int target, const Message& m) const {
  Loc l;
  Status s = resolve(target, m.args[0], m.args[1], &l);
  if (s != Status::kOk) {
    return status_only(s);
  }
  Cap c = frozen(l) ? snapshot_[l.index] : cap_at(l) == kNone ? Cap() : caps_[cap_at(l)].cap;
  Expect e;
  // The model never maps anything; frames and tables report "not mapped" (~0).
  bool maps = c.type() == CapType::kFrame || c.type() == CapType::kPageTable ||
              c.type() == CapType::kPageDirectory || c.type() == CapType::kPdpt;
  uint64_t vaddr = maps && c.is_mapped() ? c.mapped_vaddr() : ~uint64_t{0};
  e.reply = {static_cast<uint64_t>(c.type()), c.rights().bits, c.object(), c.word1(), vaddr};
  return e;
}

Expect Model::describe_untyped(int untyped) const {
  const ModelCap& ut = caps_[untyped];
  uint64_t size = uint64_t{1} << ut.cap.untyped_size_bits();
  Expect e;
  e.reply = {ut.cap.object(), ut.cap.untyped_size_bits(), ut.cap.untyped_is_device() ? 1u : 0u,
             size - untyped_used(ut)};
  return e;
}

// AsidControl::MakePool: a 4 KiB RAM untyped without children becomes the next free pool.
Expect Model::make_pool(const Message& m) {
  Target u;
  Status s = lookup_cptr(m.args[0], &u);
  if (s != Status::kOk) {
    return status_only(s);
  }
  if (u.type != CapType::kUntyped) {
    return status_only(Status::kInvalidCapability);
  }
  if (u.frozen) {
    return declined("makes a pool of an untyped the model does not own");
  }
  const ModelCap& ut = caps_[u.cap];
  if (ut.cap.untyped_size_bits() != abi::kAsidPoolBits || ut.cap.untyped_is_device()) {
    return status_only(Status::kInvalidCapability);
  }
  if (!ut.children.empty()) {
    return status_only(Status::kRevokeFirst);
  }
  int root = kNone;
  Loc dest;
  s = lookup_cnode(m.args[1], &root);
  if (s == Status::kOk) {
    s = resolve(root, m.args[2], m.args[3], &dest);
  }
  if (s != Status::kOk) {
    return status_only(s);
  }
  if (frozen(dest)) {
    return declined("makes a pool in a slot the model does not own");
  }
  if (cap_at(dest) != kNone) {
    return status_only(Status::kDeleteFirst);
  }
  uint64_t index = 0;
  while (index < abi::kAsidPools && pools_[index] != kNone) {
    ++index;
  }
  if (index == abi::kAsidPools) {
    return status_only(Status::kNoSpace);
  }
  int untyped = u.cap;
  PhysAddr base = ut.cap.object();
  int o = new_object(CapType::kAsidPool, base, abi::kAsidPoolBits, false, ut.object);
  objs_[o].pool = index;
  pools_[index] = o;
  int c = new_cap(Cap::asid_pool(base, index), o, true, dest);
  link_child(untyped, c, kNone);
  caps_[untyped].cap = caps_[untyped].cap.with_untyped_watermark(uint64_t{1} << abi::kAsidPoolBits);
  note("made an asid pool");
  return status_only(Status::kOk);
}

// AsidPool::Assign: the pool's first free ASID (never 0) for an address space that has none.
// An address space whose pool was destroyed has none, but its capabilities still record the
// old ASID and the kernel refuses it (known bug 2).
Expect Model::assign_asid(int pool, const Message& m) {
  Target v;
  Status s = lookup_cptr(m.args[0], &v);
  if (s != Status::kOk) {
    return status_only(s);
  }
  if (v.type != CapType::kPml4) {
    return status_only(Status::kInvalidCapability);  // No frozen slot holds a PML4.
  }
  const ModelCap& vc = caps_[v.cap];
  ModelObject& space = objs_[vc.object];
  if (space.asid != kNone) {
    return status_only(Status::kIllegalOperation);
  }
  uint64_t index = caps_[pool].cap.asid_pool_index();
  uint64_t entry = index == 0 ? 1 : 0;  // ASID 0 is the kernel's.
  while (entry < abi::kAsidPoolEntries && asids_[index][entry] != kNone) {
    ++entry;
  }
  if (entry == abi::kAsidPoolEntries) {
    return status_only(Status::kNoSpace);
  }
  uint64_t asid = index << kernel::kAsidBitsLow | entry;
  asids_[index][entry] = vc.object;
  space.asid = int(asid);
  caps_[v.cap].cap = vc.cap.with_pml4_asid(asid);
  note("assigned an asid");
  return status_only(Status::kOk);
}

// A destroyed address space gives up its ASID.
void Model::release_asid(int pml4) {
  int asid = objs_[pml4].asid;
  if (asid == kNone) {
    return;
  }
  note("destroyed an address space with an asid");
  asids_[uint64_t(asid) >> kernel::kAsidBitsLow][uint64_t(asid) & (abi::kAsidPoolEntries - 1)] =
      kNone;
  objs_[pml4].asid = kNone;
}

int Model::add_reply(int tcb, uint64_t slot, bool can_grant) {
  int master = objs_[tcb].master;
  int id = new_cap(Cap::reply(objs_[tcb].base, false, can_grant), tcb, false, Loc{root_, slot});
  link_child(master, id, kNone);
  return id;
}

const Slot* Model::kernel_slot(TestSystem& sys, const ModelCap& c) const {
  if (c.loc.cnode == kNone) {
    return &kernel::mem::phys_to<kernel::Tcb>(objs_[c.object].base)->slots[kernel::kTcbReplySlot];
  }
  if (c.loc.cnode == root_) {
    return sys.slot(c.loc.index);
  }
  return &kernel::mem::phys_to<Slot>(objs_[c.loc.cnode].base)[c.loc.index];
}

std::string Model::verify(TestSystem& sys) const {
  auto slot_diff = [&](const char* where, uint64_t index, const Cap& want, const Cap& got) {
    return std::string(where) + " slot " + std::to_string(index) + ": model " + cap_text(want) +
           ", kernel " + cap_text(got);
  };
  // The root CNode, all of it: slots the model does not own must not change either.
  const ModelObject& root = objs_[root_];
  for (uint64_t i = 0; i < root.slots.size(); ++i) {
    const Cap& got = sys.slot(i)->cap;
    Cap want = frozen_[i]                ? snapshot_[i]
               : root.slots[i] == kNone ? Cap()
                                        : caps_[root.slots[i]].cap;
    if (!(got == want)) {
      return slot_diff("root", i, want, got);
    }
  }
  for (size_t o = 0; o < objs_.size(); ++o) {
    const ModelObject& obj = objs_[o];
    if (!obj.alive) {
      continue;
    }
    if ((obj.base & ((uint64_t{1} << obj.bits) - 1)) != 0) {
      return "object " + hex(obj.base) + " is not aligned to its size";
    }
    if (obj.from_bits != 0 &&
        (obj.base < obj.from_base ||
         obj.base + (uint64_t{1} << obj.bits) > obj.from_base + (uint64_t{1} << obj.from_bits))) {
      return "object " + hex(obj.base) + " lies outside its untyped";
    }
    if (obj.type != CapType::kCNode || static_cast<int>(o) == root_) {
      continue;
    }
    const Slot* slots = kernel::mem::phys_to<Slot>(obj.base);
    for (uint64_t i = 0; i < obj.slots.size(); ++i) {
      Cap want = obj.slots[i] == kNone ? Cap() : caps_[obj.slots[i]].cap;
      if (!(slots[i].cap == want)) {
        return slot_diff(("cnode " + hex(obj.base)).c_str(), i, want, slots[i].cap);
      }
    }
  }
  // The derivation tree: a capability has children in the kernel exactly when it has some in
  // the model (revoke and the untyped reset depend on nothing else).
  for (const ModelCap& c : caps_) {
    if (!c.alive) {
      continue;
    }
    const Slot* s = kernel_slot(sys, c);
    if (!(s->cap == c.cap)) {
      return "capability " + cap_text(c.cap) + " is not where the model has it (the slot holds " +
             cap_text(s->cap) + ")";
    }
    bool kernel_children = kernel::has_children(*s);
    if (kernel_children != !c.children.empty()) {
      std::string where =
          c.loc.cnode == root_ ? " in root slot " + std::to_string(c.loc.index) : "";
      return cap_text(c.cap) + where + ": the kernel says it has " +
             (kernel_children ? "children" : "no children") + ", the model has " +
             std::to_string(c.children.size());
    }
  }
  for (uint64_t i = 0; i < abi::kAsidPools; ++i) {
    for (uint64_t j = 0; j < abi::kAsidPoolEntries; ++j) {
      int space = asids_[i][j];
      PhysAddr want = space == kNone ? 0 : objs_[space].base;
      PhysAddr got = kernel::asid_lookup(i << kernel::kAsidBitsLow | j);
      if (got != want) {
        return "ASID " + hex(i << kernel::kAsidBitsLow | j) + ": model address space " +
               hex(want) + ", kernel " + hex(got);
      }
    }
  }
  if (const char* rule = sys.check_invariants()) {
    return std::string("invariant broken: ") + rule;
  }
  // Free space: whenever an untyped has no children left its whole size is free again.
  for (const ModelCap& c : caps_) {
    if (!c.alive || c.cap.type() != CapType::kUntyped || c.loc.cnode != root_) {
      continue;
    }
    auto r = sys.invoke(c.loc.index, Label::kUntypedDescribe, {});
    Expect e = describe_untyped(static_cast<int>(&c - caps_.data()));
    if (!r.ok() || r.words != e.reply) {
      return "UntypedDescribe of root slot " + std::to_string(c.loc.index) + ": model free " +
             hex(e.reply[3]) + ", kernel " + (r.ok() ? hex(r.words.at(3)) : status_name(r.status));
    }
  }
  return "";
}

// --- The generator ----------------------------------------------------------------------------

enum class Op {
  kRetype,
  kCopy,
  kMint,
  kMove,
  kMutate,
  kDelete,
  kRevoke,
  kDescribe,
  kUntypedDescribe,
  kRevokeBootUntyped,
  kInvalid,
  kTruncated,
  kReply,
  kMakePool,
  kAssign,
  kCount,
};

constexpr const char* kOpNames[] = {"retype", "copy", "mint", "move", "mutate", "delete",
                                    "revoke", "describe", "untyped-describe", "revoke-boot",
                                    "invalid", "truncated", "reply", "make-pool", "assign"};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == size_t(Op::kCount));

// Relative weights with the window half full; choose_op shifts them with the window's fill.
constexpr unsigned kOpWeights[] = {190, 140, 130, 60, 50, 150, 70, 40, 20, 2, 100, 30, 18, 12,
                                   12};
static_assert(sizeof(kOpWeights) / sizeof(kOpWeights[0]) == size_t(Op::kCount));

struct Addr {
  uint64_t index = 0;
  uint64_t depth = 0;
};

enum class Want { kAny, kEmpty, kFull };

class Runner {
 public:
  explicit Runner(uint64_t seed);

  // Runs `ops` operations; returns "" or a report of the first mismatch.
  std::string run(uint64_t ops, bool verbose);
  // For scripted cases: sends `m` to the model and the kernel, fails the test case if they
  // disagree, and returns the status.
  Status check(const Message& m);
  TestSystem& sys() { return sys_; }
  const Model& model() const { return model_; }
  const std::vector<uint64_t>& boot_untyped() const { return boot_untyped_; }
  uint64_t window_start() const { return model_.window_start(); }

 private:
  uint64_t rnd(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(unsigned percent) { return rnd(100) < percent; }

  void survey();
  size_t choose_op();
  // The model's CNode capability at root slot `cptr`, or kNone.
  int cnode_at(uint64_t cptr) const {
    int c = (cptr >> model_.root_radix()) == 0 ? model_.root_cap(cptr) : kNone;
    return c != kNone && model_.cap(c).cap.type() == CapType::kCNode ? c : kNone;
  }
  uint64_t pick_cnode_cptr();
  Addr path(uint64_t cptr, Loc* where);
  Addr pick_addr(uint64_t cptr, Want want, CapType prefer = CapType::kNull, bool movable = false);
  void perturb(Addr& a);
  uint64_t pick_rights();
  uint64_t pick_data(uint64_t src_root, Addr src);
  Message gen(Op op);
  Message gen_retype();
  Message gen_pair(Label label);
  Message gen_invalid();
  std::string describe(const Message& m, const Expect& e) const;
  // Sends `m` to the kernel; returns "" or how the outcome differs from `e`.
  std::string send(const Message& m, const Expect& e);

  TestSystem sys_;
  std::vector<uint64_t> boot_untyped_;
  Model model_;
  std::mt19937_64 rng_;
  // Refreshed before each operation.
  std::vector<uint64_t> window_cnodes_;   // root slots holding CNode capabilities
  std::vector<uint64_t> untyped_cptrs_;   // root slots holding untyped capabilities
  std::vector<uint64_t> window_full_;
  std::vector<uint64_t> window_empty_;
  std::vector<int> tcbs_;                 // live TCB objects
};

// Two small RAM untyped (so that retype runs out of memory often) and one device untyped.
std::vector<uint64_t> choose_untyped(const abi::BootInfo& info) {
  std::vector<std::pair<uint64_t, uint64_t>> ram;
  uint64_t device = 0;
  uint64_t device_bits = 64;
  for (uint64_t n = 0; n < info.untyped_count; ++n) {
    const abi::UntypedDesc& d = info.untyped_list[n];
    if (!d.is_device && d.size_bits >= 16) {
      ram.push_back({d.size_bits, info.untyped.start + n});
    } else if (d.is_device && d.size_bits >= 22 && d.size_bits < device_bits) {
      device = info.untyped.start + n;
      device_bits = d.size_bits;
    }
  }
  std::sort(ram.begin(), ram.end());
  if (ram.size() < 2 || device == 0) {
    throw std::runtime_error("random test: the arena lacks the untyped it needs");
  }
  return {ram[0].second, ram[1].second, device};
}

Runner::Runner(uint64_t seed)
    : boot_untyped_(choose_untyped(sys_.info())),
      model_(sys_, sys_.info().empty.start, boot_untyped_),
      rng_(seed) {}

void Runner::survey() {
  window_cnodes_.clear();
  untyped_cptrs_ = boot_untyped_;
  window_full_.clear();
  window_empty_.clear();
  uint64_t start = model_.window_start();
  for (uint64_t s = start; s < start + kWindowSlots; ++s) {
    int c = model_.root_cap(s);
    if (c == kNone) {
      window_empty_.push_back(s);
      continue;
    }
    window_full_.push_back(s);
    CapType t = model_.cap(c).cap.type();
    if (t == CapType::kCNode) {
      window_cnodes_.push_back(s);
    } else if (t == CapType::kUntyped) {
      untyped_cptrs_.push_back(s);
    }
  }
  tcbs_.clear();
  for (size_t o = 0; o < model_.object_count(); ++o) {
    if (model_.object(int(o)).alive && model_.object(int(o)).type == CapType::kTcb) {
      tcbs_.push_back(int(o));
    }
  }
}

// Creating capabilities gets likelier as the window empties and deleting them as it fills, so
// that the window stays around half full.
size_t Runner::choose_op() {
  uint64_t full = window_full_.size();
  unsigned weights[size_t(Op::kCount)];
  uint64_t total = 0;
  for (size_t i = 0; i < size_t(Op::kCount); ++i) {
    uint64_t w = kOpWeights[i];
    switch (Op(i)) {
      case Op::kRetype:
      case Op::kCopy:
      case Op::kMint: w = w * (2 * kWindowSlots - 2 * full) / kWindowSlots; break;
      case Op::kDelete:
      case Op::kRevoke: w = w * 2 * full / kWindowSlots; break;
      default: break;
    }
    weights[i] = unsigned(w);
    total += w;
  }
  uint64_t pick = rnd(total);
  size_t op = 0;
  while (pick >= weights[op]) {
    pick -= weights[op++];
  }
  return op;
}

// The invoked CNode or a CNode cptr argument: the root's own capability half of the time.
uint64_t Runner::pick_cnode_cptr() {
  if (window_cnodes_.empty() || chance(50)) {
    return abi::kSlotInitCNode;
  }
  return window_cnodes_[rnd(window_cnodes_.size())];
}

// A random well-formed address below the CNode capability at root slot `cptr`: a slot of that
// CNode, or sometimes of a CNode one or two levels further down.
Addr Runner::path(uint64_t cptr, Loc* where) {
  Addr a;
  int c = cnode_at(cptr);
  if (c == kNone) {
    // Not a CNode (a deliberately wrong cptr): any address will do.
    a.index = model_.window_start() + rnd(kWindowSlots);
    a.depth = 64;
    *where = Loc{model_.root_object(), a.index};
    return a;
  }
  for (;;) {
    const ModelCap& mc = model_.cap(c);
    uint64_t guard_bits = mc.cap.cnode_guard_bits();
    uint64_t radix = mc.cap.cnode_radix();
    uint64_t i;
    if (mc.object == model_.root_object()) {
      const std::vector<uint64_t>& fixed = model_.fixed_slots();
      i = chance(92) ? model_.window_start() + rnd(kWindowSlots) : fixed[rnd(fixed.size())];
    } else {
      i = rnd(uint64_t{1} << radix);
    }
    a.index = shl(a.index, guard_bits + radix) | shl(mc.cap.cnode_guard(), radix) | i;
    a.depth += guard_bits + radix;
    *where = Loc{mc.object, i};
    int next = model_.cap_at(*where);
    if (next == kNone || model_.cap(next).cap.type() != CapType::kCNode || !chance(30)) {
      return a;
    }
    const Cap& n = model_.cap(next).cap;
    if (a.depth + n.cnode_guard_bits() + n.cnode_radix() > 64) {
      return a;
    }
    c = next;
  }
}

// An address that names an empty or a full slot as wanted, if a few tries find one; a
// capability of type `prefer` if one turns up, and no boot capability if `movable`.
Addr Runner::pick_addr(uint64_t cptr, Want want, CapType prefer, bool movable) {
  Addr a;
  Addr fallback;
  bool have_fallback = false;
  for (int tries = 0; tries < 12; ++tries) {
    Loc l;
    a = path(cptr, &l);
    int c = model_.cap_at(l);
    if (want != Want::kAny && (want == Want::kFull) != (c != kNone)) {
      continue;
    }
    if (movable && c != kNone && model_.cap(c).fixed) {
      continue;
    }
    if (prefer == CapType::kNull || (c != kNone && model_.cap(c).cap.type() == prefer)) {
      have_fallback = false;
      break;
    }
    if (!have_fallback) {
      fallback = a;
      have_fallback = true;
    }
  }
  if (have_fallback) {
    a = fallback;
  }
  if (chance(3)) {
    perturb(a);
  }
  return a;
}

// Breaks an address: a depth out of range or off by one, a flipped bit (in a guard or an
// index), or bits above the depth (which resolution ignores).
void Runner::perturb(Addr& a) {
  switch (rnd(6)) {
    case 0: a.depth = 0; break;
    case 1: a.depth = 65 + rnd(100); break;
    case 2: a.depth = a.depth > 1 ? a.depth - 1 : 0; break;
    case 3: a.depth += 1; break;
    case 4: a.index ^= shl(1, rnd(a.depth == 0 ? 1 : a.depth)); break;
    default: a.index |= shl(1 + rnd(255), a.depth); break;
  }
}

uint64_t Runner::pick_rights() {
  uint64_t r = rnd(100);
  if (r < 55) {
    return Rights::kAllBits;
  }
  if (r < 96) {
    return rnd(32);
  }
  return chance(50) ? 0x20 | rnd(0xE0) : shl(1, 5 + rnd(59));
}

// Badges for endpoints (few distinct values, so that equal badges meet), guard data for CNodes,
// and for anything else mostly zero.
uint64_t Runner::pick_data(uint64_t src_root, Addr src) {
  int root_cap = cnode_at(src_root);
  Loc l;
  CapType type = CapType::kNull;
  uint64_t radix = 0;
  if (root_cap != kNone && model_.resolve(root_cap, src.index, src.depth, &l) == Status::kOk &&
      !model_.frozen(l) && model_.cap_at(l) != kNone) {
    const Cap& c = model_.cap(model_.cap_at(l)).cap;
    type = c.type();
    radix = c.cnode_radix();
  }
  if (type == CapType::kEndpoint) {
    uint64_t r = rnd(100);
    return r < 30 ? 0 : r < 85 ? 1 + rnd(4) : rng_();
  }
  if (type == CapType::kCNode) {
    uint64_t max_bits = std::min<uint64_t>(Cap::kMaxGuardBits, 64 - radix);
    if (chance(85)) {
      uint64_t guard_bits = chance(40) ? 0 : chance(70) ? 1 + rnd(std::min<uint64_t>(8, max_bits))
                                                         : rnd(max_bits + 1);
      uint64_t guard = rnd(shl(1, guard_bits));
      return guard << 6 | guard_bits;
    }
    // Guard bits + radix over 64 would need a radix over 12, larger than any CNode here.
    switch (rnd(3)) {
      case 0: return 53 + rnd(11);                   // too many guard bits
      case 1: return (shl(1, 3) | rnd(8)) << 6 | 3;  // a guard wider than its bits
      default: return rng_() | 63;
    }
  }
  return chance(85) ? 0 : rng_() | 1;
}

Message Runner::gen(Op op) {
  switch (op) {
    case Op::kRetype: return gen_retype();
    case Op::kCopy: return gen_pair(Label::kCNodeCopy);
    case Op::kMint: return gen_pair(Label::kCNodeMint);
    case Op::kMove: return gen_pair(Label::kCNodeMove);
    case Op::kMutate: return gen_pair(Label::kCNodeMutate);
    case Op::kDelete:
    case Op::kRevoke:
    case Op::kDescribe: {
      Message m;
      m.target = pick_cnode_cptr();
      m.label = word(op == Op::kDelete   ? Label::kCNodeDelete
                     : op == Op::kRevoke ? Label::kCNodeRevoke
                                         : Label::kCNodeDescribe);
      // Revoking untyped and endpoints is where the derivation tree matters most.
      CapType prefer = op != Op::kRevoke ? CapType::kNull
                       : chance(35)      ? CapType::kUntyped
                       : chance(50)      ? CapType::kEndpoint
                                         : CapType::kNull;
      Addr a = pick_addr(m.target, op == Op::kDescribe ? Want::kAny : Want::kFull, prefer,
                         op == Op::kDelete);
      m.args = {a.index, a.depth};
      return m;
    }
    case Op::kUntypedDescribe: {
      Message m;
      m.target = untyped_cptrs_[rnd(untyped_cptrs_.size())];
      m.label = word(Label::kUntypedDescribe);
      return m;
    }
    case Op::kRevokeBootUntyped: {
      Message m;
      m.target = abi::kSlotInitCNode;
      m.label = word(Label::kCNodeRevoke);
      m.args = {boot_untyped_[rnd(boot_untyped_.size())], 64};
      return m;
    }
    case Op::kInvalid: return gen_invalid();
    case Op::kTruncated: {
      static constexpr Op kValid[] = {Op::kRetype, Op::kCopy, Op::kMint, Op::kMove,
                                      Op::kMutate, Op::kDelete, Op::kDescribe};
      Message m = gen(kValid[rnd(sizeof kValid / sizeof kValid[0])]);
      m.args.resize(rnd(m.args.size()));
      return m;
    }
    case Op::kMakePool: {
      // Mostly a 4 KiB RAM untyped from the window; sometimes anything at all.
      Message m;
      m.target = abi::kSlotAsidControl;
      m.label = word(Label::kAsidControlMakePool);
      std::vector<uint64_t> small;
      for (uint64_t c : untyped_cptrs_) {
        if (model_.cap(model_.root_cap(c)).cap.untyped_size_bits() == abi::kAsidPoolBits) {
          small.push_back(c);
        }
      }
      for (uint64_t c : window_full_) {
        if (model_.cap(model_.root_cap(c)).cap.type() == CapType::kAsidControl && chance(30)) {
          m.target = c;  // A copy of ASID control works as well.
        }
      }
      uint64_t ut = !small.empty() && chance(85) ? small[rnd(small.size())]
                    : window_full_.empty()      ? 0
                                                : window_full_[rnd(window_full_.size())];
      uint64_t root = pick_cnode_cptr();
      Addr dest = pick_addr(root, Want::kEmpty);
      m.args = {ut, root, dest.index, dest.depth};
      return m;
    }
    case Op::kAssign: {
      Message m;
      m.label = word(Label::kAsidPoolAssign);
      std::vector<uint64_t> pools;
      std::vector<uint64_t> spaces;
      for (uint64_t c : window_full_) {
        CapType t = model_.cap(model_.root_cap(c)).cap.type();
        if (t == CapType::kAsidPool) {
          pools.push_back(c);
        } else if (t == CapType::kPml4) {
          spaces.push_back(c);
        }
      }
      m.target = !pools.empty() && chance(95) ? pools[rnd(pools.size())]
                 : window_full_.empty()       ? 0
                                              : window_full_[rnd(window_full_.size())];
      m.args = {!spaces.empty() && chance(90) ? spaces[rnd(spaces.size())]
                : window_full_.empty()        ? 0
                                              : window_full_[rnd(window_full_.size())]};
      return m;
    }
    case Op::kReply:
    case Op::kCount: break;
  }
  return Message{};
}

Message Runner::gen_retype() {
  Message m;
  m.label = word(Label::kUntypedRetype);
  m.target = untyped_cptrs_.size() > boot_untyped_.size() && chance(45)
                 ? untyped_cptrs_[boot_untyped_.size() +
                                  rnd(untyped_cptrs_.size() - boot_untyped_.size())]
                 : boot_untyped_[rnd(boot_untyped_.size())];
  static constexpr std::pair<ObjectType, unsigned> kTypes[] = {
      {ObjectType::kEndpoint, 22}, {ObjectType::kCNode, 14},      {ObjectType::kTcb, 10},
      {ObjectType::kFrame4K, 14},  {ObjectType::kUntyped, 12},    {ObjectType::kPageTable, 8},
      {ObjectType::kPml4, 8},      {ObjectType::kFrame2M, 2},     {ObjectType::kPageDirectory, 2},
      {ObjectType::kPdpt, 2},
  };
  unsigned total = 0;
  for (const auto& t : kTypes) {
    total += t.second;
  }
  uint64_t pick = rnd(total);
  ObjectType type = ObjectType::kEndpoint;
  for (const auto& t : kTypes) {
    if (pick < t.second) {
      type = t.first;
      break;
    }
    pick -= t.second;
  }
  // Device untyped only make frames and untyped; ask for anything else now and then.
  if (model_.cap(model_.root_cap(m.target)).cap.untyped_is_device() && chance(85)) {
    static constexpr ObjectType kDeviceTypes[] = {ObjectType::kFrame4K, ObjectType::kFrame2M,
                                                  ObjectType::kUntyped};
    type = kDeviceTypes[rnd(3)];
  }
  uint64_t type_word = static_cast<uint64_t>(type);
  uint64_t size_bits = rnd(64);
  if (type == ObjectType::kCNode) {
    size_bits = chance(95) ? 1 + rnd(4) : chance(50) ? 0 : 25 + rnd(10);
  } else if (type == ObjectType::kUntyped) {
    uint64_t r = rnd(100);
    size_bits = r < 80 ? 12 + rnd(5) : r < 95 ? 4 + rnd(8) : chance(50) ? 3 : 48;
  }
  if (chance(3)) {
    type_word = chance(50) ? uint64_t(ObjectType::kAsidPool) : abi::kObjectTypeCount + rnd(1000);
  }
  uint64_t count = chance(97) ? 1 + rnd(4) : chance(50) ? 0 : 257;
  uint64_t root = abi::kSlotInitCNode;
  uint64_t index = 0;
  uint64_t depth = 0;
  uint64_t offset = 0;
  // Where the objects go: a run of the window through the root CNode (or a copy of it), or the
  // slots of a CNode made earlier, named either as the root cptr or by (index, depth).
  std::vector<uint64_t> children;
  std::vector<uint64_t> root_copies;
  for (uint64_t s : window_cnodes_) {
    (model_.cap(model_.root_cap(s)).object == model_.root_object() ? root_copies : children)
        .push_back(s);
  }
  uint64_t where = rnd(100);
  if (where < 75 || children.empty()) {
    if (!root_copies.empty() && chance(15)) {
      root = root_copies[rnd(root_copies.size())];
    }
    for (int tries = 0; tries < 6; ++tries) {
      offset = model_.window_start() + rnd(kWindowSlots - std::min<uint64_t>(count, 4) + 1);
      bool empty = true;
      for (uint64_t i = 0; i < count && i < 4; ++i) {
        empty = empty && model_.root_cap(offset + i) == kNone;
      }
      if (empty) {
        break;
      }
    }
  } else {
    uint64_t node = children[rnd(children.size())];
    uint64_t slots = uint64_t{1} << model_.cap(model_.root_cap(node)).cap.cnode_radix();
    if (chance(50)) {
      root = node;
    } else {
      index = node;
      depth = 64;
    }
    offset = rnd(slots);
    count = std::min(count, slots - offset);
    if (count == 0) {
      count = 1;
    }
  }
  if (chance(4)) {
    switch (rnd(5)) {
      case 0: offset = chance(50) ? uint64_t{1} << model_.root_radix() : rng_(); break;
      case 1: root = window_full_.empty() ? 0 : window_full_[rnd(window_full_.size())]; break;
      case 2: root = rng_(); break;
      case 3:
        index = model_.window_start() + rnd(kWindowSlots);  // Often not a CNode.
        depth = 64;
        break;
      default:
        index = rng_();
        depth = 1 + rnd(70);
        break;
    }
  }
  m.args = {type_word, size_bits, root, index, depth, offset, count};
  return m;
}

Message Runner::gen_pair(Label label) {
  Message m;
  m.label = word(label);
  m.target = pick_cnode_cptr();
  Addr dest = pick_addr(m.target, chance(90) ? Want::kEmpty : Want::kAny);
  uint64_t src_root = pick_cnode_cptr();
  if (chance(2)) {
    src_root = chance(50) ? window_full_.empty() ? 0 : window_full_[rnd(window_full_.size())]
                          : rng_();
  }
  // Endpoints for the badge rules, and untyped moved into created CNodes (so that destroying a
  // CNode can delete an untyped, even the one being revoked).
  bool copying = label == Label::kCNodeCopy || label == Label::kCNodeMint;
  CapType prefer = copying ? (chance(50) ? CapType::kEndpoint : CapType::kNull)
                           : (chance(20) ? CapType::kUntyped : CapType::kNull);
  Addr src = pick_addr(src_root, chance(93) ? Want::kFull : Want::kAny, prefer, !copying);
  m.args = {dest.index, dest.depth, src_root, src.index, src.depth};
  if (label == Label::kCNodeCopy || label == Label::kCNodeMint) {
    m.args.push_back(pick_rights());
  }
  if (label == Label::kCNodeMint || label == Label::kCNodeMutate) {
    m.args.push_back(pick_data(src_root, src));
  }
  return m;
}

// Messages that are wrong as a whole: a target that does not resolve or is empty, a label the
// capability does not have, random argument words.
Message Runner::gen_invalid() {
  Message m;
  switch (rnd(5)) {
    case 0: {
      static constexpr uint64_t kEmptyBoot[] = {0, 1, 3, 6, 9};
      m.target = !window_empty_.empty() && chance(70) ? window_empty_[rnd(window_empty_.size())]
                                                      : kEmptyBoot[rnd(5)];
      break;
    }
    case 1: m.target = shl(1 + rnd(1000), model_.root_radix() + rnd(8)); break;
    case 2: m.target = chance(50) ? abi::kSlotIrqControl : abi::kSlotIoPortControl; break;
    default:
      m.target = window_full_.empty() ? abi::kSlotInitCNode
                                      : window_full_[rnd(window_full_.size())];
      break;
  }
  static constexpr uint64_t kLabels[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 20, 21, 22};
  m.label = chance(90) ? kLabels[rnd(sizeof kLabels / sizeof kLabels[0])] : rng_();
  m.args.resize(rnd(9));
  for (uint64_t& a : m.args) {
    a = chance(50) ? rnd(80) : rng_();
  }
  return m;
}

std::string Runner::describe(const Message& m, const Expect& e) const {
  const abi::InvocationInfo* info = abi::find_invocation(m.label);
  std::string s = info ? info->name : "label " + hex(m.label);
  s += " on " + hex(m.target) + " (";
  for (size_t i = 0; i < m.args.size(); ++i) {
    s += (i ? ", " : "") + hex(m.args[i]);
  }
  s += ") expecting ";
  s += status_name(e.status);
  if (!e.note.empty()) {
    s += " (" + e.note + ")";
  }
  return s;
}

std::string Runner::run(uint64_t ops, bool verbose) {
  std::deque<std::string> history;
  std::map<std::string, uint64_t> stats;
  uint64_t declined_ops = 0;
  std::string failure;
  for (uint64_t step = 0; step < ops && failure.empty();) {
    survey();
    if (verbose && step % 10000 == 0) {
      std::map<std::string, int> types;
      for (uint64_t sl : window_full_) {
        ++types[abi::cap_type_name(model_.cap(model_.root_cap(sl)).cap.type())];
      }
      printf("step %" PRIu64 ": window %zu full;", step, window_full_.size());
      for (const auto& [name, n] : types) {
        printf(" %s %d", name.c_str(), n);
      }
      printf("\n");
    }
    size_t op = choose_op();
    std::string line;
    if (Op(op) == Op::kReply) {
      // A Call would give the receiver a reply capability derived from the caller's master
      // reply capability; there is no IPC here, so make one the same way.
      if (tcbs_.empty() || window_empty_.empty()) {
        continue;
      }
      int tcb = tcbs_[rnd(tcbs_.size())];
      uint64_t slot = window_empty_[rnd(window_empty_.size())];
      bool grant = chance(50);
      PhysAddr base = model_.object(tcb).base;
      Slot* master = &kernel::mem::phys_to<kernel::Tcb>(base)->slots[kernel::kTcbReplySlot];
      kernel::mdb_insert_derived(master, sys_.slot(slot), Cap::reply(base, false, grant));
      model_.add_reply(tcb, slot, grant);
      line = "reply capability to the TCB at " + hex(base) + " placed in root slot " +
             std::to_string(slot);
      ++stats["reply: ok"];
    } else {
      Message m = gen(Op(op));
      Expect e = model_.invoke(m);
      if (e.discard) {
        ++declined_ops;
        ++stats["declined: " + e.note];
        continue;
      }
      line = describe(m, e);
      ++stats[std::string(kOpNames[op]) + ": " + status_name(e.status)];
      failure = send(m, e);
    }
    history.push_back(std::to_string(step) + ": " + line);
    if (history.size() > 12) {
      history.pop_front();
    }
    if (failure.empty()) {
      failure = model_.verify(sys_);
    }
    if (!failure.empty()) {
      std::string report = "mismatch at step " + std::to_string(step) + ": " + failure +
                           "\nlast operations (oldest first):\n";
      for (const std::string& h : history) {
        report += "  " + h + "\n";
      }
      return report;
    }
    ++step;
  }
  if (verbose) {
    for (const auto& [name, n] : stats) {
      printf("  %-40s %" PRIu64 "\n", name.c_str(), n);
    }
    printf("  declined %" PRIu64 "\n", declined_ops);
    for (const auto& [name, n] : model_.events()) {
      printf("  event: %-48s %" PRIu64 "\n", name.c_str(), n);
    }
  }
  return "";
}

std::string Runner::send(const Message& m, const Expect& e) {
  auto r = sys_.invoke(m.target, m.label, m.args);
  if (r.status != e.status) {
    return "status " + std::string(status_name(r.status)) + ", model expected " +
           status_name(e.status);
  }
  if (r.ok() && r.words != e.reply) {
    return "reply differs from the model";
  }
  return "";
}

Status Runner::check(const Message& m) {
  Expect e = model_.invoke(m);
  INFO(describe(m, e));
  REQUIRE_FALSE(e.discard);
  std::string failure = send(m, e);
  if (failure.empty()) {
    failure = model_.verify(sys_);
  }
  if (!failure.empty()) {
    FAIL(failure);
  }
  return e.status;
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = getenv(name);
  return v == nullptr || *v == '\0' ? fallback : strtoull(v, nullptr, 0);
}

}  // namespace

TEST_CASE("random capability operations match the model", "[object][random]") {
  uint64_t seed = env_u64("KEEL_RANDOM_SEED", kDefaultSeed);
  uint64_t ops = env_u64("KEEL_RANDOM_OPS", KEEL_RANDOM_TEST_OPS);
  bool verbose = env_u64("KEEL_RANDOM_VERBOSE", 0) != 0;
  auto start = std::chrono::steady_clock::now();
  Runner runner(seed);
  std::string failure = runner.run(ops, verbose);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (verbose) {
    printf("random test: seed %s, %" PRIu64 " operations, %.2f s\n", hex(seed).c_str(), ops,
           seconds);
  }
  if (!failure.empty()) {
    // Catch wraps messages at 80 columns, which breaks up the operation list: print it whole.
    printf("random test failed with seed %s (KEEL_RANDOM_SEED=%s to reproduce)\n%s",
           hex(seed).c_str(), hex(seed).c_str(), failure.c_str());
    FAIL("seed " << hex(seed) << ", " << failure.substr(0, failure.find('\n')));
  }
}

// --- Scripted cases -----------------------------------------------------------------------------
//
// Rare paths the random test reaches only a few times per run, spelled out through the same
// model and checks.

namespace {

Message msg(uint64_t target, Label label, std::vector<uint64_t> args) {
  return Message{target, word(label), std::move(args)};
}

}  // namespace

// An untyped that lives in a CNode made from it: revoking the untyped deletes the CNode's last
// capability first, which destroys the CNode and the untyped's own slot with it, so the revoke
// stops there (delete.hpp) and the untyped's other children survive under its parent.
TEST_CASE("scripted: a revoke that destroys its own capability's CNode stops",
          "[object][random]") {
  Runner r(kDefaultSeed);
  uint64_t ut = r.boot_untyped()[1];
  uint64_t small = r.window_start();
  uint64_t node = small + 1;
  uint64_t endpoints = small + 2;
  uint64_t root = abi::kSlotInitCNode;
  CHECK(r.check(msg(ut, Label::kUntypedRetype,
                    {uint64_t(ObjectType::kUntyped), 12, root, 0, 0, small, 1})) == Status::kOk);
  CHECK(r.check(msg(small, Label::kUntypedRetype,
                    {uint64_t(ObjectType::kEndpoint), 0, root, 0, 0, endpoints, 3})) ==
        Status::kOk);
  // Made last, the CNode is the untyped's first child.
  CHECK(r.check(msg(small, Label::kUntypedRetype,
                    {uint64_t(ObjectType::kCNode), 2, root, 0, 0, node, 1})) == Status::kOk);
  // Move the untyped into slot 3 of that CNode, then revoke it there.
  CHECK(r.check(msg(node, Label::kCNodeMove, {3, 2, root, small, 64})) == Status::kOk);
  CHECK(r.check(msg(node, Label::kCNodeRevoke, {3, 2})) == Status::kOk);
  CHECK(r.model().events().count("revoke lost its own capability") == 1);
  CHECK(r.sys().slot(node)->empty());
  for (uint64_t i = 0; i < 3; ++i) {
    CHECK(r.sys().slot(endpoints + i)->cap.type() == CapType::kEndpoint);
  }
  // The endpoints now hold the parent untyped; revoking it reclaims everything.
  CHECK(r.check(msg(root, Label::kCNodeRevoke, {ut, 64})) == Status::kOk);
  CHECK(r.sys().slot(endpoints)->empty());
  auto d = r.sys().invoke(ut, Label::kUntypedDescribe, {});
  REQUIRE(d.ok());
  CHECK(d.words[3] == uint64_t{1} << d.words[1]);
}

// docs/objects.md: "A CNode that holds the only other capability to itself is not destroyed by
// deleting its outside capability; revoking the untyped it came from reclaims it."
TEST_CASE("scripted: a CNode holding the only capability to itself is reclaimed by revoke",
          "[object][random]") {
  Runner r(kDefaultSeed);
  uint64_t ut = r.boot_untyped()[0];
  uint64_t a = r.window_start();
  uint64_t b = a + 1;
  uint64_t ep = a + 2;
  uint64_t root = abi::kSlotInitCNode;
  CHECK(r.check(msg(ut, Label::kUntypedRetype,
                    {uint64_t(ObjectType::kCNode), 1, root, 0, 0, a, 2})) == Status::kOk);
  CHECK(r.check(msg(ut, Label::kUntypedRetype,
                    {uint64_t(ObjectType::kEndpoint), 0, root, 0, 0, ep, 1})) == Status::kOk);
  // A holds a copy of itself and of B; B holds a copy of A and the endpoint: a cycle.
  CHECK(r.check(msg(a, Label::kCNodeCopy, {0, 1, root, a, 64, Rights::kAllBits})) ==
        Status::kOk);
  CHECK(r.check(msg(a, Label::kCNodeCopy, {1, 1, root, b, 64, Rights::kAllBits})) ==
        Status::kOk);
  CHECK(r.check(msg(b, Label::kCNodeCopy, {0, 1, root, a, 64, Rights::kAllBits})) ==
        Status::kOk);
  CHECK(r.check(msg(b, Label::kCNodeMove, {1, 1, root, ep, 64})) == Status::kOk);
  CHECK(r.check(msg(root, Label::kCNodeDelete, {a, 64})) == Status::kOk);
  CHECK(r.check(msg(root, Label::kCNodeDelete, {b, 64})) == Status::kOk);
  auto d = r.sys().invoke(ut, Label::kUntypedDescribe, {});
  REQUIRE(d.ok());
  CHECK(d.words[3] < uint64_t{1} << d.words[1]);  // Still in use: nothing was destroyed.
  CHECK(r.check(msg(root, Label::kCNodeRevoke, {ut, 64})) == Status::kOk);
  d = r.sys().invoke(ut, Label::kUntypedDescribe, {});
  REQUIRE(d.ok());
  CHECK(d.words[3] == uint64_t{1} << d.words[1]);
}

// --- Regressions --------------------------------------------------------------------------------
//
// Minimal reproductions of what the random test found, kept as regression tests.

// Mint with badge 0 from a badged endpoint capability is a plain copy that keeps the badge (a
// badge is set once: a different one is refused).
TEST_CASE("regression: mint with badge 0 from a badged endpoint copies it", "[object][random]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(16);
  uint64_t ep = sys.next_free();
  uint64_t badged = sys.next_free();
  uint64_t again = sys.next_free();
  uint64_t other = sys.next_free();
  REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, ep) == Status::kOk);
  REQUIRE(sys.mint(badged, ep, Rights::kAllBits, 5) == Status::kOk);
  CHECK(sys.mint(again, badged, Rights::kAllBits, 0) == Status::kOk);
  CHECK(sys.slot(again)->cap.badge() == 5);
  CHECK(sys.mint(other, badged, Rights::kAllBits, 6) == Status::kIllegalOperation);
  CHECK(sys.check_invariants() == nullptr);
}

// Destroying an ASID pool takes the ASID from every address space in it, though their PML4
// capabilities still record it. Such an address space must be able to get a new ASID, and its
// capabilities must not be copied while it has none.
TEST_CASE("regression: an address space whose pool was destroyed can get a new ASID",
          "[object][random]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(16);
  uint64_t small = sys.next_free();
  sys.next_free();  // small + 1: the second 4 KiB untyped.
  uint64_t pool = sys.next_free();
  uint64_t pool2 = sys.next_free();
  uint64_t space = sys.next_free();
  uint64_t copy = sys.next_free();
  REQUIRE(sys.retype(ut, ObjectType::kUntyped, abi::kAsidPoolBits, small, 2) == Status::kOk);
  REQUIRE(sys.invoke(abi::kSlotAsidControl, Label::kAsidControlMakePool,
                     {small, abi::kSlotInitCNode, pool, 64})
              .ok());
  REQUIRE(sys.retype(ut, ObjectType::kPml4, 0, space) == Status::kOk);
  REQUIRE(sys.invoke(pool, Label::kAsidPoolAssign, {space}).ok());
  uint64_t asid = sys.slot(space)->cap.pml4_asid();
  REQUIRE(sys.del(pool) == Status::kOk);  // The last pool capability: the pool is destroyed.
  REQUIRE(kernel::asid_lookup(asid) == 0);
  CHECK(sys.copy(copy, space) == Status::kIllegalOperation);
  REQUIRE(sys.invoke(abi::kSlotAsidControl, Label::kAsidControlMakePool,
                     {small + 1, abi::kSlotInitCNode, pool2, 64})
              .ok());
  CHECK(sys.invoke(pool2, Label::kAsidPoolAssign, {space}).status == Status::kOk);
  CHECK(kernel::asid_lookup(sys.slot(space)->cap.pml4_asid()) == sys.slot(space)->cap.object());
  CHECK(sys.invoke(pool2, Label::kAsidPoolAssign, {space}).status == Status::kIllegalOperation);
  CHECK(sys.check_invariants() == nullptr);
}
