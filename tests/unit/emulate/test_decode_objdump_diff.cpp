// Differential test against objdump: thousands of generated instructions in
// the supported families (random prefixes, ModRM/SIB/displacement forms,
// immediates). Every one the decoder accepts goes into a blob that objdump
// disassembles; objdump must see the same instruction boundaries and a MOV,
// MOVZX/MOVSX, MOVS or STOS at each. A wrong length would desynchronise the
// whole rest of the blob.
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <catch.hpp>
#include <string>
#include <vector>

#include "vmm/emulate/decoder.hpp"

using namespace mamori::emulate;

namespace {

struct Lcg {
  uint64_t s;
  uint8_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint8_t>(s >> 33);
  }
};

std::vector<uint8_t> candidate(Lcg& g, bool long64) {
  static const uint8_t kPrefixes[] = {0x66, 0x67, 0xF3, 0x2E, 0x26, 0x36, 0x3E, 0x64, 0x65};
  static const uint8_t kOps[] = {0x88, 0x89, 0x8A, 0x8B, 0xA0, 0xA1, 0xA2, 0xA3, 0xC6,
                                 0xC7, 0xA4, 0xA5, 0xAA, 0xAB, 0x0F, 0x63};
  static const uint8_t kOps0F[] = {0xB6, 0xB7, 0xBE, 0xBF};
  std::vector<uint8_t> b;
  const int np = g.next() % 3;
  for (int i = 0; i < np; ++i) b.push_back(kPrefixes[g.next() % sizeof kPrefixes]);
  if (long64 && (g.next() & 1)) b.push_back(static_cast<uint8_t>(0x40 | (g.next() & 0xF)));
  const uint8_t op = kOps[g.next() % sizeof kOps];
  b.push_back(op);
  if (op == 0x0F) b.push_back(kOps0F[g.next() % sizeof kOps0F]);
  // ModRM (mod != 3 mostly, reg 0 for C6/C7), SIB, displacement and
  // immediate bytes: random; the decoder decides how many it uses.
  uint8_t modrm = g.next();
  if ((modrm >> 6) == 3 && (g.next() & 3)) modrm &= 0x7F;
  if ((op == 0xC6 || op == 0xC7) && (g.next() & 7)) modrm &= 0xC7;
  b.push_back(modrm);
  for (int i = 0; i < 12; ++i) b.push_back(g.next());
  return b;
}

std::vector<std::pair<int, std::string>> objdump(const std::vector<uint8_t>& blob, const char* arch) {
  char path[] = "/tmp/mamori_decode_diff_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, blob.data(), blob.size()) == static_cast<ssize_t>(blob.size()));
  close(fd);
  const std::string cmd =
      std::string("objdump -D -b binary --insn-width=16 -m ") + arch + " " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<std::pair<int, std::string>> out;
  int carry = 0;
  char line[512];
  while (fgets(line, sizeof line, p)) {
    const char* tab = strchr(line, '\t');
    const char* colon = strchr(line, ':');
    if (tab == nullptr || colon == nullptr || colon > tab) continue;
    const char* bytes = tab + 1;
    const char* end = strchr(bytes, '\t');
    if (end == nullptr) continue;
    int n = 0;
    for (const char* c = bytes; c + 1 < end; ++c) {
      if (isxdigit(static_cast<unsigned char>(c[0])) && isxdigit(static_cast<unsigned char>(c[1])) &&
          (c + 2 == end || c[2] == ' ')) {
        ++n;
        ++c;
      }
    }
    std::string text(end + 1);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    // objdump prints an ignored prefix as a line of its own (one word).
    if ((text.rfind("rex", 0) == 0 && text.find(' ') == std::string::npos) || text == "data16" || text == "addr32" || text == "cs" ||
        text == "ds" || text == "es" || text == "ss" || text == "fs" || text == "gs" || text == "repz" ||
        text == "rep" || text == "data32" || text == "addr16") {
      carry += n;
      continue;
    }
    out.push_back({carry + n, text});
    carry = 0;
  }
  pclose(p);
  unlink(path);
  return out;
}

