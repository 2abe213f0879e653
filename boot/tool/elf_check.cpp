// SPDX-License-Identifier: MIT
//
// All ELF parsing goes through libelf. Its readers validate offsets against the file size, so the
// code here only ever sees values libelf has already read safely; what is left for us is to do
// the arithmetic on those values without overflowing.
#include "elf_check.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits>
#include <memory>
#include <string_view>
#include <unistd.h>
#include <utility>

namespace keel::tool {
namespace {

using Problems = std::vector<ElfProblem>;

constexpr std::uint64_t kMaxAddress = std::numeric_limits<std::uint64_t>::max();

// Page zero stays unmapped so that a null pointer dereference in user mode always faults.
constexpr std::uint64_t kUserBase = kPageSize;

// PT_INTERP strings longer than this are cut in messages; a real loader path is far shorter.
constexpr std::size_t kMaxInterpShown = 128;

struct ElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string hex(std::uint64_t value) {
  char buf[2 + 16] = {'0', 'x'};
  auto result = std::to_chars(buf + 2, buf + sizeof(buf), value, 16);
  return std::string(buf, result.ptr);
}

std::string dec(std::uint64_t value) {
  return std::to_string(value);
}

std::string libelf_message() {
  const char* msg = elf_errmsg(-1);
  return msg != nullptr ? msg : "unknown libelf error";
}

void add(Problems& out, std::string_view rule, std::string detail) {
  out.push_back(ElfProblem{std::string(rule), std::move(detail)});
}

// Sums that do not fit in 64 bits are how a malicious header would sneak a range past a bounds
// check, so every end address is computed through this.
bool checked_end(std::uint64_t start, std::uint64_t size, std::uint64_t& end) {
  if (size > kMaxAddress - start) {
    return false;
  }
  end = start + size;
  return true;
}

std::uint64_t page_floor(std::uint64_t value) {
  return value & ~(kPageSize - 1);
}

// Saturates instead of wrapping; callers only pass ends that are at most kUserLimit anyway.
std::uint64_t page_ceil(std::uint64_t value) {
  if (value > kMaxAddress - (kPageSize - 1)) {
    return page_floor(kMaxAddress);
  }
  return page_floor(value + kPageSize - 1);
}

std::string range(std::uint64_t begin, std::uint64_t end) {
  return "[" + hex(begin) + ", " + hex(end) + ")";
}

std::string segment(std::size_t index) {
  return "segment " + dec(index);
}

// The raw bytes are only used to explain non-ELF files and to quote PT_INTERP; libelf hands them
// out with their true size, so reads stay in bounds.
std::span<const std::byte> raw_bytes(Elf* elf) {
  std::size_t size = 0;
  const char* data = elf_rawfile(elf, &size);
  if (data == nullptr) {
    return {};
  }
  return {reinterpret_cast<const std::byte*>(data), size};
}

std::string describe_non_elf(Elf_Kind kind, std::span<const std::byte> raw,
                             std::uint64_t file_size) {
  if (file_size == 0) {
    return "file is empty";
  }
  std::string size = dec(file_size) + " bytes";
  if (kind == ELF_K_AR) {
    return "is an ar archive (" + size + "), not an ELF executable";
  }
  const bool magic = raw.size() >= SELFMAG && std::memcmp(raw.data(), ELFMAG, SELFMAG) == 0;
  if (!magic) {
    return "does not start with the ELF magic (" + size + ")";
  }
  if (raw.size() < EI_NIDENT) {
    return "is too short for an ELF identification (" + size + ", need " + dec(EI_NIDENT) + ")";
  }
  return "has the ELF magic but an invalid identification (class " +
         dec(std::to_integer<unsigned>(raw[EI_CLASS])) + ", data " +
         dec(std::to_integer<unsigned>(raw[EI_DATA])) + ", version " +
         dec(std::to_integer<unsigned>(raw[EI_VERSION])) + ")";
}

std::string quote_interp(std::span<const std::byte> raw, const GElf_Phdr& phdr) {
  if (phdr.p_offset >= raw.size()) {
    return "";
  }
  std::size_t limit = std::min<std::uint64_t>(phdr.p_filesz, raw.size() - phdr.p_offset);
  limit = std::min(limit, kMaxInterpShown);
  std::string text;
  for (std::size_t i = 0; i < limit; ++i) {
    const auto c = std::to_integer<unsigned char>(raw[phdr.p_offset + i]);
    if (c == 0) {
      break;
    }
    // Unprintable bytes would garble the build log, so they are shown as '?'.
    text.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return " \"" + text + "\"";
}

// Returns false when the file is not a 64-bit little-endian ELF file, after which no other rule
// can be judged sensibly.
bool check_identity(Elf* elf, std::uint64_t file_size, Problems& out) {
  const Elf_Kind kind = elf_kind(elf);
  if (kind != ELF_K_ELF) {
    add(out, "not-elf", describe_non_elf(kind, raw_bytes(elf), file_size));
    return false;
  }
  const char* ident = elf_getident(elf, nullptr);
  if (ident == nullptr) {
    add(out, "malformed", "cannot read the ELF identification: " + libelf_message());
    return false;
  }
  const auto elf_class = static_cast<unsigned char>(ident[EI_CLASS]);
  if (elf_class != ELFCLASS64) {
    add(out, "elf64",
        "ELF class is " + dec(elf_class) + ", expected ELFCLASS64 (" + dec(ELFCLASS64) + ")");
    return false;
  }
  const auto data = static_cast<unsigned char>(ident[EI_DATA]);
  if (data != ELFDATA2LSB) {
    add(out, "little-endian",
        "ELF data encoding is " + dec(data) + ", expected ELFDATA2LSB (" + dec(ELFDATA2LSB) + ")");
    return false;
  }
  return true;
}

void check_header(const GElf_Ehdr& ehdr, Problems& out) {
  if (ehdr.e_machine != EM_X86_64) {
    add(out, "x86-64",
        "e_machine is " + dec(ehdr.e_machine) + ", expected EM_X86_64 (" + dec(EM_X86_64) + ")");
  }
  if (ehdr.e_type != ET_EXEC) {
    std::string detail =
        "e_type is " + dec(ehdr.e_type) + ", expected ET_EXEC (" + dec(ET_EXEC) + ")";
    if (ehdr.e_type == ET_DYN) {
      detail += ": ET_DYN is a shared object or position-independent executable";
    } else if (ehdr.e_type == ET_REL) {
      detail += ": ET_REL is an object file that was never linked";
    }
    add(out, "executable", std::move(detail));
  }
}

// Reads the program headers, or returns false after reporting why the table is unusable.
//
// elf_getphdrnum() quietly lowers the count to what fits in the file, which would let a table
// with a huge e_phnum or one that runs past the end pass as a shorter valid one. elf64_getphdr()
// checks the table against the header's own numbers instead, so it decides whether the table is
// sound before any entry is looked at.
bool read_phdrs(Elf* elf, const GElf_Ehdr& ehdr, std::uint64_t file_size,
                std::vector<GElf_Phdr>& phdrs, Problems& out) {
  if (ehdr.e_phnum == 0) {
    return true;
  }
  const std::string where = "program header table (e_phoff " + hex(ehdr.e_phoff) + ", e_phnum " +
                            dec(ehdr.e_phnum) + ", file size " + hex(file_size) + ")";
  // libelf always steps through the table in sizeof(Elf64_Phdr) strides, but another reader
  // could honour e_phentsize, so a different value would make the two disagree about the table.
  if (ehdr.e_phentsize != sizeof(Elf64_Phdr)) {
    add(out, "phdr-table",
        where + " has e_phentsize " + dec(ehdr.e_phentsize) + ", expected " +
            dec(sizeof(Elf64_Phdr)));
    return false;
  }
  std::size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0 || elf64_getphdr(elf) == nullptr) {
    add(out, "phdr-table", where + " cannot be read: " + libelf_message());
    return false;
  }
  phdrs.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) {
      add(out, "phdr-table", where + " entry " + dec(i) + " cannot be read: " + libelf_message());
      return false;
    }
    phdrs.push_back(phdr);
  }
  return true;
}

