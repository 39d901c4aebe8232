// The engine instantiated for its two users. Include this, not the parts.
//
//   Ept            a guest's EPT (guest-physical -> host-physical)
//   HostPageTable  the VMM's own IA-32e page tables (linear -> physical)
#pragma once

#include "ept/ept_format.hpp"
#include "ept/frame_allocator.hpp"
#include "ept/host_format.hpp"
#include "ept/page_table.hpp"
#include "ept/types.hpp"

namespace mamori::ept {

extern template class PageTable<EptFormat>;
extern template class PageTable<HostFormat>;

using Ept = PageTable<EptFormat>;
using HostPageTable = PageTable<HostFormat>;

// How many leaves of each size map [va, va+len): for the console's memory
// report and the bench. Instantiated in page_table.cpp for both formats, so
// for_each_leaf() is compiled freestanding too.
struct LeafCounts {
  uint64_t at_level[kLevels - 1] = {};   // 4 KiB, 2 MiB, 1 GiB
};
template <EntryFormat Format>
LeafCounts count_leaves(const PageTable<Format>& table, uint64_t va, uint64_t len);
extern template LeafCounts count_leaves(const PageTable<EptFormat>&, uint64_t, uint64_t);
extern template LeafCounts count_leaves(const PageTable<HostFormat>&, uint64_t, uint64_t);

// The VMCS EPT pointer for `ept` (SDM 3C §25.6.11).
inline uint64_t eptp_of(const Ept& ept, bool enable_ad = false) {
  return make_eptp(ept.root_phys(), MemType::wb, enable_ad);
}

// CR3 for `tables` with PCD = PWT = 0: the PML4 itself is fetched WB
// (SDM 3A §4.5, §4.9.2). Without PCIDs bits 11:0 are otherwise ignored.
inline uint64_t cr3_of(const HostPageTable& tables) { return tables.root_phys(); }

}  // namespace mamori::ept
