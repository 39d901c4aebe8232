// The only translation unit that instantiates the engine, once per entry
// format, so both are compiled for the host and freestanding on every build.
#include "ept/page_table_impl.hpp"

#include "ept/ept.hpp"

namespace mamori::ept {

template class PageTable<EptFormat>;
template class PageTable<HostFormat>;

}  // namespace mamori::ept
