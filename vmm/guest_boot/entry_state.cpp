#include "vmm/guest_boot/entry_state.hpp"

#include "vmm/guest_boot/bytes.hpp"

namespace mamori::vmm::guest_boot {
namespace {
// SDM 3A §3.4.5 Figure 3-8: limit 15:0, base 23:0, access 47:40, limit 19:16, flags 55:52, base 31:24.
uint64_t descriptor(uint32_t base, uint32_t limit_raw, uint32_t ar) {
  return (limit_raw & 0xFFFFull) | (static_cast<uint64_t>(base & 0xFFFFFF) << 16) |
         (static_cast<uint64_t>(ar & 0xFF) << 40) | (static_cast<uint64_t>((limit_raw >> 16) & 0xF) << 48) |
         (static_cast<uint64_t>((ar >> 12) & 0xF) << 52) | (static_cast<uint64_t>(base >> 24) << 56);
}
}  // namespace

EntryState flat_protected_mode(uint64_t gdt_gpa) {
  EntryState s{};
  s.eflags = kRflagsFixed;
  s.cr0 = kCr0Pe | kCr0Et;
  s.gdt_base = gdt_gpa;
  s.gdt_limit = kGdtLimit;
  // G=1: the limit field 0xFFFFF in 4 KiB units is 4 GiB - 1 (the VMCS holds the byte limit).
  s.cs = Segment{kBootCs, 0, 0xFFFFFFFF, kCodeAr};
  s.ds = s.es = s.fs = s.gs = s.ss = Segment{kBootDs, 0, 0xFFFFFFFF, kDataAr};
  s.tr = Segment{kBootTr, 0, 0x67, kTssAr};
  s.ldtr = Segment{0, 0, 0, 0x10000};  // unusable (SDM 3C §24.4.1 bit 16)
  return s;
}

void write_boot_gdt(uint8_t out[kGdtEntries * 8]) {
  const uint64_t d[kGdtEntries] = {0, 0, descriptor(0, 0xFFFFF, kCodeAr), descriptor(0, 0xFFFFF, kDataAr),
                                   descriptor(0, 0x67, kTssAr)};
  for (size_t i = 0; i < kGdtEntries; ++i) put64(out + 8 * i, d[i]);
}

}  // namespace mamori::vmm::guest_boot
