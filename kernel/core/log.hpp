// SPDX-License-Identifier: MIT
//
// Kernel console output. log() prints a line with a level tag when the level is enabled;
// kprint() prints unconditionally and without a tag (used for test output that a harness
// parses, and for panic reports).
#pragma once

#include "config.hpp"

#include <kstd/types.hpp>

namespace kernel {

void set_log_level(LogLevel level);
LogLevel log_level();
bool log_enabled(LogLevel level);

void log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void kprint(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char* s, size_t n);

}  // namespace kernel

#define LOG_ERROR(...) ::kernel::log(::kernel::LogLevel::kError, __VA_ARGS__)
#define LOG_WARN(...) ::kernel::log(::kernel::LogLevel::kWarn, __VA_ARGS__)
#define LOG_INFO(...) ::kernel::log(::kernel::LogLevel::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) ::kernel::log(::kernel::LogLevel::kDebug, __VA_ARGS__)
#define LOG_TRACE(...) ::kernel::log(::kernel::LogLevel::kTrace, __VA_ARGS__)
