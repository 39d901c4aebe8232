#include "log.hpp"
#include <stdarg.h>
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/percpu.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::log {
namespace {
using lib::copy_str;
using lib::str_eq;
Level g_level = Level::Info;

}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

const char* name(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "?";
}

bool parse_level(const char* s, Level& out) {
  for (unsigned i = 0; i <= static_cast<unsigned>(Level::Error); ++i) {
    auto l = static_cast<Level>(i);
    if (str_eq(s, name(l))) { out = l; return true; }
  }
  return false;
}

void write(Level l, const char* fmt, ...) {
  if (l < g_level) return;
  static const char* const tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  char line[512];
  size_t n = lib::snformat(line, sizeof line, "[%12lu] cpu%u %s ", cpu::rdtsc(), this_cpu_index(),
                           tags[static_cast<unsigned>(l)]);
  if (n < sizeof line) {
    va_list ap;
    va_start(ap, fmt);
    struct Ctx { char* b; size_t cap, len; } ctx{line + n, sizeof line - n, 0};
    lib::vformat(lib::Sink{[](void* c, char ch) {
                             auto* x = static_cast<Ctx*>(c);
                             if (x->len + 1 < x->cap) x->b[x->len++] = ch;
                           },
                           &ctx},
                 fmt, ap);
    ctx.b[ctx.len] = 0;
    va_end(ap);
  }
  console::printf("%s\n", line);
}

}  // namespace mamori::log
