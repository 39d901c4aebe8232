#include <catch.hpp>
#include <stdint.h>
#include <string>

#include "vmm/lib/format.hpp"

using mamori::lib::snformat;

namespace {
std::string fmt(const char* f, auto... args) {
  char buf[128];
  size_t n = snformat(buf, sizeof buf, f, args...);
  REQUIRE(n < sizeof buf);
  return std::string(buf);
}
}  // namespace

TEST_CASE("format: integers in every base, width and padding") {
  CHECK(fmt("%d", -42) == "-42");
  CHECK(fmt("%i", 0) == "0");
  CHECK(fmt("%u", 4294967295u) == "4294967295");
  CHECK(fmt("%x", 0xdeadbeefu) == "deadbeef");
  CHECK(fmt("%X", 0xabcu) == "ABC");
  CHECK(fmt("%08x", 0x1234u) == "00001234");
  CHECK(fmt("%5d|%-5d|", 42, 42) == "   42|42   |");
  CHECK(fmt("%05d", -42) == "-0042");
  CHECK(fmt("%lx", 0xFFFFFFFF80000000ull) == "ffffffff80000000");
  CHECK(fmt("%lu", 18446744073709551615ull) == "18446744073709551615");
  CHECK(fmt("%ld", static_cast<int64_t>(INT64_MIN)) == "-9223372036854775808");
  CHECK(fmt("%zu", static_cast<size_t>(7)) == "7");
}

TEST_CASE("format: strings, chars, pointers, percent") {
  CHECK(fmt("%s-%s", "a", "bc") == "a-bc");
  CHECK(fmt("%-4s|%4s|", "ab", "ab") == "ab  |  ab|");
  CHECK(fmt("%s", static_cast<const char*>(nullptr)) == "(null)");
  CHECK(fmt("%c%c", 'o', 'k') == "ok");
  CHECK(fmt("%p", reinterpret_cast<void*>(0x1000)) == "0x0000000000001000");
  CHECK(fmt("100%%") == "100%");
}

TEST_CASE("format: unknown conversions are printed, not interpreted") {
  CHECK(fmt("%q", 1) == "%q");
  CHECK(fmt("abc%") == "abc%");
}

TEST_CASE("snformat truncates and always terminates, returning the full length") {
  char buf[6];
  size_t n = snformat(buf, sizeof buf, "%s", "hello world");
  CHECK(n == 11);
  CHECK(std::string(buf) == "hello");
  char one[1] = {'x'};
  CHECK(snformat(one, 1, "abc") == 3);
  CHECK(one[0] == 0);
}