// A PT_LOAD whose address range could be computed; the overlap check needs these.
struct LoadRange {
  std::size_t index;
  std::uint64_t begin;
  std::uint64_t end;
};

bool is_power_of_two(std::uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

// Checks one PT_LOAD. Returns its address range when the range does not wrap.
bool check_load(std::size_t index, const GElf_Phdr& phdr, std::uint64_t file_size,
                LoadRange& range_out, Problems& out) {
  const std::string seg = segment(index);
  const std::string at = seg + " at " + hex(phdr.p_vaddr);

  if (phdr.p_vaddr % kPageSize != 0) {
    add(out, "segment-aligned", at + " is not aligned to the page size " + hex(kPageSize));
  }
  if (phdr.p_offset % kPageSize != phdr.p_vaddr % kPageSize) {
    add(out, "segment-aligned",
        at + " has file offset " + hex(phdr.p_offset) + ", which differs from the address modulo " +
            hex(kPageSize));
  }
  if (!is_power_of_two(phdr.p_align) || phdr.p_align < kPageSize) {
    add(out, "segment-aligned",
        at + " has p_align " + hex(phdr.p_align) +
            ", expected a power of two >= " + hex(kPageSize));
  }
  if (phdr.p_filesz > phdr.p_memsz) {
    add(out, "filesz-le-memsz",
        at + " has p_filesz " + hex(phdr.p_filesz) + " > p_memsz " + hex(phdr.p_memsz));
  }

  std::uint64_t file_end = 0;
  if (!checked_end(phdr.p_offset, phdr.p_filesz, file_end)) {
    add(out, "segment-in-file",
        at + " has file offset " + hex(phdr.p_offset) + " with p_filesz " + hex(phdr.p_filesz) +
            ", which wraps around");
  } else if (file_end > file_size) {
    add(out, "segment-in-file",
        at + " needs file bytes " + range(phdr.p_offset, file_end) + " but the file is only " +
            hex(file_size) + " bytes");
  }

  if ((phdr.p_flags & PF_W) != 0 && (phdr.p_flags & PF_X) != 0) {
    add(out, "w-xor-x", at + " is writable and executable");
  }

  std::uint64_t end = 0;
  if (!checked_end(phdr.p_vaddr, phdr.p_memsz, end)) {
    add(out, "user-half",
        at + " with p_memsz " + hex(phdr.p_memsz) + " wraps around the address space");
    return false;
  }
  if (phdr.p_vaddr < kUserBase) {
    add(out, "user-half",
        seg + " " + range(phdr.p_vaddr, end) + " maps page zero; user mappings start at " +
            hex(kUserBase));
  }
  if (end > kUserLimit) {
    add(out, "user-half",
        seg + " " + range(phdr.p_vaddr, end) + " reaches past the user limit " + hex(kUserLimit));
  }
  range_out = LoadRange{index, phdr.p_vaddr, end};
  return true;
}

// Sorting by start and sweeping keeps this O(n log n) and yields at most one problem per segment,
// so a hostile table with thousands of overlapping entries cannot blow up the report.
void check_overlaps(std::vector<LoadRange> loads, Problems& out) {
  std::erase_if(loads, [](const LoadRange& r) { return r.begin == r.end; });
  for (auto& r : loads) {
    r.begin = page_floor(r.begin);
    r.end = page_ceil(r.end);
  }
  std::sort(loads.begin(), loads.end(), [](const LoadRange& a, const LoadRange& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.index < b.index;
  });
  const LoadRange* reach = nullptr;  // The segment seen so far that reaches highest.
  for (const auto& r : loads) {
    if (reach != nullptr && r.begin < reach->end) {
      const auto& [first, second] =
          reach->index < r.index ? std::pair(*reach, r) : std::pair(r, *reach);
      add(out, "segments-overlap",
          segment(first.index) + " " + range(first.begin, first.end) + " overlaps " +
              segment(second.index) + " " + range(second.begin, second.end) + " (page-rounded)");
    }
    if (reach == nullptr || r.end > reach->end) {
      reach = &r;
    }
  }
}

// Only the file-backed part counts: an entry point in the zero-filled tail would start executing
// zeros.
void check_entry(std::uint64_t entry, const std::vector<GElf_Phdr>& phdrs, Problems& out) {
  std::size_t non_exec = phdrs.size();
  for (std::size_t i = 0; i < phdrs.size(); ++i) {
    const GElf_Phdr& phdr = phdrs[i];
    std::uint64_t end = 0;
    if (phdr.p_type != PT_LOAD || !checked_end(phdr.p_vaddr, phdr.p_filesz, end) ||
        entry < phdr.p_vaddr || entry >= end) {
      continue;
    }
    if ((phdr.p_flags & PF_X) != 0) {
      return;
    }
    non_exec = i;
  }
  std::string detail = "entry point " + hex(entry);
  if (non_exec < phdrs.size()) {
    detail += " lies in " + segment(non_exec) + ", which is not executable";
  } else {
    detail += " is not inside the file-backed part of any executable PT_LOAD segment";
  }
  add(out, "entry-in-text", std::move(detail));
}

Problems check_elf(Elf* elf, std::uint64_t file_size) {
  Problems out;
  if (!check_identity(elf, file_size, out)) {
    return out;
  }
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) {
    add(out, "malformed", "cannot read the ELF header: " + libelf_message());
    return out;
  }
  check_header(ehdr, out);

  std::vector<GElf_Phdr> phdrs;
  if (!read_phdrs(elf, ehdr, file_size, phdrs, out)) {
    return out;
  }

  std::vector<LoadRange> loads;
  std::size_t load_count = 0;
  for (std::size_t i = 0; i < phdrs.size(); ++i) {
    const GElf_Phdr& phdr = phdrs[i];
    switch (phdr.p_type) {
      case PT_INTERP:
        add(out, "static",
            segment(i) + " is PT_INTERP: the binary asks for the dynamic loader" +
                quote_interp(raw_bytes(elf), phdr));
        break;
      case PT_DYNAMIC:
        add(out, "static",
            segment(i) + " at " + hex(phdr.p_vaddr) +
                " is PT_DYNAMIC: the binary is dynamically linked");
        break;
      case PT_LOAD: {
        // An empty segment loads nothing (linkers emit one for an empty output section), so
        // no rule applies to it.
        if (phdr.p_memsz == 0 && phdr.p_filesz == 0) {
          break;
        }
        ++load_count;
        LoadRange r{};
        if (check_load(i, phdr, file_size, r, out)) {
          loads.push_back(r);
        }
        break;
      }
      default:
        break;
    }
  }
  if (load_count > kMaxLoadSegments) {
    add(out, "segment-count",
        dec(load_count) + " loadable segments; the loaders take at most " +
            dec(kMaxLoadSegments));
  }
  if (load_count == 0) {
    add(out, "has-load",
        "none of the " + dec(phdrs.size()) + " program headers is a PT_LOAD segment");
  }
  check_overlaps(std::move(loads), out);
  check_entry(ehdr.e_entry, phdrs, out);
  return out;
}

}  // namespace