bool plausible(const std::string& text) {
  // Mnemonic after optional prefixes such as "rep", "cs", "addr32", "data16".
  static const char* kOk[] = {"mov", "movs", "stos", "movz", "movabs", "movsx", "movzx", "movsl", "movslq"};
  size_t pos = 0;
  std::string word;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    word = text.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    pos = sp == std::string::npos ? text.size() : sp + 1;
    if (word.empty()) continue;
    bool prefix = word == "rep" || word == "repz" || word == "addr32" || word == "addr16" || word == "data16" ||
                  word == "data32" || word.rfind("rex", 0) == 0 || word == "cs" || word == "ds" || word == "es" ||
                  word == "ss" || word == "fs" || word == "gs";
    if (!prefix) break;
  }
  for (const char* ok : kOk)
    if (word.rfind(ok, 0) == 0) return true;
  return false;
}

void run(CpuMode mode, const char* arch, uint64_t seed) {
  Lcg g{seed};
  Gprs regs{};
  std::vector<uint8_t> blob;
  std::vector<int> lens;
  for (int i = 0; i < 4000; ++i) {
    const auto c = candidate(g, mode == CpuMode::Long64);
    const Result r = decode(c.data(), c.size(), mode, regs, 0);
    if (r.status != Status::Ok) continue;
    blob.insert(blob.end(), c.begin(), c.begin() + r.access.length);
    lens.push_back(r.access.length);
  }
  REQUIRE(lens.size() > 1000);
  const auto od = objdump(blob, arch);
  size_t off = 0;
  for (size_t i = 0; i < lens.size() && i < od.size(); ++i) {
    char hex[64] = {};
    for (int k = 0; k < lens[i] && k < 15; ++k) snprintf(hex + 3 * k, 4, "%02x ", blob[off + k]);
    CAPTURE(i, off, hex, od[i].second);
    REQUIRE(od[i].first == lens[i]);
    CHECK(plausible(od[i].second));
    off += lens[i];
  }
  CHECK(od.size() == lens.size());
}

}  // namespace

TEST_CASE("generated 64-bit instructions: decoder and objdump agree", "[decode][objdump]") {
  run(CpuMode::Long64, "i386:x86-64", 1);
}
TEST_CASE("generated 32-bit instructions: decoder and objdump agree", "[decode][objdump]") {
  run(CpuMode::Protected32, "i386", 2);
}
TEST_CASE("generated 16-bit instructions: decoder and objdump agree", "[decode][objdump]") {
  run(CpuMode::Real16, "i8086", 3);
}

TEST_CASE("only the supported opcodes ever decode Ok", "[decode]") {
  Gprs regs{};
  const CpuMode modes[] = {CpuMode::Real16, CpuMode::Protected16, CpuMode::Protected32, CpuMode::Long64};
  for (CpuMode m : modes) {
    for (int op = 0; op < 256; ++op) {
      for (int second : {0x02, 0x45, 0xB6, 0xBF, 0x84}) {
        uint8_t b[16] = {static_cast<uint8_t>(op), static_cast<uint8_t>(second), 0x02, 0x10, 0x20};
        const Result r = decode(b, sizeof b, m, regs, 0);
        if (r.status != Status::Ok) continue;
        CAPTURE(op, second, int(m));
        const bool one_byte = op == 0x88 || op == 0x89 || op == 0x8A || op == 0x8B || (op >= 0xA0 && op <= 0xA5) ||
                              op == 0xAA || op == 0xAB || op == 0xC6 || op == 0xC7 ||
                              (op == 0x63 && m == CpuMode::Long64);
        const bool two_byte = op == 0x0F && (second == 0xB6 || second == 0xBF);
        const bool prefix = op == 0x66 || op == 0x67 || op == 0xF3 || op == 0x26 || op == 0x2E || op == 0x36 ||
                            op == 0x3E || op == 0x64 || op == 0x65 || (m == CpuMode::Long64 && (op & 0xF0) == 0x40);
        CHECK((one_byte || two_byte || prefix));
      }
    }
  }
}
