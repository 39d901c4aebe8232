// VM-entry checker (SDM Vol. 3C §27.2, §27.3.1): known-good images built by
// vmx/vmcs_setup pass on every CPU; one deliberately broken image per rule
// (at least one per rule group) fails, naming the rule.
#include <catch.hpp>
#include <functional>
#include <string>

#include "fixtures.hpp"
#include "vmx/exit_qualification.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;
using F = VmcsField;

namespace {
std::string describe(const EntryCheckReport& r) {
  std::string s;
  for (int i = 0; i < r.count; ++i) {
    const Violation& v = r.violations[i];
    s += std::string("[") + v.section + "] " + v.rule + " (" + field_name(v.field) + ")\n";
  }
  return s;
}

EntryCheckReport run(const Machine& m, const VmcsImage& v) {
  EntryCheckReport r;
  check_vm_entry(v, m.ctx, r);
  return r;
}

struct Broken {
  const char* what;
  GuestKind guest;
  RuleGroup group;
  const char* expect;  // substring of the rule text
  std::function<void(VmcsImage&, const Machine&)> mutate;
};

void expect_broken(const Machine& m, const Broken& b) {
  INFO(m.set->name << ": " << b.what);
  VmcsImage v = good_image(m, b.guest);
  b.mutate(v, m);
  const EntryCheckReport r = run(m, v);
  INFO(describe(r));
  CHECK_FALSE(r.ok());
  CHECK(r.has(b.group));
  CHECK(r.mentions(b.expect));
  // The rule is reported in its group, with a section of that group.
  bool found = false;
  for (int i = 0; i < r.count; ++i)
    if (std::string(r.violations[i].rule).find(b.expect) != std::string::npos) {
      found = true;
      CHECK(r.violations[i].group == b.group);
    }
  CHECK(found);
}

constexpr uint32_t kUg = 1u << 7;   // secondary: unrestricted guest
constexpr uint32_t kEpt = 1u << 1;  // secondary: enable EPT
}  // namespace

TEST_CASE("known-good guests pass on every CPU") {
  for (const MsrSet* s : kAllSets) {
    const Machine m = machine(*s);
    REQUIRE(m.ctl.ok());
    for (GuestKind k : {GuestKind::long_mode, GuestKind::real_mode, GuestKind::flat_protected, GuestKind::flat_boot_gdt}) {
      INFO(s->name << " guest kind " << static_cast<int>(k));
      const EntryCheckReport r = run(m, good_image(m, k));
      INFO(describe(r));
      CHECK(r.ok());
    }
  }
}

TEST_CASE("the Linux/PVH entry gets the boot GDT's selectors, the Multiboot entry keeps its own") {
  const Machine m = machine(*kAllSets[0]);
  const VmcsImage b = good_image(m, GuestKind::flat_boot_gdt);
  CHECK(b.get(F::guest_cs_selector) == 0x10);
  CHECK(b.get(F::guest_ss_selector) == 0x18);
  CHECK(b.get(F::guest_ds_selector) == 0x18);
  CHECK(b.get(F::guest_tr_selector) == 0x20);
  CHECK(b.get(F::guest_gdtr_base) == 0x500);
  CHECK(b.get(F::guest_gdtr_limit) == 0x27);
  const VmcsImage mb = good_image(m, GuestKind::flat_protected);
  CHECK(mb.get(F::guest_cs_selector) == 0x08);
  CHECK(mb.get(F::guest_ds_selector) == 0x10);
  CHECK(mb.get(F::guest_tr_selector) == 0);
  CHECK(mb.get(F::guest_gdtr_base) == 0);
  CHECK(mb.get(F::guest_gdtr_limit) == 0xFFFF);
}

TEST_CASE("the checker reads only writable fields the VMM can VMREAD") {
  VmcsField list[192];
  const int n = entry_check_fields(list, 192);
  CHECK(n > 140);
  for (int i = 0; i < n; ++i) CHECK_FALSE(field_is_read_only(list[i]));
  // A full good image sets no read-only field either.
  const Machine m = machine(kBochsSkylakeX);
  const VmcsImage v = good_image(m, GuestKind::long_mode);
  size_t all = 0;
  const VmcsField* fields = all_fields(&all);
  for (size_t i = 0; i < all; ++i)
    if (field_is_read_only(fields[i])) CHECK_FALSE(v.has(fields[i]));
}

