// SPDX-License-Identifier: MIT
//
// The layout of log output: lines with the program's name in front, cut into pieces a sink
// takes. No system calls here (host tests run it); log.cpp does the formatting and the sinks.
#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include <sys/log.hpp>

#include <kstd/enforce.hpp>

namespace sys {
namespace {

// Collects bytes and hands them on in pieces of at most kLogPiece bytes.
class Pieces {
 public:
  explicit Pieces(PieceWriter out) : out_(out) {}

  size_t room() const { return kLogPiece - used_; }

  void append(const char* s, size_t n) {
    while (n > 0) {
      size_t take = kstd::min(n, room());
      memcpy(buf_ + used_, s, take);
      used_ += take;
      s += take;
      n -= take;
      if (room() == 0) {
        flush();
      }
    }
  }

  void flush() {
    if (used_ > 0) {
      out_.write(out_.context, buf_, used_);
      used_ = 0;
    }
  }

 private:
  PieceWriter out_;
  char buf_[kLogPiece];
  size_t used_ = 0;
};

}  // namespace

void write_log_lines(const char* name, const char* text, size_t n, PieceWriter out) {
  Pieces pieces(out);
  size_t name_len = name == nullptr ? 0 : strlen(name);
  size_t prefix_len = name_len == 0 ? 0 : name_len + 3;  // "[" name "] "
  size_t start = 0;
  do {
    size_t end = start;
    while (end < n && text[end] != '\n') {
      ++end;
    }
    // A line that fits in a piece is never cut, so each console.write holds whole lines.
    if (prefix_len + (end - start) + 1 > pieces.room()) {
      pieces.flush();
    }
    if (name_len != 0) {
      pieces.append("[", 1);
      pieces.append(name, name_len);
      pieces.append("] ", 2);
    }
    pieces.append(text + start, end - start);
    pieces.append("\n", 1);
    start = end + 1;
  } while (start < n);
  pieces.flush();
}

void write_pieces(const char* text, size_t n, PieceWriter out) {
  Pieces pieces(out);
  pieces.append(text, n);
  pieces.flush();
}

}  // namespace sys
