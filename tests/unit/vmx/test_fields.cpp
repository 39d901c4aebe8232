// VMCS field encodings (App. B), exit reasons (App. C), typed exit
// qualifications (§28.2.1) and instruction information (§28.2.5).
#include <catch.hpp>
#include <cstring>
#include <set>

#include "vmx/exit_qualification.hpp"
#include "vmx/exit_reason.hpp"
#include "vmx/vmcs_field.hpp"

using namespace mamori::vmx;

TEST_CASE("field width and type follow from the encoding (Table 25-21)") {
  CHECK(field_width(VmcsField::guest_cs_selector) == FieldWidth::bits16);
  CHECK(field_type(VmcsField::guest_cs_selector) == FieldType::guest_state);
  CHECK(field_width(VmcsField::ept_pointer) == FieldWidth::bits64);
  CHECK(field_type(VmcsField::ept_pointer) == FieldType::control);
  CHECK(field_width(VmcsField::exit_reason) == FieldWidth::bits32);
  CHECK(field_type(VmcsField::exit_reason) == FieldType::exit_info);
  CHECK(field_is_read_only(VmcsField::exit_qualification));
  CHECK_FALSE(field_is_read_only(VmcsField::guest_rip));
  CHECK(field_width(VmcsField::host_rip) == FieldWidth::natural);
  CHECK(field_type(VmcsField::host_rip) == FieldType::host_state);
  CHECK(field_bits(VmcsField::vpid) == 16);
  CHECK(field_mask(VmcsField::guest_cs_access_rights) == 0xFFFFFFFFull);
  CHECK(field_mask(VmcsField::guest_rflags) == ~0ull);
  // A few encodings straight from App. B.
  CHECK(encoding(VmcsField::vmcs_link_pointer) == 0x2800);
  CHECK(encoding(VmcsField::secondary_proc_controls) == 0x401E);
  CHECK(encoding(VmcsField::guest_interruptibility_state) == 0x4824);
  CHECK(encoding(VmcsField::host_ia32_efer) == 0x2C02);
  CHECK(encoding(VmcsField::guest_physical_address) == 0x2400);
  CHECK(field_index(VmcsField::guest_rflags) == 0x10);
  CHECK(field_is_high_access(encoding(VmcsField::ept_pointer) | 1));
}

TEST_CASE("every field encoding is well formed and unique") {
  size_t n = 0;
  const VmcsField* f = all_fields(&n);
  REQUIRE(n > 150);
  std::set<uint32_t> seen;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t e = encoding(f[i]);
    INFO(field_name(f[i]));
    CHECK((e & 1) == 0);        // "full" access
    CHECK((e & (1u << 12)) == 0);  // reserved bit
    CHECK(e < 0x8000);
    CHECK(seen.insert(e).second);
    CHECK(std::strcmp(field_name(f[i]), "unknown") != 0);
    // Names follow the type: guest_/host_ prefixes match bits 11:10.
    const char* nm = field_name(f[i]);
    if (std::strncmp(nm, "guest_", 6) == 0 && f[i] != VmcsField::guest_physical_address &&
        f[i] != VmcsField::guest_linear_address)
      CHECK(field_type(f[i]) == FieldType::guest_state);
    if (std::strncmp(nm, "host_", 5) == 0) CHECK(field_type(f[i]) == FieldType::host_state);
  }
  CHECK(std::strcmp(field_name(0x681E), "guest_rip") == 0);
  CHECK(std::strcmp(field_name(0x7777), "unknown") == 0);
}

TEST_CASE("VMCS_ENUM highest index covers the fields a CPU supports (App. A.9)") {
  // Bochs skylake_x reports 0x34 → highest index 26 (0x1A).
  const unsigned bochs = (0x34 >> 1) & 0x1FF;
  CHECK(field_within_vmcs_enum(VmcsField::tertiary_proc_controls, bochs));  // index 26
  // Coffee Lake reports 0x2E → 23: the TSC multiplier (index 25) is absent.
  const unsigned coffee = (0x2E >> 1) & 0x1FF;
  CHECK_FALSE(field_within_vmcs_enum(VmcsField::tsc_multiplier, coffee));
  CHECK(field_within_vmcs_enum(VmcsField::guest_rip, coffee));
}

