// Register accesses (each one a VM exit when the page is trapped) per TPM
// command, for Linux-style TIS and CRB drivers, on the mamori models with a
// real libtpms engine. Deterministic counts, not timings.
//
//   bench_tpm_device            prints a Markdown table
//
// Rows:
//   TIS, Linux 6.1 tpm_tis     : every ioread8/iowrite8 of the FIFO is an exit
//   TIS, OVMF Tpm2Tis.c        : byte-wise FIFO and burstCount, locality held
//   CRB, Linux 6.1 tpm_crb     : register accesses + buffer accesses, where
//                                 the buffer page is trapped and each element
//                                 of memcpy_{to,from}io exits, or the VMM
//                                 emulates each REP MOVS in one exit
//   CRB, OVMF Tpm2Ptp.c        : byte-wise buffer, address writes, goIdle
//   CRB, lean (locality held)  : a driver that keeps locality 0 and skips
//                                 cmdReady/goIdle between commands
//   ... buffer page mapped     : CrbConfig::buffer_page_gpa set, the data
//                                 buffer is guest memory without traps
#include <stdio.h>

#include <memory>

#include <string>
#include <vector>

#include "tests/unit/common/libtpms_backend.hpp"
#include "tests/unit/common/linux_crb_driver.hpp"
#include "tests/unit/common/linux_tis_driver.hpp"
#include "tests/unit/common/ovmf_crb_driver.hpp"
#include "tests/unit/common/ovmf_tis_driver.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/crb/crb_device.hpp"
#include "vtpm/tis/tis_device.hpp"

using namespace mamori;
using namespace mamori::test;

