// `vm ...`: the guests from the shell (docs/console.md).
#include "vmm/console.hpp"
#include "vmm/shell/commands.hpp"
#include "vmm/shell/shell.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/guest_create.hpp"
#include "vmm/vm/virtual_platform.hpp"
#include "vmm/vm/scheduler.hpp"
#include "vmm/vm/vtpm_attach.hpp"
#include "vmx/exit_reason.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::shell {
namespace {
using lib::copy_str;
using lib::str_eq;
using vm::Guest;
using vm::GuestState;


Guest* named(const char* name) {
  Guest* g = vm::find_guest(name);
  if (!g) console::printf("no guest named '%s' (see 'vm list')\n", name);
  return g;
}

void list() {
  if (vm::guest_count() == 0) {
    console::printf("no guests (add [vm NAME] sections to mamori.cfg, see docs/config.md)\n");
    return;
  }
  console::printf("  %-12s %-8s %-4s %8s %10s %s\n", "name", "state", "cpu", "memory", "exits", "image");
  for (unsigned i = 0; i < vm::kMaxGuests; ++i) {
    const Guest& g = vm::guest_table()[i];
    if (g.state == GuestState::Empty || vm::is_ap(g)) continue;  // a guest's other vCPUs: `vm info`
    uint64_t exits = 0;
    for (unsigned v = 0; v < g.vcpu_count; ++v) exits += vm::guest_table()[g.vcpu_slot[v]].exits;
    console::printf("  %-12s %-8s cpu%-1u %6lu M %10lu %s%s\n", g.name, vm::state_name(g.state), g.cpu, g.ram_bytes >> 20,
                    exits, g.image, g.vcpu_count > 1 ? " (more vCPUs: vm info)" : "");
  }
}

void info(const Guest& g) {
  console::printf("%s: id %u, %s on cpu%u, %u vCPU%s, image %s (%s), entry 0x%lx\n", g.name, g.id,
                  vm::state_name(g.state), g.cpu, g.vcpu_count, g.vcpu_count > 1 ? "s" : "", g.image, g.boot_format,
                  g.entry);
  console::printf("  memory: %lu MiB guest-physical [0, 0x%lx)", g.ram_bytes >> 20, g.low_ram);
  if (g.high_ram) console::printf(" and [0x100000000, 0x%lx)", (uint64_t{1} << 32) + g.high_ram);
  console::printf(" at host 0x%lx; EPT %lu table pages\n", g.ram_phys, g.ept_table_pages);
  uint64_t hz = drivers::tsc::hz() ? drivers::tsc::hz() : 1;
  console::printf("  ran %lu slices, %lu ms in the guest, %lu exits, %lu resets%s\n", g.slices, g.run_tsc * 1000 / hz,
                  g.exits, g.resets, g.halted ? "; sleeping in HLT" : "");
  if (g.stop_reason[0]) console::printf("  stopped: %s\n", g.stop_reason);
  console::printf("  TPM: %s, engine %s\n", !g.tpm ? "none" : g.tpm_crb ? "CRB at 0xfed40000" : "TIS at 0xfed40000",
                  vm::vtpm_engine_status(g));
  vm::platform_info(const_cast<Guest&>(g));
  for (unsigned i = 0; i < g.mmio_count; ++i)
    console::printf("  mmio %s [0x%lx, 0x%lx): %lu accesses\n", g.mmio[i].name, g.mmio[i].gpa,
                    g.mmio[i].gpa + g.mmio[i].size, g.mmio[i].accesses);
  for (unsigned r = 0; r < vm::kExitReasonSlots; ++r)
    if (g.exit_counts[r]) console::printf("    %-22s %lu\n", vmx::exit_reason_name(r), g.exit_counts[r]);
}

void regs(const Guest& g) {
  const arch::Gprs& r = g.regs;
  console::printf("%s (saved at its last exit; RIP/RSP/RFLAGS live in its VMCS)\n", g.name);
  console::printf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", r.rax, r.rbx, r.rcx, r.rdx);
  console::printf("  rsi=%016lx rdi=%016lx rbp=%016lx cr2=%016lx\n", r.rsi, r.rdi, r.rbp, g.cr2);
  console::printf("  r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx\n", r.r8, r.r9, r.r10, r.r11);
  console::printf("  r12=%016lx r13=%016lx r14=%016lx r15=%016lx\n", r.r12, r.r13, r.r14, r.r15);
}
// The VMM's own record of a guest's measured launch (docs/measured-launch.md),
// recomputed from its inputs: not the guest's copy of the log (which the
// guest can overwrite), and the PCRs as the launch left them, before the
// guest's own extends.
class EventPrinter final : public measure::EventSink {
 public:
  bool event(uint32_t pcr, uint32_t type, const measure::Digests& d, const uint8_t* data, size_t len,
             const uint8_t* more, size_t more_len) override {
    const char* name = type == measure::kEvSCrtmVersion          ? "EV_S_CRTM_VERSION"
                       : type == measure::kEvPlatformConfigFlags ? "EV_PLATFORM_CONFIG_FLAGS"
                       : type == measure::kEvSeparator           ? "EV_SEPARATOR"
                                                                 : "EV_IPL";
    console::printf("  %2u  %-24s %s:", pcr, name, measure::hash_name(banks.alg[bank]));
    for (size_t i = 0; i < measure::digest_size(banks.alg[bank]); ++i) console::printf("%02x", d.d[bank][i]);
    console::printf("  ");
    if (type == measure::kEvPlatformConfigFlags) console::printf("(%zu bytes: its [vm] section of mamori.cfg)", len);
    else if (type == measure::kEvSeparator) console::printf("(4 zero bytes)");
    else print_text(data, len, type == measure::kEvSCrtmVersion), print_text(more, more_len, false);
    console::printf("\n");
    return true;
  }
  measure::Banks banks;
  size_t bank = 0;

