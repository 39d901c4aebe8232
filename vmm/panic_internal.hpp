// Shared by panic() and the exception handler.
#pragma once
#include "vmm/arch/descriptors.hpp"

namespace mamori::panic_detail {
bool stop_requested();
[[noreturn]] void park_this_cpu();
// frame == nullptr: report the caller's context instead of an exception frame.
[[noreturn]] void report_and_stop(const arch::ExceptionFrame* frame, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
}  // namespace mamori::panic_detail