TEST_CASE("VMCS image stores values at the field's width") {
  VmcsImage v;
  v.set(F::guest_cs_selector, 0x12345);
  CHECK(v.get(F::guest_cs_selector) == 0x2345);
  v.set(F::guest_cs_access_rights, 0x1'0000'C09Bull);
  CHECK(v.get(F::guest_cs_access_rights) == 0xC09B);
  CHECK(v.get(F::guest_rip) == 0);
  CHECK_FALSE(v.has(F::guest_rip));
  v.erase(F::guest_cs_selector);
  CHECK_FALSE(v.has(F::guest_cs_selector));
  CHECK(v.size() == 1);
}

const Broken kBroken[] = {
    // §27.2.1.1 VM-execution controls
    {"pin default1 bit cleared", GuestKind::long_mode, RuleGroup::exec_controls,
     "pin-based controls: a bit the capability MSR reports as must-be-1 is 0",
     [](VmcsImage& v, const Machine&) { v.set(F::pin_based_controls, v.get(F::pin_based_controls) & ~2ull); }},
    {"I/O bitmap A misaligned", GuestKind::long_mode, RuleGroup::exec_controls, "I/O bitmap A address",
     [](VmcsImage& v, const Machine&) { v.set(F::io_bitmap_a, 0x200010); }},
    {"MSR bitmap beyond MAXPHYADDR", GuestKind::long_mode, RuleGroup::exec_controls, "MSR bitmap address",
     [](VmcsImage& v, const Machine&) { v.set(F::msr_bitmap, 1ull << 52); }},
    {"EPTP walk length 2", GuestKind::long_mode, RuleGroup::exec_controls, "EPTP page-walk length",
     [](VmcsImage& v, const Machine&) { v.set(F::ept_pointer, 0x300000 | 6 | (1 << 3)); }},
    {"EPTP memory type WT", GuestKind::long_mode, RuleGroup::exec_controls, "EPTP memory type",
     [](VmcsImage& v, const Machine&) { v.set(F::ept_pointer, make_eptp(0x300000, MemoryType::wt, false)); }},
    {"unrestricted guest without EPT", GuestKind::real_mode, RuleGroup::exec_controls,
     "'unrestricted guest' requires 'enable EPT'",
     [](VmcsImage& v, const Machine&) {
       v.set(F::secondary_proc_controls, v.get(F::secondary_proc_controls) & ~uint64_t{kEpt});
     }},
    {"VPID 0", GuestKind::long_mode, RuleGroup::exec_controls, "non-zero VPID",
     [](VmcsImage& v, const Machine&) { v.set(F::vpid, 0); }},
    {"virtual NMIs without NMI exiting", GuestKind::long_mode, RuleGroup::exec_controls,
     "'virtual NMIs' requires 'NMI exiting'",
     [](VmcsImage& v, const Machine&) { v.set(F::pin_based_controls, v.get(F::pin_based_controls) & ~8ull); }},
    {"too many CR3 targets", GuestKind::long_mode, RuleGroup::exec_controls, "CR3-target count",
     [](VmcsImage& v, const Machine&) { v.set(F::cr3_target_count, 5); }},
    {"virtualize x2APIC without TPR shadow", GuestKind::long_mode, RuleGroup::exec_controls,
     "without 'use TPR shadow'",
     [](VmcsImage& v, const Machine&) {
       v.set(F::secondary_proc_controls, v.get(F::secondary_proc_controls) | bit_of(Proc2Ctl::virtualize_x2apic));
     }},
    {"posted interrupts without virtual-interrupt delivery", GuestKind::long_mode, RuleGroup::exec_controls,
     "'process posted interrupts' requires",
     [](VmcsImage& v, const Machine&) {
       v.set(F::pin_based_controls, v.get(F::pin_based_controls) | bit_of(PinCtl::posted_interrupts));
     }},
    {"PML without EPT", GuestKind::long_mode, RuleGroup::exec_controls, "'enable PML' requires 'enable EPT'",
     [](VmcsImage& v, const Machine&) {
       v.set(F::secondary_proc_controls,
             (v.get(F::secondary_proc_controls) | bit_of(Proc2Ctl::enable_pml)) & ~uint64_t{kEpt | kUg});
       v.set(F::pml_address, 0x500000);
     }},
    {"EPTP switching without an aligned EPTP list", GuestKind::long_mode, RuleGroup::exec_controls,
     "EPTP-list address",
     [](VmcsImage& v, const Machine&) {
       v.set(F::secondary_proc_controls, v.get(F::secondary_proc_controls) | bit_of(Proc2Ctl::enable_vmfunc));
       v.set(F::vm_function_controls, 1);
       v.set(F::eptp_list_addr, 0x500800);
     }},
    {"TPR threshold above 15", GuestKind::long_mode, RuleGroup::exec_controls, "TPR threshold bits 31:4",
     [](VmcsImage& v, const Machine&) {
       v.set(F::proc_based_controls, v.get(F::proc_based_controls) | bit_of(ProcCtl::tpr_shadow));
       v.set(F::virtual_apic_addr, 0x501000);
       v.set(F::tpr_threshold, 0x10);
     }},
    // §27.2.1.2 VM-exit controls
    {"save preemption timer without the timer", GuestKind::long_mode, RuleGroup::exit_controls,
     "'save VMX-preemption timer value' requires",
     [](VmcsImage& v, const Machine&) {
       v.set(F::pin_based_controls, v.get(F::pin_based_controls) & ~uint64_t{bit_of(PinCtl::preemption_timer)});
     }},
    {"exit MSR-load area misaligned", GuestKind::long_mode, RuleGroup::exit_controls, "VM-exit MSR-load address",
     [](VmcsImage& v, const Machine&) {
       v.set(F::exit_msr_load_count, 2);
       v.set(F::exit_msr_load_addr, 0x400008);
     }},
    {"exit control must-be-0 bit", GuestKind::long_mode, RuleGroup::exit_controls,
     "VM-exit controls: a must-be-0 bit is 1",
     [](VmcsImage& v, const Machine&) { v.set(F::exit_controls, v.get(F::exit_controls) | (1u << 31)); }},
    // §27.2.1.3 VM-entry controls
    {"#PF injected without error code", GuestKind::long_mode, RuleGroup::entry_controls,
     "must deliver an error code",
     [](VmcsImage& v, const Machine&) {
       v.set(F::entry_interruption_info, InterruptionInfo::make(14, InterruptionInfo::Type::hardware_exception, false).raw);
     }},
    {"#GP with error code into a real-mode guest", GuestKind::real_mode, RuleGroup::entry_controls,
     "deliver-error-code (bit 11) must be 0",
     [](VmcsImage& v, const Machine&) {
       v.set(F::entry_interruption_info, InterruptionInfo::make(13, InterruptionInfo::Type::hardware_exception, true).raw);
     }},
    {"NMI with vector 3", GuestKind::long_mode, RuleGroup::entry_controls, "NMI requires vector 2",
     [](VmcsImage& v, const Machine&) {
       v.set(F::entry_interruption_info, InterruptionInfo::make(3, InterruptionInfo::Type::nmi, false).raw);
     }},
    {"software interrupt of length 16", GuestKind::long_mode, RuleGroup::entry_controls, "entry instruction length",
     [](VmcsImage& v, const Machine&) {
       v.set(F::entry_interruption_info, InterruptionInfo::make(0x80, InterruptionInfo::Type::software_interrupt, false).raw);
       v.set(F::entry_instruction_length, 16);
     }},
    {"entry to SMM outside SMM", GuestKind::long_mode, RuleGroup::entry_controls, "must be 0 outside SMM",
     [](VmcsImage& v, const Machine&) { v.set(F::entry_controls, v.get(F::entry_controls) | (1u << 10)); }},
    // §27.2.2 host control registers and MSRs
    {"host CR4 without VMXE", GuestKind::long_mode, RuleGroup::host_control_regs_msrs, "host CR4 violates",
     [](VmcsImage& v, const Machine&) { v.set(F::host_cr4, 0x620); }},
    {"host CR0 without PG", GuestKind::long_mode, RuleGroup::host_control_regs_msrs, "host CR0 violates",
     [](VmcsImage& v, const Machine&) { v.set(F::host_cr0, 0x50033); }},
    {"host EFER without LMA", GuestKind::long_mode, RuleGroup::host_control_regs_msrs, "LMA and LME",
     [](VmcsImage& v, const Machine&) { v.set(F::host_ia32_efer, 0x901); }},
    {"host PAT with type 2", GuestKind::long_mode, RuleGroup::host_control_regs_msrs, "host IA32_PAT",
     [](VmcsImage& v, const Machine&) { v.set(F::host_ia32_pat, 0x0007040600070402); }},
    {"host SYSENTER_EIP non-canonical", GuestKind::long_mode, RuleGroup::host_control_regs_msrs,
     "host IA32_SYSENTER_EIP must be canonical",
     [](VmcsImage& v, const Machine&) { v.set(F::host_ia32_sysenter_eip, 0x0000800000000000); }},
    // §27.2.3 host segment and descriptor-table registers
    {"host TR selector 0", GuestKind::long_mode, RuleGroup::host_segments, "host TR selector must not be 0",
     [](VmcsImage& v, const Machine&) { v.set(F::host_tr_selector, 0); }},
    {"host CS with RPL 3", GuestKind::long_mode, RuleGroup::host_segments, "RPL (bits 1:0) and TI (bit 2) must be 0",
     [](VmcsImage& v, const Machine&) { v.set(F::host_cs_selector, 0x0B); }},
    {"host GDTR base non-canonical", GuestKind::long_mode, RuleGroup::host_segments, "base must be canonical",
     [](VmcsImage& v, const Machine&) { v.set(F::host_gdtr_base, 0xFFFF7FFF80101000); }},
    // §27.2.4 address-space size
    {"32-bit host exit from a 64-bit VMM", GuestKind::real_mode, RuleGroup::host_address_space,
     "'host address-space size' must be 1",
     [](VmcsImage& v, const Machine&) {
       v.set(F::exit_controls, v.get(F::exit_controls) & ~uint64_t{bit_of(ExitCtl::host_address_space_size)});
     }},
    {"host RIP non-canonical", GuestKind::long_mode, RuleGroup::host_address_space, "canonical host RIP",
     [](VmcsImage& v, const Machine&) { v.set(F::host_rip, 0x8000000000001000); }},
    {"64-bit host without CR4.PAE", GuestKind::long_mode, RuleGroup::host_address_space,
     "64-bit host requires host CR4.PAE",
     [](VmcsImage& v, const Machine&) { v.set(F::host_cr4, 0x2600); }},
    // §27.3.1.1 guest control registers, debug registers, MSRs
    {"real-mode guest without unrestricted guest", GuestKind::real_mode, RuleGroup::guest_control_regs_msrs,
     "PE, NE, PG must be 1",
     [](VmcsImage& v, const Machine&) {
       v.set(F::secondary_proc_controls, v.get(F::secondary_proc_controls) & ~uint64_t{kUg});
     }},
    {"guest CR4 without VMXE", GuestKind::long_mode, RuleGroup::guest_control_regs_msrs, "guest CR4 violates",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_cr4, 0x20); }},
    {"guest CR0.PG without PE", GuestKind::real_mode, RuleGroup::guest_control_regs_msrs,
     "guest CR0.PG = 1 requires CR0.PE = 1",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_cr0, v.get(F::guest_cr0) | (1ull << 31)); }},
    {"IA-32e guest with EFER.LMA = 0", GuestKind::long_mode, RuleGroup::guest_control_regs_msrs,
     "guest IA32_EFER.LMA must equal 'IA-32e mode guest'",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_ia32_efer, 0x100); }},
    {"IA-32e guest without PAE", GuestKind::long_mode, RuleGroup::guest_control_regs_msrs,
     "'IA-32e mode guest' requires guest CR0.PG = 1 and CR4.PAE = 1",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_cr4, v.get(F::guest_cr4) & ~0x20ull); }},
    {"guest PAT with type 3", GuestKind::flat_protected, RuleGroup::guest_control_regs_msrs, "guest IA32_PAT",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_ia32_pat, 0x0307040600070406); }},
    // §27.3.1.2 guest segment registers
    {"64-bit CS with D/B = 1", GuestKind::long_mode, RuleGroup::guest_segments, "L = 1 in IA-32e mode requires D/B = 0",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_cs_access_rights, 0xE09B); }},
    {"TR with a 16-bit TSS in IA-32e mode", GuestKind::long_mode, RuleGroup::guest_segments, "guest TR: type must be 11",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_tr_access_rights, 0x83); }},
    {"SS of type 5", GuestKind::flat_protected, RuleGroup::guest_segments, "guest SS: type must be 3 or 7",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_ss_access_rights, 0xC095); }},
    {"CS limit 4 GiB with G = 0", GuestKind::flat_protected, RuleGroup::guest_segments,
     "guest CS: G flag inconsistent with the limit",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_cs_access_rights, 0x409B); }},
    {"CS of data type without unrestricted guest", GuestKind::long_mode, RuleGroup::guest_segments,
     "guest CS: type must be 9, 11, 13 or 15",
     [](VmcsImage& v, const Machine&) {
       v.set(F::secondary_proc_controls, v.get(F::secondary_proc_controls) & ~uint64_t{kUg});
       v.set(F::guest_cs_access_rights, 0xA093);
     }},
    {"real-mode SS with DPL 3", GuestKind::real_mode, RuleGroup::guest_segments,
     "guest SS: DPL must be 0 in real mode",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_ss_access_rights, 0xF3); }},
    {"DS not accessed", GuestKind::flat_protected, RuleGroup::guest_segments, "accessed bit",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_ds_access_rights, 0xC092); }},
    {"LDTR usable with type 3", GuestKind::flat_protected, RuleGroup::guest_segments, "guest LDTR: type must be 2",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_ldtr_access_rights, 0x83); }},
    {"virtual-8086 segment base wrong", GuestKind::flat_protected, RuleGroup::guest_segments,
     "virtual-8086 guest: segment base",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_rflags, 0x20002); }},
    {"TR selector with TI", GuestKind::long_mode, RuleGroup::guest_segments, "guest TR selector: TI flag",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_tr_selector, 0x2C); }},
    {"FS base non-canonical", GuestKind::long_mode, RuleGroup::guest_segments, "guest FS base must be canonical",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_fs_base, 0x0001000000000000); }},
    // §27.3.1.3 guest descriptor-table registers
    {"GDTR base non-canonical", GuestKind::long_mode, RuleGroup::guest_descriptor_tables, "guest GDTR base",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_gdtr_base, 0x0000800000000000); }},
    {"IDTR limit over 16 bits", GuestKind::real_mode, RuleGroup::guest_descriptor_tables, "guest IDTR limit",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_idtr_limit, 0x10000); }},
    // §27.3.1.4 guest RIP and RFLAGS
    {"RFLAGS bit 1 clear", GuestKind::long_mode, RuleGroup::guest_rip_rflags, "guest RFLAGS: reserved bits",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_rflags, 0); }},
    {"real-mode RIP above 4 GiB", GuestKind::real_mode, RuleGroup::guest_rip_rflags,
     "guest RIP bits 63:32 must be 0",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_rip, 0x100000000); }},
    {"64-bit RIP non-canonical", GuestKind::long_mode, RuleGroup::guest_rip_rflags, "guest RIP must be canonical",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_rip, 0x0000900000000000); }},
    {"RFLAGS.VM in IA-32e mode", GuestKind::long_mode, RuleGroup::guest_rip_rflags, "guest RFLAGS.VM must be 0",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_rflags, 0x20002); }},
    {"external interrupt injected with IF = 0", GuestKind::long_mode, RuleGroup::guest_rip_rflags,
     "RFLAGS.IF must be 1 when injecting",
     [](VmcsImage& v, const Machine&) {
       v.set(F::entry_interruption_info, InterruptionInfo::make(0x20, InterruptionInfo::Type::external_interrupt, false).raw);
     }},
    // §27.3.1.5 guest non-register state
    {"activity state 4", GuestKind::long_mode, RuleGroup::guest_non_register, "guest activity state must be 0-3",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_activity_state, 4); }},
    {"HLT state with SS.DPL 3", GuestKind::long_mode, RuleGroup::guest_non_register,
     "HLT requires SS.DPL = 0",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_activity_state, 1);
       v.set(F::guest_ss_access_rights, 0xC0F3);
       v.set(F::guest_ss_selector, 0x13);
       v.set(F::guest_cs_selector, 0x0B);
       v.set(F::guest_cs_access_rights, 0xA0FB);
     }},
    {"blocking by STI and MOV SS", GuestKind::long_mode, RuleGroup::guest_non_register,
     "blocking by STI and by MOV SS cannot both be 1",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_rflags, 0x202);
       v.set(F::guest_interruptibility_state, 3);
     }},
    {"blocking by STI with IF = 0", GuestKind::long_mode, RuleGroup::guest_non_register,
     "blocking by STI requires RFLAGS.IF = 1",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_interruptibility_state, 1); }},
    {"event into wait-for-SIPI", GuestKind::real_mode, RuleGroup::guest_non_register,
     "no event can be injected into wait-for-SIPI",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_activity_state, 3);
       v.set(F::entry_interruption_info, InterruptionInfo::make(2, InterruptionInfo::Type::nmi, false).raw);
     }},
    {"#GP injected into a halted guest", GuestKind::long_mode, RuleGroup::guest_non_register,
     "in the HLT state only external interrupts",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_activity_state, 1);
       v.set(F::entry_interruption_info, InterruptionInfo::make(13, InterruptionInfo::Type::hardware_exception, true).raw);
     }},
    {"NMI injected while blocked by STI", GuestKind::long_mode, RuleGroup::guest_non_register,
     "injecting an NMI while blocked by STI",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_rflags, 0x202);
       v.set(F::guest_interruptibility_state, 1);
       v.set(F::entry_interruption_info, InterruptionInfo::make(2, InterruptionInfo::Type::nmi, false).raw);
     }},
    {"enclave interruption with MOV-SS blocking", GuestKind::long_mode, RuleGroup::guest_non_register,
     "enclave interruption (bit 4) requires no MOV-SS blocking",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_interruptibility_state, 0x12); }},
    {"RTM pending debug without bit 12", GuestKind::long_mode, RuleGroup::guest_non_register,
     "pending debug exceptions RTM (bit 16)",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_pending_debug_exceptions, 1ull << 16); }},
    {"pending debug reserved bit", GuestKind::long_mode, RuleGroup::guest_non_register,
     "guest pending debug exceptions: reserved bits",
     [](VmcsImage& v, const Machine&) { v.set(F::guest_pending_debug_exceptions, 0x10); }},
    {"BS missing with TF while STI-blocked", GuestKind::long_mode, RuleGroup::guest_non_register,
     "pending debug exceptions BS must be 1",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_rflags, 0x302);
       v.set(F::guest_interruptibility_state, 1);
     }},
    {"VMCS link pointer 0", GuestKind::long_mode, RuleGroup::guest_non_register, "VMCS link pointer",
     [](VmcsImage& v, const Machine&) { v.set(F::vmcs_link_pointer, 0); }},
    // §27.3.1.6 guest PDPTEs
    {"PAE guest PDPTE with reserved bit 1", GuestKind::flat_protected, RuleGroup::guest_pdptes, "guest PDPTE",
     [](VmcsImage& v, const Machine&) {
       v.set(F::guest_cr0, v.get(F::guest_cr0) | (1ull << 31));
       v.set(F::guest_cr4, v.get(F::guest_cr4) | 0x20);
       v.set(F::guest_pdpte2, 0x5003);
     }},
};