 private:
  // Printable ASCII of the event data (UCS-2: every other byte), at most 80.
  static void print_text(const uint8_t* p, size_t n, bool ucs2) {
    for (size_t i = 0, shown = 0; p && i < n && shown < 80; i += ucs2 ? 2 : 1, ++shown)
      if (p[i] >= 0x20 && p[i] < 0x7F) console::printf("%c", p[i]);
  }
};

class PcrPrinter final : public measure::EventSink {
 public:
  explicit PcrPrinter(const measure::Banks& b) : pcrs(b) {}
  bool event(uint32_t pcr, uint32_t, const measure::Digests& d, const uint8_t*, size_t, const uint8_t*, size_t) override {
    pcrs.extend(pcr, d);
    return true;
  }
  measure::PcrReplay pcrs;
};

// Only for the banks (the digests come from the cache: nothing is hashed).
class NoSink final : public measure::EventSink {
 public:
  bool event(uint32_t, uint32_t, const measure::Digests&, const uint8_t*, size_t, const uint8_t*, size_t) override {
    return true;
  }
};

bool measured_banks(const Guest& g, measure::Banks& banks) {
  NoSink none;
  if (vm::launch_measurements(g, none, banks)) return true;
  console::printf("%s: its launch was not measured (no TPM engine, or see the log at its start)\n", g.name);
  return false;
}

void eventlog(const Guest& g) {
  static EventPrinter p;  // creation, restarts and the shell run on the BSP only
  p = EventPrinter{};
  if (!measured_banks(g, p.banks)) return;
  // The SHA-256 digest of each event when the TPM has that bank (else its first).
  for (size_t i = 0; i < p.banks.count; ++i)
    if (p.banks.alg[i] == measure::HashAlg::Sha256) p.bank = i;
  console::printf("%s: measured launch, %zu PCR banks (event log at guest-physical 0x%lx)\n", g.name,
                  p.banks.count, g.tpm_log_gpa);
  measure::Banks banks;
  vm::launch_measurements(g, p, banks);
}

void pcrs(const Guest& g) {
  measure::Banks banks;
  if (!measured_banks(g, banks)) return;
  static PcrPrinter p{banks};
  p = PcrPrinter{banks};
  vm::launch_measurements(g, p, banks);
  console::printf("%s: PCRs 0-9 as its measured launch left them (before the guest's own extends)\n", g.name);
  for (size_t b = 0; b < banks.count; ++b) {
    console::printf("  %s:\n", measure::hash_name(banks.alg[b]));
    for (uint32_t pcr = 0; pcr <= measure::kPcrFiles; ++pcr) {
      console::printf("    %-2u: 0x", pcr);
      for (size_t i = 0; i < measure::digest_size(banks.alg[b]); ++i) console::printf("%02X", p.pcrs.value(b, pcr)[i]);
      console::printf("\n");
    }
  }
}
}  // namespace

bool cmd_vm(int argc, const char** argv) {
  if (argc == 2 && str_eq(argv[1], "list")) {
    list();
    return true;
  }
  if (argc != 3) return false;
  const char* sub = argv[1];
  Guest* g = nullptr;
  const char* why = nullptr;
  if (str_eq(sub, "info")) {
    if ((g = named(argv[2]))) info(*g);
  } else if (str_eq(sub, "eventlog")) {
    if ((g = named(argv[2]))) eventlog(*g);
  } else if (str_eq(sub, "pcrs")) {
    if ((g = named(argv[2]))) pcrs(*g);
  } else if (str_eq(sub, "regs")) {
    if ((g = named(argv[2]))) regs(*g);
  } else if (str_eq(sub, "start")) {
    if (vm::request_start(argv[2], &why)) console::printf("%s: starting\n", argv[2]);
    else console::printf("cannot start %s: %s\n", argv[2], why);
  } else if (str_eq(sub, "stop")) {
    if (vm::request_stop(argv[2], &why)) console::printf("%s: stopping\n", argv[2]);
    else console::printf("cannot stop %s: %s\n", argv[2], why);
  } else if (str_eq(sub, "console")) {
    if ((g = named(argv[2]))) {
      console::printf("attached to %s's console; Ctrl-] returns to the shell\n", g->name);
      attach(static_cast<int>(g->id));
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace mamori::shell
