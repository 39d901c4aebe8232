// The EPT entry format (SDM Vol. 3C §29.3 "The Extended Page Table
// Mechanism", §29.3.2 for the entry layouts, §29.3.7 memory types,
// Vol. 3C §25.6.11 "Extended-Page-Table Pointer (EPTP)").
//
// The engine (page_table.hpp) is generic over a Format with the static
// members below; this file and host_format.hpp are the only places that
// know where bits live.
#pragma once

#include <stdint.h>

#include "ept/bits.hpp"
#include "ept/types.hpp"

namespace mamori::ept {

struct EptBits {
  // §29.3.2: bits 2:0 are read/write/execute access at every level;
  // an entry with all three clear is not present.
  static constexpr Bit read{0};
  static constexpr Bit write{1};
  static constexpr Bit exec{2};
  // Leaves only: EPT memory type (§29.3.7) and "ignore PAT".
  static constexpr Field memtype{3, 3};
  static constexpr Bit ignore_pat{6};
  // PDPTE/PDE: 1 = this entry maps a 1 GiB / 2 MiB page.
  static constexpr Bit large{7};
  // Set by the processor when EPTP[6] enables them (SDM 3C §29.3,
  // "Accessed and Dirty Flags for EPT").
  static constexpr Bit accessed{8};
  static constexpr Bit dirty{9};   // leaves only
  static constexpr uint64_t rwx_mask = (uint64_t{1} << 0) | (uint64_t{1} << 1) | (uint64_t{1} << 2);
};

struct EptFormat {
  static constexpr const char* kName = "EPT";
  // Guest-physical addresses are plain 48-bit numbers (4-level EPT).
  static constexpr bool kCanonical = false;

  static constexpr bool present(uint64_t e) { return (e & EptBits::rwx_mask) != 0; }

  static constexpr bool is_leaf(uint64_t e, unsigned level) {
    return present(e) && (level == 0 || EptBits::large.in(e));
  }

  // Non-leaf entries grant everything; the leaf decides (an access is
  // allowed only if every level allows it, §29.3.3.2).
  static constexpr uint64_t table_entry(uint64_t phys) {
    return (phys & address_mask(kPageShift)) | EptBits::rwx_mask;
  }
  static constexpr uint64_t table_phys(uint64_t e) { return e & address_mask(kPageShift); }

  static constexpr uint64_t leaf_entry(uint64_t phys, const Attr& a, unsigned level) {
    return (phys & address_mask(level_shift(level))) | EptBits::read.put(has(a.perm, Perm::read)) |
           EptBits::write.put(has(a.perm, Perm::write)) | EptBits::exec.put(has(a.perm, Perm::exec)) |
           EptBits::memtype.put(static_cast<uint64_t>(a.type)) | EptBits::ignore_pat.put(a.ignore_pat) |
           EptBits::large.put(level > 0);
  }
  static constexpr uint64_t leaf_phys(uint64_t e, unsigned level) {
    return e & address_mask(level_shift(level));
  }
  static constexpr Attr leaf_attr(uint64_t e, unsigned /*level*/) {
    Perm p = Perm::none;
    if (EptBits::read.in(e)) p = p | Perm::read;
    if (EptBits::write.in(e)) p = p | Perm::write;
    if (EptBits::exec.in(e)) p = p | Perm::exec;
    return Attr{p, static_cast<MemType>(EptBits::memtype.get(e)), EptBits::ignore_pat.in(e)};
  }
  // Processor-maintained bits a split copies into the children and a merge
  // ORs together, so no dirty page is forgotten.
  static constexpr uint64_t accessed_dirty(uint64_t e) {
    return e & (EptBits::accessed.mask() | EptBits::dirty.mask());
  }

