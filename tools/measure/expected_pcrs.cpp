// mamori-expected-pcrs: what a guest's vTPM must show after its measured
// launch, computed from the boot volume's files alone (the verifier's side
// of docs/measured-launch.md). The same code as the VMM's
// (vmm/measure/launch.hpp expected_launch) on the same inputs: mamori.cfg,
// the guest's [vm NAME] section, its kernel, initrd/modules and command
// lines.
//
//   mamori-expected-pcrs --config mamori.cfg --vm NAME (--dir DIR | --file NAME=PATH ...)
//                        [--banks sha1,sha256,sha384,sha512] [--log OUT]
//
// Prints the PCR values 0-9 of every bank in tpm2_pcrread's YAML layout
// and writes the event log (as binary_bios_measurements shows it) to OUT.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vmm/core/config.hpp"
#include "vmm/guest_boot/layout.hpp"
#include "vmm/measure/launch.hpp"

namespace {
namespace m = mamori::measure;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "mamori-expected-pcrs: %s\n", why.c_str());
  std::exit(1);
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

bool parse_banks(const std::string& list, m::Banks& out) {
  out = m::Banks{};
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    bool found = false;
    for (m::HashAlg a : {m::HashAlg::Sha1, m::HashAlg::Sha256, m::HashAlg::Sha384, m::HashAlg::Sha512})
      if (name == m::hash_name(a) && out.count < m::kMaxBanks) out.alg[out.count++] = a, found = true;
    if (!found) return false;
  }
  return out.count > 0;
}
}  // namespace

int main(int argc, char** argv) {
  std::string config, vm, dir, log_out;
  // libtpms's default allocation, in the order TPM_CAP_PCRS lists them.
  std::string banks_arg = "sha1,sha256,sha384,sha512";
  std::map<std::string, std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--config") config = value();
    else if (a == "--vm") vm = value();
    else if (a == "--dir") dir = value();
    else if (a == "--log") log_out = value();
    else if (a == "--banks") banks_arg = value();
    else if (a == "--file") {
      const std::string v = value();
      const size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) die("--file wants NAME=PATH, not " + v);
      files[v.substr(0, eq)] = v.substr(eq + 1);
    } else die("unknown argument " + a + " (see the comment at the top of tools/measure/expected_pcrs.cpp)");
  }
  if (config.empty() || vm.empty()) die("usage: --config mamori.cfg --vm NAME (--dir DIR | --file NAME=PATH ...) [--banks LIST] [--log OUT]");
  m::Banks banks;
  if (!parse_banks(banks_arg, banks)) die("--banks: a comma-separated list of sha1, sha256, sha384, sha512");

  const std::vector<uint8_t> text = read_file(config);
  static mamori::core::Config cfg;  // large
  const mamori::core::ConfigResult r = mamori::core::parse_config(reinterpret_cast<const char*>(text.data()), text.size(), cfg);
  if (r.error != mamori::core::ConfigError::None)
    die(config + " line " + std::to_string(r.line) + ": " + mamori::core::describe(r.error));
  const mamori::core::VmConfig* vc = nullptr;
  for (size_t i = 0; i < cfg.vm_count; ++i)
    if (vm == cfg.vms[i].name) vc = &cfg.vms[i];
  if (!vc) die("no [vm " + vm + "] in " + config);

  auto path_of = [&](const std::string& name) {
    if (files.count(name)) return files[name];
    if (!dir.empty()) return dir + "/" + name;
    die("no file for " + name + ": give --dir or --file " + name + "=PATH");
  };
  m::LaunchInputs in;
  in.version = MAMORI_VERSION;
  if (!m::config_section(reinterpret_cast<const char*>(text.data()), text.size(), vc->line, in.config_section,
                         in.config_section_len))
    die("the section of vm " + vm + " is not in the text");  // cannot happen for a parsed file
  std::vector<std::vector<uint8_t>> data;
  data.reserve(1 + 1 + mamori::core::kConfigMaxModules);
  data.push_back(read_file(path_of(vc->image)));
  in.kernel = {data.back().data(), data.back().size(), vc->image, vc->cmdline};
  if (vc->initrd[0]) {
    data.push_back(read_file(path_of(vc->initrd)));
    in.modules[in.module_count++] = {data.back().data(), data.back().size(), vc->initrd, nullptr};
  }
  for (size_t i = 0; i < vc->module_count; ++i) {
    data.push_back(read_file(path_of(vc->modules[i].file)));
    in.modules[in.module_count++] = {data.back().data(), data.back().size(), vc->modules[i].file, vc->modules[i].cmdline};
  }

  std::vector<uint8_t> log(mamori::vmm::guest_boot::kTpmLogSize);
  size_t log_bytes = 0;
  m::PcrReplay pcrs(banks);
  if (!m::expected_launch(in, log.data(), log.size(), log_bytes, pcrs))
    die("the events do not fit the guest's log area of " + std::to_string(log.size()) + " bytes");
  if (!log_out.empty()) {
    std::ofstream f(log_out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(log.data()), static_cast<std::streamsize>(log_bytes));
    if (!f) die("cannot write " + log_out);
  }
  for (size_t b = 0; b < banks.count; ++b) {
    std::printf("  %s:\n", m::hash_name(banks.alg[b]));
    for (uint32_t pcr = 0; pcr <= m::kPcrFiles; ++pcr) {
      std::printf("    %-2u: 0x", pcr);
      for (size_t k = 0; k < m::digest_size(banks.alg[b]); ++k) std::printf("%02X", pcrs.value(b, pcr)[k]);
      std::printf("\n");
    }
  }
  return 0;
}
