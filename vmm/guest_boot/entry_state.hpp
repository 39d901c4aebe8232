// The CPU state a 32-bit boot protocol enters a kernel with: protected
// mode, paging off, interrupts off, flat 4 GiB segments from a boot GDT
// the VMM writes into guest memory. Shared by the three formats; they
// differ only in the registers that point at their boot information:
//   Linux boot protocol (Documentation/arch/x86/boot.rst "32-bit Boot
//     Protocol"): GDT with __BOOT_CS = 0x10 (execute/read) and __BOOT_DS =
//     0x18 (read/write), CS = 0x10, DS = ES = SS = 0x18, ESI = boot_params,
//     EBP = EDI = EBX = 0, interrupts off.
//   PVH (xen/include/public/arch-x86/hvm/start_info.h): EBX = hvm_start_info,
//     CR0 = PE (other writable bits clear), CR4 = 0, flat 32-bit CS/DS/ES/SS,
//     TR = a 32-bit TSS with base 0 and limit 0x67, EFLAGS.VM/IF/TF clear.
//   Multiboot 0.6.96 §3.2: EAX = 0x2BADB002, EBX = Multiboot information,
//     flat 32-bit CS and DS/ES/FS/GS/SS, paging off, IF clear.
// One GDT satisfies all three: 0x10 code, 0x18 data, 0x20 TSS.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vmm::guest_boot {

// A segment register as the VMCS holds it (SDM 3C §24.4.1): the access
// rights use the descriptor's bits 40-55 (type, S, DPL, P, AVL, L, D/B, G).
struct Segment {
  uint16_t selector;
  uint32_t base, limit;
  uint32_t access_rights;
};

inline constexpr uint16_t kBootCs = 0x10, kBootDs = 0x18, kBootTr = 0x20;
// SDM 3A §3.4.5: code, execute/read, accessed (0xB), S, P, D=1 (32-bit), G=1.
inline constexpr uint32_t kCodeAr = 0xC09B;
// data, read/write, accessed (0x3), S, P, B=1, G=1.
inline constexpr uint32_t kDataAr = 0xC093;
// SDM 3A §7.2.2: 32-bit TSS, busy (0xB), P; byte granularity. A loaded TR is busy.
inline constexpr uint32_t kTssAr = 0x008B;
inline constexpr size_t kGdtEntries = 5;  // null, unused, code, data, TSS
inline constexpr uint32_t kGdtLimit = kGdtEntries * 8 - 1;

inline constexpr uint32_t kCr0Pe = 1u << 0, kCr0Et = 1u << 4;
inline constexpr uint32_t kRflagsFixed = 1u << 1;  // bit 1 reads as 1; IF, TF, VM clear

struct EntryState {
  uint32_t eip;
  uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp;
  uint32_t eflags;
  uint32_t cr0, cr3, cr4;
  uint64_t efer;
  uint64_t gdt_base;
  uint16_t gdt_limit;
  Segment cs, ds, es, fs, gs, ss, tr, ldtr;
};

// Flat 32-bit protected mode with everything above zero; the caller sets
// eip and the protocol's registers.
EntryState flat_protected_mode(uint64_t gdt_gpa);

// The descriptors of that GDT (8-byte little-endian each) for guest memory.
void write_boot_gdt(uint8_t out[kGdtEntries * 8]);

}  // namespace mamori::vmm::guest_boot