TEST_CASE("exit reasons have names (App. C)") {
  CHECK(static_cast<int>(ExitReason::cpuid) == 10);
  CHECK(static_cast<int>(ExitReason::ept_violation) == 48);
  CHECK(static_cast<int>(ExitReason::xsetbv) == 55);
  CHECK(std::strcmp(exit_reason_name(ExitReason::triple_fault), "triple_fault") == 0);
  CHECK(std::strcmp(exit_reason_name(30), "io_instruction") == 0);
  CHECK(std::strcmp(exit_reason_name(35), "unknown") == 0);  // 35 is not defined
  CHECK(std::strcmp(exit_reason_name(52), "preemption_timer") == 0);
  // Exit-reason field: VM-entry failure, invalid guest state (§27.8).
  const ExitReasonField r{0x80000021};
  CHECK(r.entry_failure());
  CHECK(r.basic() == ExitReason::entry_fail_guest_state);
  CHECK_FALSE(ExitReasonField{0x0000000A}.entry_failure());
}

TEST_CASE("VM-instruction error numbers in words (Table 31-1)") {
  CHECK(std::strcmp(vm_instruction_error_text(7), "VM entry with invalid control field(s)") == 0);
  CHECK(std::strcmp(vm_instruction_error_text(8), "VM entry with invalid host-state field(s)") == 0);
  CHECK(std::strcmp(vm_instruction_error_text(99), "unknown VM-instruction error") == 0);
}

TEST_CASE("CR-access qualification (Table 28-3)") {
  // mov %rax, %cr3
  const CrAccessQualification q1{0x3};
  CHECK(q1.cr() == 3);
  CHECK(q1.access() == CrAccessQualification::Access::mov_to_cr);
  CHECK(q1.gpr() == 0);
  // mov %cr0, %rbx
  const CrAccessQualification q2{0x310};
  CHECK(q2.cr() == 0);
  CHECK(q2.access() == CrAccessQualification::Access::mov_from_cr);
  CHECK(q2.gpr() == 3);
  // lmsw from memory, source 0x0001
  const CrAccessQualification q3{0x10070};
  CHECK(q3.access() == CrAccessQualification::Access::lmsw);
  CHECK(q3.lmsw_memory_operand());
  CHECK(q3.lmsw_source_data() == 1);
  // mov %r12, %cr8
  const CrAccessQualification q4{0xC08};
  CHECK(q4.cr() == 8);
  CHECK(q4.gpr() == 12);
}

TEST_CASE("I/O qualification (Table 28-5)") {
  const IoQualification out80{0x00800040};  // out %al, $0x80
  CHECK(out80.port() == 0x80);
  CHECK(out80.size_bytes() == 1);
  CHECK_FALSE(out80.in());
  CHECK(out80.immediate_operand());
  const IoQualification in3f8{0x03F80009};  // in %dx, %ax  (DX = 0x3F8)
  CHECK(in3f8.port() == 0x3F8);
  CHECK(in3f8.size_bytes() == 2);
  CHECK(in3f8.in());
  CHECK_FALSE(in3f8.string());
  const IoQualification rep_outsb{0x03F80030};
  CHECK(rep_outsb.string());
  CHECK(rep_outsb.rep());
  CHECK(IoQualification{0x0CF8000B}.size_bytes() == 4);  // in %dx, %eax at 0xCF8
}