namespace {

struct Count {
  size_t registers = 0;     // accesses outside the CRB data buffer (all of them for TIS)
  size_t buffer_elems = 0;  // CRB data buffer accesses, one per MOVS element
  size_t buffer_insns = 0;  // CRB data buffer string instructions
  size_t cmd_len = 0, rsp_len = 0;
};

Count count(const std::vector<MmioRecord>& log, uint64_t string_insns, bool crb) {
  Count c;
  for (const MmioRecord& r : log) {
    if (crb && (r.offset & 0xFFF) >= vtpm::crb::kDataBuffer) {
      ++c.buffer_elems;
    } else {
      ++c.registers;
    }
  }
  c.buffer_insns = string_insns;
  return c;
}

[[noreturn]] void fail(const char* what, const std::string& err) {
  fprintf(stderr, "bench_tpm_device: %s failed: %s\n", what, err.c_str());
  exit(1);
}

void check_ok(const std::vector<uint8_t>& rsp, const char* what) {
  if (response_code(rsp) != vtpm::protocol::kTpmRcSuccess) fail(what, "TPM returned an error");
}

Count tis_linux(const std::vector<uint8_t>& cmd, const char* what) {
  auto& be = LibtpmsBackend::instance();
  vtpm::tis::TisDevice dev(be, nullptr);
  LoggedPort<vtpm::tis::TisDevice> port(dev);
  LinuxTisDriver drv(port, [&] { be.run_pending(); });
  std::vector<uint8_t> rsp;
  std::string err;
  if (!drv.transmit(cmd, rsp, err)) fail(what, err);
  check_ok(rsp, what);
  Count c = count(port.log, 0, false);
  c.cmd_len = cmd.size(), c.rsp_len = rsp.size();
  return c;
}

// OVMF keeps locality 0 between commands: count one command after the
// locality request.
Count tis_ovmf(const std::vector<uint8_t>& cmd, const char* what) {
  auto& be = LibtpmsBackend::instance();
  vtpm::tis::TisDevice dev(be, nullptr);
  LoggedPort<vtpm::tis::TisDevice> port(dev);
  OvmfTisDriver drv(port, [&] { be.run_pending(); });
  std::string err;
  if (!drv.request_use(err)) fail(what, err);
  port.log.clear();
  std::vector<uint8_t> rsp;
  if (!drv.command(cmd, rsp, err)) fail(what, err);
  check_ok(rsp, what);
  Count c = count(port.log, 0, false);
  c.cmd_len = cmd.size(), c.rsp_len = rsp.size();
  return c;
}

// `page_gpa` != 0: the data buffer is a page of its own mapped into the
// guest (CrbConfig::buffer_page_gpa): buffer traffic takes no exit.
constexpr uint64_t kBufferPageGpa = 0x7F000000;

Count crb_linux(const std::vector<uint8_t>& cmd, const char* what, uint64_t page_gpa = 0) {
  auto& be = LibtpmsBackend::instance();
  vtpm::crb::CrbConfig cfg;
  cfg.buffer_page_gpa = page_gpa;
  auto dev_ptr = std::make_unique<vtpm::crb::CrbDevice>(be, nullptr, cfg);
  vtpm::crb::CrbDevice& dev = *dev_ptr;
  LoggedPort<vtpm::crb::CrbDevice> port(dev);
  MemoryPort page(dev.buffer_page(), vtpm::crb::kBufferPageSize);
  LinuxCrbDriver drv(port, [&] { be.run_pending(); });
  if (page_gpa != 0) drv.map_buffer_page(page_gpa, page);
  std::string err;
  if (!drv.probe(vtpm::crb::kCrbBaseGpa, err)) fail(what, err);
  port.log.clear();
  port.string_instructions = 0;
  std::vector<uint8_t> rsp;
  if (!drv.transmit(cmd, rsp, err)) fail(what, err);
  check_ok(rsp, what);
  Count c = count(port.log, port.string_instructions, true);
  c.cmd_len = cmd.size(), c.rsp_len = rsp.size();
  return c;
}

Count crb_ovmf(const std::vector<uint8_t>& cmd, const char* what) {
  auto& be = LibtpmsBackend::instance();
  vtpm::crb::CrbDevice dev(be, nullptr);
  LoggedPort<vtpm::crb::CrbDevice> port(dev);
  OvmfCrbDriver drv(port, [&] { be.run_pending(); }, vtpm::crb::kCrbBaseGpa);
  std::string err;
  if (!drv.request_use(err)) fail(what, err);
  port.log.clear();
  std::vector<uint8_t> rsp;
  if (!drv.command(cmd, rsp, err)) fail(what, err);
  check_ok(rsp, what);
  // MmioWrite8/MmioRead8 per byte: each element is its own instruction.
  Count c = count(port.log, 0, true);
  c.buffer_insns = c.buffer_elems;
  c.cmd_len = cmd.size(), c.rsp_len = rsp.size();
  return c;
}

// Steady state of a driver that keeps the locality and the TPM ready:
// copy the command, START, poll START once, read the response (8 bytes,
// then the rest, as tpm_crb does).
Count crb_lean(const std::vector<uint8_t>& cmd, const char* what, uint64_t page_gpa = 0) {
  using namespace vtpm::crb;
  auto& be = LibtpmsBackend::instance();
  CrbConfig cfg;
  cfg.buffer_page_gpa = page_gpa;
  auto dev_ptr = std::make_unique<CrbDevice>(be, nullptr, cfg);
  CrbDevice& dev = *dev_ptr;
  LoggedPort<CrbDevice> port(dev);
  MemoryPort page(dev.buffer_page(), kBufferPageSize);
  MmioPort& buf = page_gpa != 0 ? static_cast<MmioPort&>(page) : port;
  const uint64_t at = page_gpa != 0 ? 0 : kDataBuffer;
  port.write(kLocCtrl.offset, 4, loc_ctrl::kRequestAccess);  // once, at boot
  port.write(kCtrlReq.offset, 4, ctrl_req::kCmdReady);
  port.log.clear();
  buf.copy_to(at, cmd.data(), cmd.size());
  port.write(kCtrlStart.offset, 4, kStartInvoke);
  int polls = 0;
  while (port.read(kCtrlStart.offset, 4) & kStartInvoke) {
    if (++polls > 1000) fail(what, "START never cleared");
    be.run_pending();
  }
  std::vector<uint8_t> rsp(8);
  buf.copy_from(at, rsp.data(), 8);
  const uint32_t n = vtpm::protocol::header_size_field(rsp.data());
  if (n < vtpm::protocol::kTpmHeaderSize || n > dev.buffer_size()) fail(what, "bad response size");
  rsp.resize(n);
  buf.copy_from(at + 8, rsp.data() + 8, n - 8);
  check_ok(rsp, what);
  Count c = count(port.log, port.string_instructions, true);
  c.cmd_len = cmd.size(), c.rsp_len = rsp.size();
  return c;
}

void row(const char* driver, const char* command, const Count& c, bool crb) {
  if (!crb) {
    printf("| %s | %s | %zu / %zu | %zu | — | **%zu** |\n", driver, command, c.cmd_len, c.rsp_len, c.registers,
           c.registers);
    return;
  }
  printf("| %s | %s | %zu / %zu | %zu | %zu elements in %zu instructions | %zu (one exit per element) / **%zu** (one exit per instruction, REP MOVS emulated whole) |\n",
         driver, command, c.cmd_len, c.rsp_len, c.registers, c.buffer_elems, c.buffer_insns,
         c.registers + c.buffer_elems, c.registers + c.buffer_insns);
}

}  // namespace

