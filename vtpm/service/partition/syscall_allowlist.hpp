// The seccomp allowlist of vtpm-service in partition mode on a host: the
// names of every entry of the one table (vtpm/protocol/syscalls.hpp), which
// the VMM's partition dispatcher serves too. The integration test
// (tests/integration/service/seccomp_run.cpp) kills the process on any
// other call.
#pragma once
#include "vtpm/protocol/syscalls.hpp"

namespace mamori::vtpm::partition {

namespace detail {
struct AllowlistNames {
  const char* names[protocol::kEngineSyscallCount];
};
constexpr AllowlistNames allowlist_names() {
  AllowlistNames n{};
  for (size_t i = 0; i < protocol::kEngineSyscallCount; ++i) n.names[i] = protocol::kEngineSyscalls[i].name;
  return n;
}
inline constexpr AllowlistNames kAllowlistNames = allowlist_names();
}  // namespace detail

inline constexpr const auto& kSyscallAllowlist = detail::kAllowlistNames.names;

}  // namespace mamori::vtpm::partition
