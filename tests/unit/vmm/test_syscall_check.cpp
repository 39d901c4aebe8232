// The service partition's system-call checks (vmm/partition/syscall_check.hpp)
// and the one table (vtpm/protocol/syscalls.hpp): issue 9 findings 1 and 6
// at the argument level, and the table = dispatcher = seccomp rule.
#include <catch.hpp>

#include <cstring>
#include <set>
#include <string>

#include "vmm/partition/syscall_check.hpp"
#include "vtpm/service/partition/syscall_allowlist.hpp"

using namespace mamori::partition::syscall;
namespace proto = mamori::vtpm::protocol;

namespace {
constexpr uint64_t kAnon = kMapPrivate | kMapAnonymous;
constexpr uint64_t kRw = kProtRead | kProtWrite;
}  // namespace

TEST_CASE("page 0 and everything below 64 KiB is refused", "[syscall]") {
  CHECK(check_mmap(0, 4096, kRw, kAnon | kMapFixed).error == -kEPERM);
  CHECK(check_mmap(0x1000, 4096, kRw, kAnon | kMapFixed).error == -kEPERM);
  CHECK(check_mmap(kMinUserAddress - kPage, 4096, kRw, kAnon | kMapFixed).error == -kEPERM);
  CHECK(check_mmap(kMinUserAddress, 4096, kRw, kAnon | kMapFixed).error == 0);
  Range r;
  CHECK(check_mprotect(0, 4096, kRw, r) == -kENOMEM);
  CHECK(check_mprotect(kMinUserAddress - kPage, 4096, kRw, r) == -kENOMEM);
  CHECK(check_mprotect(kMinUserAddress, 4096, kRw, r) == 0);
  CHECK(check_munmap(0, 4096, r) == -kEINVAL);
  CHECK(check_munmap(kMinUserAddress, 4096, r) == 0);
  CHECK_FALSE(brk_allowed(0x1000, 0, ~0ull));
  CHECK_FALSE(brk_allowed(0, 0, ~0ull));
  CHECK(brk_allowed(0x400000, 0x400000, 0x500000));
  CHECK_FALSE(brk_allowed(0x500001, 0x400000, 0x500000));
}

TEST_CASE("the last user page and the canonical boundary", "[syscall]") {
  Range r;
  CHECK(check_mmap(kUserEnd - kPage, 4096, kRw, kAnon | kMapFixed).error == 0);
  CHECK(check_mmap(kUserEnd, 4096, kRw, kAnon | kMapFixed).error == -kEINVAL);  // the page below the hole
  CHECK(check_mmap(kUserEnd - kPage, 8192, kRw, kAnon | kMapFixed).error == -kEINVAL);
  CHECK(check_mmap(0xFFFFFFFFFFFFF000ull, 4096, kRw, kAnon | kMapFixed).error == -kEINVAL);
  CHECK(check_mprotect(kUserEnd - kPage, ~0ull, kRw, r) == -kEINVAL);  // length overflow
  CHECK(check_mprotect(0xFFFFFFFF80000000ull, 4096, kProtRead, r) == -kEINVAL);  // the VMM's half
  CHECK(check_munmap(0x7FFFFFFFE000ull, 0x3000, r) == -kEINVAL);
  CHECK(fs_base_allowed(kUserEnd - 1));
  CHECK_FALSE(fs_base_allowed(kUserEnd));
  CHECK_FALSE(fs_base_allowed(0xFFFF800000000000ull));
}

TEST_CASE("mmap: anonymous private only, W^X, size bounds, rounding", "[syscall]") {
  CHECK(check_mmap(0, 4096, kRw, kMapPrivate).error == -kEACCES);
  CHECK(check_mmap(0, 4096, kRw, kMapAnonymous).error == -kEACCES);
  CHECK(check_mmap(0, 4096, kProtWrite | kProtExec, kAnon).error == -kEACCES);
  CHECK(check_mmap(0, 0, kRw, kAnon).error == -kEINVAL);
  CHECK(check_mmap(0, kMaxMmapBytes + 1, kRw, kAnon).error == -kEINVAL);
  CHECK(check_mmap(0x10001, 4096, kRw, kAnon | kMapFixed).error == -kEINVAL);
  MmapCheck c = check_mmap(0, 1, kRw, kAnon);
  CHECK(c.error == 0);
  CHECK_FALSE(c.fixed);
  CHECK(c.len == kPage);
  Range r;
  CHECK(check_mprotect(0x20000, 1, kProtWrite | kProtExec, r) == -kEACCES);
  REQUIRE(check_mprotect(0x20000, 1, kProtRead, r) == 0);
  CHECK(r.start == 0x20000);
  CHECK(r.len == kPage);
}

TEST_CASE("ring-3 RFLAGS never carry IOPL, NT, VM; IF always set", "[syscall]") {
  CHECK(user_rflags(0) == 0x202);
  CHECK(user_rflags(~0ull) == (0x1 | 0x2 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x40000 | 0x200000));
  CHECK((user_rflags(0x3000 | 0x4000 | 0x20000) & (0x3000 | 0x4000 | 0x20000)) == 0);
}

TEST_CASE("the table, the dispatcher and the seccomp allowlist are one list", "[syscall]") {
  std::set<std::string> allow;
  for (const char* n : mamori::vtpm::partition::kSyscallAllowlist) allow.insert(n);
  CHECK(allow.size() == proto::kEngineSyscallCount);
  // The four the VMM served but seccomp did not allow before (issue 9).
  for (const char* n : {"writev", "close", "gettid", "time"}) CHECK(allow.count(n) == 1);
  size_t served = 0;
  for (uint64_t nr = 0; nr < 1024; ++nr) {
    const proto::SyscallEntry* e = proto::find_engine_syscall(nr);
    Handler h = handler_for(nr);
    if (!e) {
      CHECK(h == Handler::unknown);
      continue;
    }
    INFO(e->name);
    CHECK(allow.count(e->name) == 1);
    if (e->use == proto::SyscallUse::both) {
      CHECK(h != Handler::unknown);
      ++served;
    } else {
      CHECK(h == Handler::unknown);  // execve: the host wrapper's, never the VMM's
    }
  }
  CHECK(served == static_cast<size_t>(Handler::count_) - 1);
  CHECK(handler_for(0) == Handler::read);
  CHECK(handler_for(59) == Handler::unknown);
  CHECK(handler_for(201) == Handler::time);
}
