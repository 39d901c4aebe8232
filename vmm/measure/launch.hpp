// Measured launch of a guest: what the VMM, as the guest's firmware,
// extends into the guest's vTPM before its first instruction, and the
// event log it leaves (docs/measured-launch.md). One list of events, used
// by the VMM (measure_launch, into the TPM and the guest's log area) and
// by the verifier's tool (tools/measure: the same events, replayed), so
// both agree by construction; the tests check the VMM's result in a real
// TPM against the log with tpm2_eventlog.
//
// Layout (as firmware, GRUB and systemd-stub use PCRs: TCG PC Client PFP
// 1.05 §3.3.4 Table 1; GRUB 2 "Measured Boot"):
//   PCR 0  EV_S_CRTM_VERSION        "mamori VERSION" (UCS-2, NUL-terminated, as EDK2's)
//   PCR 1  EV_PLATFORM_CONFIG_FLAGS the guest's [vm NAME] section of mamori.cfg, as in the file
//   PCR 0-7 EV_SEPARATOR           4 zero bytes (PFP §10.4.4: the end of the pre-OS phase)
//   PCR 4  EV_IPL                   the kernel file (digest of the file; event: its name)
//   PCR 8  EV_IPL                   "kernel_cmdline: " + command line + NUL (digest of the command line alone)
//          EV_IPL                   "module_cmdline: " + each module's command line + NUL, if any
//   PCR 9  EV_IPL                   each initrd/module file (digest of the file; event: its name)
// Pure: no allocation; TPM commands through the caller's TpmBackend.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "vmm/measure/event_log.hpp"
#include "vmm/measure/tpm_commands.hpp"
#include "vtpm/common/tpm_backend.hpp"

namespace mamori::measure {

inline constexpr uint32_t kPcrPlatformCode = 0, kPcrPlatformConfig = 1, kPcrBootLoader = 4, kPcrStrings = 8,
                          kPcrFiles = 9;
inline constexpr size_t kLaunchMaxModules = 16;

struct LaunchFile {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  const char* name = "";     // the file's name below \mamori\ (event data)
  const char* cmdline = nullptr;  // kernel: its command line; module: its string (null/empty: none)
};

// The digests of files measured before, for files that never change once
// loaded (the boot volume's, read once by the loader into VMM memory that
// no guest maps): two guests booting the same kernel, or a restarted
// guest, hash it once. Keyed by address, size and banks.
class FileDigestCache {
 public:
  static constexpr size_t kEntries = 8;
  const Digests* find(const uint8_t* data, uint64_t size, const Banks& banks) const;
  void add(const uint8_t* data, uint64_t size, const Banks& banks, const Digests& d);  // the oldest makes room

 private:
  struct Entry {
    const uint8_t* data;
    uint64_t size;
    Banks banks;
    Digests d;
    bool used;
  };
  Entry e_[kEntries] = {};
  size_t next_ = 0;
};

struct LaunchInputs {
  const char* version = "";   // mamori's version (MAMORI_VERSION)
  const char* config_section = "";
  size_t config_section_len = 0;
  LaunchFile kernel;
  LaunchFile modules[kLaunchMaxModules];  // Linux: the initrd alone; Multiboot: its modules in order
  size_t module_count = 0;
  FileDigestCache* cache = nullptr;  // optional: file digests kept between launches
};

// The [vm NAME] section whose header is on line `header_line` (1-based, as
// core::VmConfig::line): its bytes from the header to the line before the
// next section header (or the end of the text), line ends included. False
// when the text has fewer lines.
bool config_section(const char* text, size_t len, uint32_t header_line, const char*& section, size_t& section_len);

class EventSink {
 public:
  // One event; its data is data[0..len) then more[0..more_len).
  virtual bool event(uint32_t pcr, uint32_t type, const Digests& d, const uint8_t* data, size_t len,
                     const uint8_t* more, size_t more_len) = 0;

 protected:
  ~EventSink() = default;
};

// Computes every event of the layout above for `banks` and hands it to the
// sink, in order. False as soon as the sink refuses one.
bool launch_events(const LaunchInputs& in, const Banks& banks, EventSink& sink);

enum class LaunchError : uint8_t {
  None,
  NoAnswer,        // the backend did not complete a command inside submit()
  Startup,         // TPM2_Startup(CLEAR) answered other than success / TPM_RC_INITIALIZE
  Capability,      // TPM2_GetCapability(TPM_CAP_PCRS) failed
  Banks,           // its banks cannot be measured (BanksStatus in `banks_status`)
  Extend,          // a TPM2_PCR_Extend failed
  LogFull,         // the events do not fit the log area
};
const char* describe(LaunchError e);

struct LaunchResult {
  LaunchError error = LaunchError::None;
  uint32_t rc = 0;             // the failing command's response code
  BanksStatus banks_status = BanksStatus::Ok;
  uint16_t unsupported_alg = 0;
  bool already_started = false;  // Startup answered TPM_RC_INITIALIZE
  Banks banks;
  size_t events = 0;           // extended and logged
  size_t log_bytes = 0;        // of the log area, from its start
};

// What firmware does before it boots: TPM2_Startup(CLEAR) at locality 0,
// the allocated banks from TPM2_GetCapability, then every event extended
// into all of them (TPM2_PCR_Extend) and written to the crypto-agile log in
// log[0..log_cap) (zeroed first). `tpm` must complete each command inside
// submit() (the VMM's engine does). Stops at the first failure.
LaunchResult measure_launch(vtpm::TpmBackend& tpm, const LaunchInputs& in, uint8_t* log, size_t log_cap);

// What a verifier expects from the same inputs, without a TPM: the log
// measure_launch writes (byte for byte, given the same banks) in
// log[0..log_cap) and the PCR values its extends give, in `pcrs`. False
// when the log does not fit.
bool expected_launch(const LaunchInputs& in, uint8_t* log, size_t log_cap, size_t& log_bytes, PcrReplay& pcrs);

}  // namespace mamori::measure
