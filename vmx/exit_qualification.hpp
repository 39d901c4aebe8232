// Typed exit qualifications (Intel SDM Vol. 3C §28.2.1 "Basic VM-Exit
// Information", Tables 28-1..28-7) and the VM-exit instruction-information
// field (§28.2.5, Tables 28-8..28-14). Each is a thin value wrapper over the
// raw field with named accessors: no magic shifts in handlers.
#pragma once
#include <stdint.h>

namespace mamori::vmx {

constexpr uint64_t bits(uint64_t v, unsigned hi, unsigned lo) {
  return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}
constexpr bool bit(uint64_t v, unsigned n) { return (v >> n) & 1; }

// Table 28-3 "Exit Qualification for Control-Register Accesses".
struct CrAccessQualification {
  enum class Access : uint8_t { mov_to_cr = 0, mov_from_cr = 1, clts = 2, lmsw = 3 };
  uint64_t raw;
  constexpr unsigned cr() const { return bits(raw, 3, 0); }             // 0, 3, 4 or 8
  constexpr Access access() const { return static_cast<Access>(bits(raw, 5, 4)); }
  constexpr bool lmsw_memory_operand() const { return bit(raw, 6); }  // LMSW only
  // General-purpose register for MOV CR (0 RAX, 1 RCX, ... 4 RSP, ... 15 R15).
  constexpr unsigned gpr() const { return bits(raw, 11, 8); }
  constexpr uint16_t lmsw_source_data() const { return bits(raw, 31, 16); }
};

// Table 28-5 "Exit Qualification for I/O Instructions".
struct IoQualification {
  uint64_t raw;
  constexpr unsigned size_bytes() const { return bits(raw, 2, 0) + 1; }  // 1, 2 or 4
  constexpr bool in() const { return bit(raw, 3); }                     // 1 = IN, 0 = OUT
  constexpr bool string() const { return bit(raw, 4); }
  constexpr bool rep() const { return bit(raw, 5); }
  constexpr bool immediate_operand() const { return bit(raw, 6); }      // 0 = DX
  constexpr uint16_t port() const { return bits(raw, 31, 16); }
};

// Table 28-7 "Exit Qualification for EPT Violations".
struct EptViolationQualification {
  uint64_t raw;
  constexpr bool read() const { return bit(raw, 0); }
  constexpr bool write() const { return bit(raw, 1); }
  constexpr bool fetch() const { return bit(raw, 2); }
  // What the EPT entries allowed for this guest-physical address.
  constexpr bool was_readable() const { return bit(raw, 3); }
  constexpr bool was_writable() const { return bit(raw, 4); }
  constexpr bool was_executable() const { return bit(raw, 5); }
  constexpr bool was_user_executable() const { return bit(raw, 6); }  // mode-based exec
  constexpr bool linear_address_valid() const { return bit(raw, 7); }
  // Meaningful if linear_address_valid(): 1 = the access was to the translated
  // address, 0 = to a guest paging-structure entry.
  constexpr bool translated_access() const { return bit(raw, 8); }
  // Bits 9-11 only with "advanced VM-exit information" (EPT_VPID_CAP[22]).
  constexpr bool user_mode_linear() const { return bit(raw, 9); }
  constexpr bool rw_page() const { return bit(raw, 10); }
  constexpr bool nx_page() const { return bit(raw, 11); }
  constexpr bool nmi_unblocking_iret() const { return bit(raw, 12); }
  constexpr bool shadow_stack_access() const { return bit(raw, 13); }
};

// Table 28-1 "Exit Qualification for Debug Exceptions" (#DB exits, also the
// pending-debug format).
struct DebugQualification {
  uint64_t raw;
  constexpr unsigned breakpoints() const { return bits(raw, 3, 0); }  // B0-B3
  constexpr bool bd() const { return bit(raw, 13); }   // debug-register access detected
  constexpr bool bs() const { return bit(raw, 14); }   // single step
  constexpr bool rtm() const { return bit(raw, 16); }
};

// Table 28-2 "Exit Qualification for Task Switches".
struct TaskSwitchQualification {
  enum class Source : uint8_t { call = 0, iret = 1, jmp = 2, idt_task_gate = 3 };
  uint64_t raw;
  constexpr uint16_t tss_selector() const { return bits(raw, 15, 0); }
  constexpr Source source() const { return static_cast<Source>(bits(raw, 31, 30)); }
};

// Table 28-6 "Exit Qualification for APIC-Access VM Exits".
struct ApicAccessQualification {
  enum class Access : uint8_t {
    linear_read = 0, linear_write = 1, linear_fetch = 2, linear_event = 3,
    physical_event = 10, physical_fetch_or_access = 15,
  };
  uint64_t raw;
  constexpr unsigned offset() const { return bits(raw, 11, 0); }  // linear accesses only
  constexpr Access access() const { return static_cast<Access>(bits(raw, 15, 12)); }
  constexpr bool asynchronous() const { return bit(raw, 16); }
};

// Table 28-4 "Exit Qualification for MOV DR".
struct MovDrQualification {
  uint64_t raw;
  constexpr unsigned dr() const { return bits(raw, 2, 0); }
  constexpr bool from_dr() const { return bit(raw, 4); }  // 1 = MOV from DR
  constexpr unsigned gpr() const { return bits(raw, 11, 8); }
};

// §28.2.5 VM-exit instruction-information field. Its layout depends on the
// exit reason; one wrapper offers the accessors, and the comment on each says
// for which instructions it is defined.
struct InstructionInfo {
  uint32_t raw;
  // Table 28-8 INS/OUTS (only if IA32_VMX_BASIC[54]): bits 9:7, 17:15.
  // Address size: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit.
  constexpr unsigned address_size() const { return bits(raw, 9, 7); }
  constexpr unsigned segment() const { return bits(raw, 17, 15); }  // 0 ES .. 5 GS
  // Memory-operand instructions (INVEPT/INVVPID/INVPCID Table 28-9, LIDT/LGDT/
  // SIDT/SGDT Table 28-10, LLDT/LTR/SLDT/STR Table 28-11, VMX instructions
  // Table 28-13/14): scaling 1:0, index 21:18 (+invalid 22), base 26:23
  // (+invalid 27).
  constexpr unsigned scaling() const { return bits(raw, 1, 0); }  // x1, x2, x4, x8
  constexpr unsigned index_reg() const { return bits(raw, 21, 18); }
  constexpr bool index_invalid() const { return bit(raw, 22); }
  constexpr unsigned base_reg() const { return bits(raw, 26, 23); }
  constexpr bool base_invalid() const { return bit(raw, 27); }
  // Register operand "reg1" (bits 6:3) of VMREAD/VMWRITE, LLDT/LTR/SLDT/STR,
  // RDRAND/RDSEED (Table 28-12 destination register), and "memory or register"
  // bit 10 (1 = register operand).
  constexpr unsigned reg1() const { return bits(raw, 6, 3); }
  constexpr bool register_operand() const { return bit(raw, 10); }
  // "reg2" bits 31:28: the register operand of INVEPT/INVVPID/INVPCID (the
  // type), VMREAD/VMWRITE (the field encoding).
  constexpr unsigned reg2() const { return bits(raw, 31, 28); }
  // Descriptor-table exits (Tables 28-10/11) bits 29:28: which instruction.
  constexpr unsigned instruction_identity() const { return bits(raw, 29, 28); }
  // RDRAND/RDSEED (Table 28-12) bits 12:11: 0 = 16, 1 = 32, 2 = 64 bit.
  constexpr unsigned operand_size() const { return bits(raw, 12, 11); }
};

// Interruption information: VM-entry (§25.8.3, Table 25-17), VM-exit
// (§25.9.2, Table 25-19) and IDT-vectoring (Table 25-20) share this layout.
struct InterruptionInfo {
  enum class Type : uint8_t {
    external_interrupt = 0,
    reserved = 1,
    nmi = 2,
    hardware_exception = 3,
    software_interrupt = 4,
    privileged_software_exception = 5,
    software_exception = 6,
    other_event = 7,
  };
  uint32_t raw;
  constexpr uint8_t vector() const { return bits(raw, 7, 0); }
  constexpr Type type() const { return static_cast<Type>(bits(raw, 10, 8)); }
  constexpr bool deliver_error_code() const { return bit(raw, 11); }
  constexpr bool nmi_unblocking_iret() const { return bit(raw, 12); }  // exit info only
  constexpr uint32_t reserved_bits() const { return bits(raw, 30, 12); }  // entry: must be 0
  constexpr bool valid() const { return bit(raw, 31); }

  static constexpr InterruptionInfo make(uint8_t vector, Type type, bool error_code) {
    return {vector | (static_cast<uint32_t>(type) << 8) | (error_code ? 1u << 11 : 0u) |
            (1u << 31)};
  }
};

}  // namespace mamori::vmx
