#include "drivers/tpm/platform_tpm.hpp"
#include <new>


#include "drivers/timer/tsc.hpp"
#include "drivers/tpm/crb_transport.hpp"
#include "drivers/tpm/tis_transport.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/log.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::drivers::tpm {
namespace {
// The window below 4 GiB is identity-mapped uncached (vmm/mem/
// address_space.cpp), so a physical address is the pointer.
struct PhysMmio final : TpmMmio {
  uint64_t base = 0;
  uint8_t read8(uint64_t off) override { return *reinterpret_cast<volatile uint8_t*>(base + off); }
  uint32_t read32(uint64_t off) override { return *reinterpret_cast<volatile uint32_t*>(base + off); }
  void write8(uint64_t off, uint8_t v) override { *reinterpret_cast<volatile uint8_t*>(base + off) = v; }
  void write32(uint64_t off, uint32_t v) override { *reinterpret_cast<volatile uint32_t*>(base + off) = v; }
};

struct TscClock final : TpmClock {
  uint64_t now_us() override {
    uint64_t per_us = tsc::hz() / 1000000;
    return per_us ? cpu::rdtsc() / per_us : 0;
  }
  void sleep_us(uint32_t us) override { tsc::delay_us(us); }
};

PhysMmio g_mmio;
TscClock g_clock;
TpmLocation g_loc;
bool g_present;
alignas(TisTransport) uint8_t g_tis_storage[sizeof(TisTransport)];
alignas(CrbTransport) uint8_t g_crb_storage[sizeof(CrbTransport)];
alignas(TpmCommands) uint8_t g_cmd_storage[sizeof(TpmCommands)];
TpmTransport* g_transport;
TpmCommands* g_cmds;

// What one query of the TPM found; the boot log and `tpm info` print it.
struct Report {
  const char* failed_step = nullptr;
  TpmStatus status;
  TpmProperties props;
  PcrBanks banks;
  uint8_t random[16] = {};
  uint16_t pcr_alg = 0;
  uint8_t pcr0[kMaxDigestSize] = {};
  size_t pcr0_len = 0;
};
Report g_report;

bool step(Report& r, const char* name, TpmStatus s) {
  if (s.ok()) return true;
  r.failed_step = name;
  r.status = s;
  return false;
}

void query(Report& r) {
  r = Report{};
  TpmError e = g_transport->open();
  if (e != TpmError::None) {
    TpmStatus s;
    s.transport = e;
    step(r, "open", s);
    return;
  }
  if (step(r, "GetCapability(TPM_PROPERTIES)", g_cmds->get_properties(r.props)) &&
      step(r, "GetCapability(PCRS)", g_cmds->get_pcr_banks(r.banks)) &&
      step(r, "GetRandom", g_cmds->get_random(r.random, sizeof r.random))) {
    // PCR 0 of the SHA-256 bank when allocated, else of the first bank.
    r.pcr_alg = r.banks.count ? r.banks.alg[0] : vtpm::migration::tpm2::kAlgSha256;
    for (size_t i = 0; i < r.banks.count; ++i)
      if (r.banks.alg[i] == vtpm::migration::tpm2::kAlgSha256) r.pcr_alg = r.banks.alg[i];
    step(r, "PCR_Read", g_cmds->pcr_read(r.pcr_alg, 0, r.pcr0, sizeof r.pcr0, r.pcr0_len));
  }
  g_transport->close();
}

void hex(char* out, size_t cap, const uint8_t* p, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 3 <= cap; ++i) o += lib::snformat(out + o, cap - o, "%02x", p[i]);
  if (o < cap) out[o] = 0;
}

void banks_text(char* out, size_t cap, const PcrBanks& b) {
  size_t o = 0;
  out[0] = 0;
  for (size_t i = 0; i < b.count && o < cap; ++i)
    o += lib::snformat(out + o, cap - o, "%s%s(%u)", i ? " " : "", alg_name(b.alg[i]), b.pcr_count[i]);
  if (b.count == 0) lib::snformat(out, cap, "none allocated");
}

const char* where() { return g_loc.from_acpi ? "ACPI TPM2 table" : "probe of 0xfed40000"; }
}  // namespace