TEST_CASE("each broken image fails naming its rule, on every CPU") {
  for (const MsrSet* s : kAllSets) {
    const Machine m = machine(*s);
    for (const Broken& b : kBroken) expect_broken(m, b);
  }
}

TEST_CASE("every rule group has at least one broken-image test") {
  bool covered[kRuleGroups] = {};
  for (const Broken& b : kBroken) covered[static_cast<int>(b.group)] = true;
  for (int g = 0; g < kRuleGroups; ++g) {
    INFO(rule_group_name(static_cast<RuleGroup>(g)));
    CHECK(covered[g]);
  }
}

TEST_CASE("CPU-specific rules: EPT A/D and unsupported secondary controls on Ivy Bridge") {
  const Machine ivy = machine(kBochsIvyBridge);
  const Machine sky = machine(kBochsSkylakeX);
  VmcsImage v = good_image(ivy, GuestKind::long_mode);
  v.set(F::ept_pointer, make_eptp(0x300000, MemoryType::wb, true));
  EntryCheckReport r = run(ivy, v);
  CHECK(r.mentions("EPTP bit 6 (accessed/dirty flags) set but not supported"));
  CHECK(run(sky, v).ok());  // Skylake-X has A/D

  v = good_image(ivy, GuestKind::long_mode);
  v.set(F::secondary_proc_controls, v.get(F::secondary_proc_controls) | bit_of(Proc2Ctl::enable_xsaves));
  r = run(ivy, v);
  CHECK(r.mentions("secondary processor-based controls: a bit not supported by this CPU is 1"));
  CHECK(run(sky, v).ok());

  // Zero-length software interrupt injection: only with IA32_VMX_MISC[30].
  v = good_image(ivy, GuestKind::long_mode);
  v.set(F::entry_interruption_info,
        InterruptionInfo::make(3, InterruptionInfo::Type::software_exception, false).raw);
  v.set(F::entry_instruction_length, 0);
  CHECK(run(ivy, v).mentions("entry instruction length"));
  CHECK(run(sky, v).ok());
}

