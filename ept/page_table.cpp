// The only translation unit that instantiates the engine, once per entry
// format, so both are compiled for the host and freestanding on every build.
#include "ept/page_table_impl.hpp"

#include "ept/ept.hpp"

namespace mamori::ept {

template class PageTable<EptFormat>;
template class PageTable<HostFormat>;

template <EntryFormat Format>
LeafCounts count_leaves(const PageTable<Format>& table, uint64_t va, uint64_t len) {
  LeafCounts c;
  // Unaligned or out-of-range arguments simply count nothing.
  (void)table.for_each_leaf(va, len, [&c](const Leaf& l) {
    if (l.level < kLevels - 1) ++c.at_level[l.level];
  });
  return c;
}
template LeafCounts count_leaves(const PageTable<EptFormat>&, uint64_t, uint64_t);
template LeafCounts count_leaves(const PageTable<HostFormat>&, uint64_t, uint64_t);

}  // namespace mamori::ept