  // Which leaves §29.3.3.1 would call an EPT misconfiguration, plus what
  // the owner's policy forbids.
  static constexpr Status check(const Attr& a, const Options& o) {
    if (any(a.perm & (Perm::user | Perm::global))) return Status::bad_attr;
    if (!any(a.perm)) return Status::bad_attr;   // that is "not present": use unmap
    // "Bit 0 of the entry is clear and bit 1 is set" is a misconfiguration.
    if (has(a.perm, Perm::write) && !has(a.perm, Perm::read)) return Status::bad_attr;
    // Execute-only needs EPT_VPID_CAP bit 0.
    if (has(a.perm, Perm::exec) && !has(a.perm, Perm::read) && !o.exec_only) return Status::bad_attr;
    // Memory types 2, 3 and 7 are reserved.
    if (!is_valid_memtype(static_cast<uint8_t>(a.type))) return Status::bad_attr;
    if (o.enforce_wx && has(a.perm, Perm::write) && has(a.perm, Perm::exec)) return Status::wx_violation;
    return Status::ok;
  }

  static constexpr bool leaf_allowed(unsigned level, const Options& o) {
    return level == 0 || (level == 1 && o.page_2m) || (level == 2 && o.page_1g);
  }
};

// ---- EPTP (SDM 3C §25.6.11) ---------------------------------

struct EptpBits {
  static constexpr Field memtype{0, 3};          // paging-structure memory type: UC or WB
  static constexpr Field walk_length_minus_1{3, 3};
  static constexpr Bit enable_ad{6};             // EPT accessed/dirty flags
};

// EPTP for a 4-level EPT whose PML4 is at `root_phys`. The structures are
// ordinary WB RAM, so WB is the natural walk memory type (needs
// EPT_VPID_CAP bit 14; UC needs bit 8).
constexpr uint64_t make_eptp(uint64_t root_phys, MemType walk_type = MemType::wb, bool enable_ad = false) {
  return (root_phys & address_mask(kPageShift)) | EptpBits::memtype.put(static_cast<uint64_t>(walk_type)) |
         EptpBits::walk_length_minus_1.put(kLevels - 1) | EptpBits::enable_ad.put(enable_ad);
}

// ---- IA32_VMX_EPT_VPID_CAP (MSR 48CH, SDM 3D Appendix A.10) --------------

struct EptVpidCap {
  static constexpr Bit exec_only{0};
  static constexpr Bit walk_length_4{6};
  static constexpr Bit eptp_uc{8};
  static constexpr Bit eptp_wb{14};
  static constexpr Bit page_2m{16};
  static constexpr Bit page_1g{17};
  static constexpr Bit invept{20};
  static constexpr Bit accessed_dirty{21};
  static constexpr Bit invept_single_context{25};
  static constexpr Bit invept_all_context{26};
};

// Engine options for EPT from the capability MSR; the policy bits
// (enforce_wx) and phys_bits are the caller's to add.
constexpr Options ept_options(uint64_t ept_vpid_cap) {
  Options o;
  o.page_2m = EptVpidCap::page_2m.in(ept_vpid_cap);
  o.page_1g = EptVpidCap::page_1g.in(ept_vpid_cap);
  o.exec_only = EptVpidCap::exec_only.in(ept_vpid_cap);
  return o;
}

// ---- INVEPT (SDM 3C ch. 31 "VMX Instruction Reference"; §29.4.3.1) -------

enum class InveptType : uint64_t { single_context = 1, all_context = 2 };

// The 128-bit INVEPT descriptor: EPTP, then 64 reserved (zero) bits.
struct InveptDescriptor {
  uint64_t eptp = 0;
  uint64_t reserved = 0;
};
static_assert(sizeof(InveptDescriptor) == 16);

struct InveptRequest {
  InveptType type = InveptType::all_context;
  InveptDescriptor descriptor{};
  bool supported = false;   // INVEPT itself (cap bit 20) and the chosen type
};

// What to execute after a Result with flush set: single-context (only this
// EPTP's mappings) when the CPU has it, else all-context.
constexpr InveptRequest invept_request(uint64_t eptp, uint64_t ept_vpid_cap) {
  InveptRequest r;
  r.descriptor.eptp = eptp;
  const bool invept = EptVpidCap::invept.in(ept_vpid_cap);
  if (invept && EptVpidCap::invept_single_context.in(ept_vpid_cap)) {
    r.type = InveptType::single_context;
    r.supported = true;
  } else if (invept && EptVpidCap::invept_all_context.in(ept_vpid_cap)) {
    r.type = InveptType::all_context;
    r.supported = true;
  }
  return r;
}

}  // namespace mamori::ept