// The whole file is read and handed to elf_memory() rather than opened with elf_begin(): libelf's
// descriptor-based reader treats some damage differently (a truncated header reads as "not ELF"
// there but as an invalid ELF file from memory), and a file must get the same verdict as its
// bytes do in memory.
std::vector<ElfProblem> check_user_elf(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return {{"unreadable", std::string("cannot open: ") + std::strerror(errno)}};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return {{"unreadable", std::string("cannot stat: ") + std::strerror(errno)}};
  }
  // A directory or a pipe would otherwise fail later with a less helpful message, or never end.
  if (!S_ISREG(st.st_mode)) {
    return {{"unreadable", "not a regular file"}};
  }
  std::vector<std::byte> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return {{"unreadable", std::string("cannot read: ") + std::strerror(errno)}};
    }
    if (n == 0) {
      // The file shrank after fstat(); check what is actually there.
      bytes.resize(done);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return check_user_elf_image(bytes, path);
}

std::vector<ElfProblem> check_user_elf_image(std::span<const std::byte> image,
                                             [[maybe_unused]] const std::string& name) {
  elf_version(EV_CURRENT);
  // An empty vector may have no storage, and elf_memory() rejects a null pointer as an operand
  // error, while an empty file is plainly "not ELF".
  if (image.empty()) {
    return {{"not-elf", describe_non_elf(ELF_K_NONE, image, 0)}};
  }
  // elf_memory() takes a mutable buffer, and libelf is allowed to write to it, so it gets a
  // private copy rather than a const_cast of the caller's bytes.
  std::vector<char> buffer(image.size());
  std::memcpy(buffer.data(), image.data(), image.size());
  ElfPtr elf(elf_memory(buffer.data(), buffer.size()));
  if (elf == nullptr) {
    return {{"malformed",
             "libelf rejects the " + dec(image.size()) + "-byte file: " + libelf_message()}};
  }
  return check_elf(elf.get(), image.size());
}

std::string format_problem(const std::string& path, const ElfProblem& p) {
  return path + ": " + p.rule + ": " + p.detail;
}

}  // namespace keel::tool