TEST_CASE("a report lists several failures at once") {
  const Machine m = machine(kBochsSkylakeX);
  VmcsImage v = good_image(m, GuestKind::long_mode);
  v.set(F::host_tr_selector, 0);
  v.set(F::guest_rflags, 0);
  v.set(F::vmcs_link_pointer, 0);
  const EntryCheckReport r = run(m, v);
  CHECK(r.count == 3);
  CHECK(r.has(RuleGroup::host_segments));
  CHECK(r.has(RuleGroup::guest_rip_rflags));
  CHECK(r.has(RuleGroup::guest_non_register));
  CHECK(std::string(r.violations[0].section) == "27.2.3");
}

TEST_CASE("an empty image fails loudly rather than passing") {
  const Machine m = machine(kBochsSkylakeX);
  const VmcsImage empty{};
  const EntryCheckReport r = run(m, empty);
  CHECK_FALSE(r.ok());
  CHECK(r.has(RuleGroup::exec_controls));
  CHECK(r.has(RuleGroup::host_segments));
  CHECK(r.has(RuleGroup::guest_segments));
}

#include <random>

#include "consistency.hpp"

TEST_CASE("property: on random realistic CPUs that pass readiness, mamori's VMCS passes the checker") {
  std::mt19937_64 rng(0x6d616d6f7269ull);
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    // Start from a real set and flip random capability bits.
    RawVmxMsrs raw = raw_from(*kAllSets[iter % kSetCount]);
    uint64_t* words[] = {&raw.basic, &raw.pinbased, &raw.procbased, &raw.exit, &raw.entry,
                         &raw.misc, &raw.procbased2, &raw.ept_vpid_cap, &raw.true_pinbased,
                         &raw.true_procbased, &raw.true_exit, &raw.true_entry, &raw.vmfunc};
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < flips; ++i) *words[rng() % 13] ^= 1ull << (rng() % 64);
    make_realistic(raw);
    const std::string failure = setup_consistency_failure(raw, 36 + rng() % 17);
    INFO(failure);
    REQUIRE(failure.empty());
    accepted += evaluate_readiness(decode(raw)).ready();
  }
  // The property must not hold vacuously.
  CHECK(accepted > 1000);
}

TEST_CASE("events a halted guest may receive pass") {
  const Machine m = machine(kBochsSkylakeX);
  using T = InterruptionInfo::Type;
  const InterruptionInfo allowed[] = {InterruptionInfo::make(0x20, T::external_interrupt, false),
                                      InterruptionInfo::make(2, T::nmi, false),
                                      InterruptionInfo::make(1, T::hardware_exception, false),
                                      InterruptionInfo::make(18, T::hardware_exception, false)};
  for (const InterruptionInfo& ev : allowed) {
    INFO(ev.raw);
    VmcsImage v = good_image(m, GuestKind::long_mode);
    v.set(F::guest_activity_state, 1);
    v.set(F::guest_rflags, 0x202);
    v.set(F::entry_interruption_info, ev.raw);
    const EntryCheckReport r = run(m, v);
    INFO(describe(r));
    CHECK(r.ok());
  }
  // A valid RTM pending-debug state: bit 16 with bit 12.
  VmcsImage v = good_image(m, GuestKind::long_mode);
  v.set(F::guest_pending_debug_exceptions, (1ull << 16) | (1ull << 12));
  CHECK(run(m, v).ok());
}