TEST_CASE("EPT-violation qualification (Table 28-7)") {
  // A guest write to a page mapped read-only, linear address valid,
  // access to the translated address.
  const EptViolationQualification q{0x18A};
  CHECK(q.write());
  CHECK_FALSE(q.read());
  CHECK_FALSE(q.fetch());
  CHECK(q.was_readable());
  CHECK_FALSE(q.was_writable());
  CHECK(q.linear_address_valid());
  CHECK(q.translated_access());
  // Instruction fetch from an unmapped page (MMIO-hole style): nothing allowed.
  const EptViolationQualification f{0x184};
  CHECK(f.fetch());
  CHECK_FALSE((f.was_readable() || f.was_writable() || f.was_executable()));
  CHECK(EptViolationQualification{1u << 12}.nmi_unblocking_iret());
}

TEST_CASE("debug, task-switch, APIC-access and MOV-DR qualifications (Tables 28-1, 28-2, 28-4, 28-6)") {
  const DebugQualification db{(1u << 14) | 0x5};
  CHECK(db.bs());
  CHECK(db.breakpoints() == 5);
  CHECK_FALSE(db.bd());
  // IRET to TSS selector 0x28 (e.g. a guest using hardware task switching).
  const TaskSwitchQualification ts{(1ull << 30) | 0x28};
  CHECK(ts.tss_selector() == 0x28);
  CHECK(ts.source() == TaskSwitchQualification::Source::iret);
  CHECK(TaskSwitchQualification{3ull << 30}.source() == TaskSwitchQualification::Source::idt_task_gate);
  // Linear write to the APIC's EOI register (offset 0xB0).
  const ApicAccessQualification ap{(1u << 12) | 0xB0};
  CHECK(ap.offset() == 0xB0);
  CHECK(ap.access() == ApicAccessQualification::Access::linear_write);
  // mov %rcx, %dr7 : DR 7, to DR, RCX.
  const MovDrQualification dr{0x107};
  CHECK(dr.dr() == 7);
  CHECK_FALSE(dr.from_dr());
  CHECK(dr.gpr() == 1);
  CHECK(MovDrQualification{0x10}.from_dr());
}

TEST_CASE("VM-exit instruction information (§28.2.5)") {
  // VMREAD with register operands: reg1 = RBX (3), reg2 = RBP (5).
  const InstructionInfo vmread{(3u << 3) | (1u << 10) | (5u << 28)};
  CHECK(vmread.reg1() == 3);
  CHECK(vmread.register_operand());
  CHECK(vmread.reg2() == 5);
  // INVEPT [rax + rcx*8], type in rdx: scaling 3, 64-bit addr, DS, index
  // RCX, base RAX, reg2 RDX.
  const uint32_t raw = 3u | (2u << 7) | (3u << 15) | (1u << 18) | (0u << 23) | (2u << 28);
  const InstructionInfo inv{raw};
  CHECK(inv.scaling() == 3);
  CHECK(inv.address_size() == 2);
  CHECK(inv.segment() == 3);
  CHECK(inv.index_reg() == 1);
  CHECK_FALSE(inv.index_invalid());
  CHECK(inv.base_reg() == 0);
  CHECK_FALSE(inv.base_invalid());
  CHECK(inv.reg2() == 2);
  // RDRAND %eax: destination 0, operand size 32 (1).
  CHECK(InstructionInfo{1u << 11}.operand_size() == 1);
}

TEST_CASE("interruption information (Tables 25-17, 25-19)") {
  const auto pf = InterruptionInfo::make(14, InterruptionInfo::Type::hardware_exception, true);
  CHECK(pf.raw == 0x80000B0E);
  CHECK(pf.valid());
  CHECK(pf.vector() == 14);
  CHECK(pf.type() == InterruptionInfo::Type::hardware_exception);
  CHECK(pf.deliver_error_code());
  const InterruptionInfo ext{0x80000020};  // external interrupt, vector 0x20
  CHECK(ext.type() == InterruptionInfo::Type::external_interrupt);
  CHECK_FALSE(ext.deliver_error_code());
  CHECK_FALSE(InterruptionInfo{0x20}.valid());
}