void platform_tpm_init(bool tpm2_table, uint32_t start_method, uint64_t control_area) {
  g_loc = locate_tpm(tpm2_table, start_method, control_area, probe());
  if (g_loc.kind == TpmKind::None) {
    LOG_WARN("tpm: no platform TPM driver: %s", g_loc.why);
    return;
  }
  g_mmio.base = g_loc.base;
  if (g_loc.kind == TpmKind::Crb) g_transport = new (g_crb_storage) CrbTransport(g_mmio, g_clock, g_loc.base);
  else g_transport = new (g_tis_storage) TisTransport(g_mmio, g_clock);
  g_cmds = new (g_cmd_storage) TpmCommands(*g_transport);
  g_present = true;
  Report& r = g_report;
  query(r);
  if (r.failed_step) {
    LOG_ERROR("tpm: platform TPM (%s at 0x%lx, %s): %s failed: %s (rc 0x%x)", tpm_kind_name(g_loc.kind), g_loc.base,
              where(), r.failed_step, tpm_status_text(r.status), r.status.rc);
    return;
  }
  char banks[96], pcr[2 * kMaxDigestSize + 1];
  banks_text(banks, sizeof banks, r.banks);
  hex(pcr, sizeof pcr, r.pcr0, r.pcr0_len);
  LOG_INFO("tpm: platform TPM: %s at 0x%lx (%s), manufacturer \"%s\", vendor \"%s\", firmware %08x.%08x, banks %s",
           tpm_kind_name(g_loc.kind), g_loc.base, where(), r.props.manufacturer, r.props.vendor, r.props.firmware1,
           r.props.firmware2, banks);
  LOG_INFO("tpm: round trip: GetRandom %u bytes, PCR_Read %s PCR0 %s", static_cast<unsigned>(sizeof r.random),
           alg_name(r.pcr_alg), pcr);
}

bool platform_tpm_present() { return g_present; }

void platform_tpm_print() {
  if (!g_present) {
    console::printf("tpm: no platform TPM driver: %s\n", g_loc.why ? g_loc.why : "not initialised");
    return;
  }
  Report& r = g_report;
  query(r);
  console::printf("interface  %s at 0x%lx (found by the %s), locality 0 %s\n", tpm_kind_name(g_loc.kind), g_loc.base,
                  where(), "left as found");
  if (r.failed_step) {
    console::printf("error      %s failed: %s (rc 0x%x)\n", r.failed_step, tpm_status_text(r.status), r.status.rc);
    return;
  }
  char banks[96], pcr[2 * kMaxDigestSize + 1], rnd[2 * sizeof r.random + 1];
  banks_text(banks, sizeof banks, r.banks);
  hex(pcr, sizeof pcr, r.pcr0, r.pcr0_len);
  hex(rnd, sizeof rnd, r.random, sizeof r.random);
  console::printf("vendor     manufacturer \"%s\", vendor string \"%s\"\n", r.props.manufacturer, r.props.vendor);
  console::printf("firmware   %08x.%08x\n", r.props.firmware1, r.props.firmware2);
  console::printf("banks      %s\n", banks);
  console::printf("random     %s\n", rnd);
  console::printf("pcr0       %s %s\n", alg_name(r.pcr_alg), pcr);
  // The storage key (SRK template, ECC P-256): derived from the owner seed,
  // so its Name is the same every time until the TPM is cleared. Created
  // and flushed again at once; the transport is opened for it alone.
  uint32_t h = 0;
  uint8_t name[kMaxDigestSize + 2];
  size_t name_len = 0;
  TpmStatus st;
  if (TpmError e = g_transport->open(); e != TpmError::None) st.transport = e;
  else {
    st = g_cmds->create_storage_key(false, h, name, sizeof name, name_len);
    if (st.ok()) (void)g_cmds->flush_context(h);
    g_transport->close();
  }
  if (!st.ok()) {
    console::printf("srk        CreatePrimary failed: %s (rc 0x%x)\n", tpm_status_text(st), st.rc);
    return;
  }
  char name_hex[2 * sizeof name + 1];
  hex(name_hex, sizeof name_hex, name, name_len);
  console::printf("srk        ECC P-256 storage key, name %s\n", name_hex);
}

}  // namespace mamori::drivers::tpm