int main() {
  const auto get_random = make_get_random(32);
  const auto pcr_extend = make_pcr_extend_sha256(16, 0x5A);
  printf("| driver | command | cmd / rsp bytes | register accesses | data-buffer accesses | VM exits |\n");
  printf("|---|---|---|---|---|---|\n");
  row("TIS, Linux 6.1 tpm_tis", "TPM2_GetRandom(32)", tis_linux(get_random, "TIS GetRandom"), false);
  row("TIS, Linux 6.1 tpm_tis", "TPM2_PCR_Extend (SHA-256)", tis_linux(pcr_extend, "TIS PCR_Extend"), false);
  row("TIS, OVMF Tpm2Tis.c (locality held)", "TPM2_GetRandom(32)", tis_ovmf(get_random, "OVMF GetRandom"), false);
  row("TIS, OVMF Tpm2Tis.c (locality held)", "TPM2_PCR_Extend (SHA-256)", tis_ovmf(pcr_extend, "OVMF PCR_Extend"), false);
  row("CRB, Linux 6.1 tpm_crb", "TPM2_GetRandom(32)", crb_linux(get_random, "CRB GetRandom"), true);
  row("CRB, Linux 6.1 tpm_crb", "TPM2_PCR_Extend (SHA-256)", crb_linux(pcr_extend, "CRB PCR_Extend"), true);
  row("CRB, OVMF Tpm2Ptp.c (locality held)", "TPM2_GetRandom(32)", crb_ovmf(get_random, "OVMF CRB GetRandom"), true);
  row("CRB, OVMF Tpm2Ptp.c (locality held)", "TPM2_PCR_Extend (SHA-256)", crb_ovmf(pcr_extend, "OVMF CRB PCR_Extend"), true);
  row("CRB, lean (locality held)", "TPM2_GetRandom(32)", crb_lean(get_random, "lean GetRandom"), true);
  row("CRB, lean (locality held)", "TPM2_PCR_Extend (SHA-256)", crb_lean(pcr_extend, "lean PCR_Extend"), true);
  row("CRB, Linux 6.1 tpm_crb, buffer page mapped", "TPM2_GetRandom(32)",
      crb_linux(get_random, "CRB page GetRandom", kBufferPageGpa), true);
  row("CRB, Linux 6.1 tpm_crb, buffer page mapped", "TPM2_PCR_Extend (SHA-256)",
      crb_linux(pcr_extend, "CRB page PCR_Extend", kBufferPageGpa), true);
  row("CRB, lean, buffer page mapped", "TPM2_GetRandom(32)", crb_lean(get_random, "lean page GetRandom", kBufferPageGpa),
      true);
  row("CRB, lean, buffer page mapped", "TPM2_PCR_Extend (SHA-256)",
      crb_lean(pcr_extend, "lean page PCR_Extend", kBufferPageGpa), true);
  return 0;
}
