// SPDX-License-Identifier: MIT
//
// Status codes returned by system calls and invocations. A value never changes meaning once
// published; new codes are appended.
#pragma once

#include <stdint.h>

namespace abi {

enum class Status : uint64_t {
  kOk = 0,
  kInvalidArgument = 1,    // An argument is outside its domain (bad enum, bad flag bits).
  kInvalidCapability = 2,  // The capability has the wrong type or lacks a needed right.
  kIllegalOperation = 3,   // The object cannot do this in its current state.
  kRangeError = 4,         // A size or count is too small or too large.
  kAlignmentError = 5,     // An address or size is not aligned as required.
  kFailedLookup = 6,       // A cptr did not resolve (see the more precise codes below).
  kTruncatedMessage = 7,   // The message is shorter than the invocation needs.
  kDeleteFirst = 8,        // The destination slot is occupied.
  kRevokeFirst = 9,        // The object still has derived capabilities or live children.
  kNotEnoughMemory = 10,   // The untyped region has no room left.
  kEmptySlot = 11,         // The cptr resolved to an empty slot.
  kDepthMismatch = 12,     // Resolution ran out of depth or bits did not add up to the depth.
  kGuardMismatch = 13,     // A CNode guard did not match the cptr bits.
  kNoReplyTarget = 14,     // Reply without a caller waiting for it.
  kInvalidMessage = 15,    // The message itself is malformed (too long, bad layout).
  kUnmappedBuffer = 16,    // The IPC buffer is absent or not mapped writable.
  kNotSupported = 17,      // The CPU or build does not provide this feature.
  kTimedOut = 18,          // A non-blocking operation found no partner.
  kDeleted = 19,           // The object went away while the caller was waiting on it.
  kNoSpace = 20,           // A fixed-size table is full.
  kNotFound = 21,          // A name or key does not exist.
  kCorrupt = 22,           // Data failed a consistency or hash check.
  kCancelled = 23,         // The thread was suspended while it waited; nothing was sent.
};

inline constexpr uint64_t kStatusCount = 24;

// Short stable names, used in logs and test output.
constexpr const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kInvalidArgument: return "invalid-argument";
    case Status::kInvalidCapability: return "invalid-capability";
    case Status::kIllegalOperation: return "illegal-operation";
    case Status::kRangeError: return "range-error";
    case Status::kAlignmentError: return "alignment-error";
    case Status::kFailedLookup: return "failed-lookup";
    case Status::kTruncatedMessage: return "truncated-message";
    case Status::kDeleteFirst: return "delete-first";
    case Status::kRevokeFirst: return "revoke-first";
    case Status::kNotEnoughMemory: return "not-enough-memory";
    case Status::kEmptySlot: return "empty-slot";
    case Status::kDepthMismatch: return "depth-mismatch";
    case Status::kGuardMismatch: return "guard-mismatch";
    case Status::kNoReplyTarget: return "no-reply-target";
    case Status::kInvalidMessage: return "invalid-message";
    case Status::kUnmappedBuffer: return "unmapped-buffer";
    case Status::kNotSupported: return "not-supported";
    case Status::kTimedOut: return "timed-out";
    case Status::kDeleted: return "deleted";
    case Status::kNoSpace: return "no-space";
    case Status::kNotFound: return "not-found";
    case Status::kCorrupt: return "corrupt";
    case Status::kCancelled: return "cancelled";
  }
  return "unknown-status";
}

static_assert(sizeof(Status) == 8);

}  // namespace abi
