// What the measured launch reads that it does not control: mamori.cfg text
// (config_section, from the boot volume), the engine's TPM_CAP_PCRS answer
// (parse_pcr_banks) and the sizes of what goes into the log (a small log
// area must end in LogFull, never an overrun: ASan checks).
#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "vmm/measure/launch.hpp"
#include "vmm/measure/tpm_commands.hpp"

using namespace mamori::measure;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t line = data[0] | data[1] << 8;
  const size_t cap = static_cast<size_t>(data[2] | data[3] << 8) % 4096;
  data += 4;
  size -= 4;

  const char* section = nullptr;
  size_t section_len = 0;
  const char* text = reinterpret_cast<const char*>(data);
  if (config_section(text, size, line, section, section_len)) {
    if (section < text || section_len > size || section + section_len > text + size) __builtin_trap();
  }

  Banks banks;
  uint16_t unsupported;
  if (parse_pcr_banks(data, size, banks, unsupported) != BanksStatus::Ok) {
    banks = Banks{};
    banks.alg[banks.count++] = HashAlg::Sha256;
  }
  LaunchInputs in;
  in.config_section = section ? section : "";
  in.config_section_len = section ? section_len : 0;
  in.kernel = {data, size, "kernel", "console=ttyS0"};
  in.modules[0] = {data, size / 2, "initrd", nullptr};
  in.module_count = 1;
  std::vector<uint8_t> log(cap);
  size_t used = 0;
  PcrReplay pcrs(banks);
  expected_launch(in, log.data(), log.size(), used, pcrs);
  if (used > cap) __builtin_trap();
  return 0;
}
