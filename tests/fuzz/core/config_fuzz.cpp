// Fuzz the mamori.cfg parser: any text is accepted or refused with a line
// inside the text; an accepted config keeps the documented invariants.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/core/config.hpp"

using namespace mamori::core;

namespace {
// ctest runs the target without a corpus: inputs starting with 0x01 are
// appended to a valid config, so mutations start from deep parser states.
const char kSeed[] =
    "console = com1\nbaud = 115200\nlog = info\nplatform_tpm = hardware\n"
    "[vm hello]\nmemory = 64M\ncpus = 0,1-2\nimage = hello.elf\nconsole = on\ntpm = off\n";
uint8_t g_buf[1 << 16];
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Config c;
  if (size > 0 && data[0] == 1 && size - 1 + sizeof kSeed < sizeof g_buf) {
    memcpy(g_buf, kSeed, sizeof kSeed - 1);
    memcpy(g_buf + sizeof kSeed - 1, data + 1, size - 1);
    size = sizeof kSeed - 1 + size - 1;
    data = g_buf;
  }
  ConfigResult r = parse_config(reinterpret_cast<const char*>(data), size, c);
  if (describe(r.error) == nullptr) abort();
  size_t lines = 1;
  for (size_t i = 0; i < size; ++i) lines += data[i] == '\n';
  if (r.line > lines) abort();
  if (r.error != ConfigError::None) return 0;
  if (c.vm_count > kConfigMaxVms || c.console_port == 0 || c.baud == 0 || 115200 % c.baud) abort();
  for (size_t i = 0; i < c.vm_count; ++i) {
    const VmConfig& vm = c.vms[i];
    if (vm.memory_bytes < kConfigMemoryUnit || vm.memory_bytes > kConfigMaxMemory ||
        vm.memory_bytes % kConfigMemoryUnit)
      abort();
    if (vm.cpu_mask == 0) abort();
    const size_t nl = strnlen(vm.name, kConfigNameCap), il = strnlen(vm.image, kConfigImageCap);
    if (nl == 0 || nl == kConfigNameCap || il == 0 || il == kConfigImageCap || vm.image[0] == '.') abort();
    for (size_t j = 0; j < il; ++j)
      if (vm.image[j] == '/' || vm.image[j] == '\\') abort();
    for (size_t j = 0; j < i; ++j)
      if (strcmp(vm.name, c.vms[j].name) == 0) abort();
  }
  return 0;
}
