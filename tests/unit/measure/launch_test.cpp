// The launch measurement into a real TPM (libtpms): the PCRs it leaves
// equal the replay of its log and what a verifier computes without a TPM
// (expected_launch); the log is parsed by tpm2_eventlog (tpm2-tools), whose
// own replay gives the same PCR values; changing one byte of the initrd
// or the command line changes exactly the PCR it should.
#include <catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/common/libtpms_backend.hpp"
#include "tests/unit/measure/hex.hpp"
#include "vmm/measure/launch.hpp"
#include "vmm/measure/tpm_commands.hpp"

using namespace mamori::measure;
using mamori::measure::test::hex;
using mamori::test::LibtpmsBackend;

namespace {

const char kConfig[] =
    "console = com1\n"
    "\n"
    "[vm first]\n"
    "memory = 64M\n"
    "image = a.elf\n"
    "# a comment\n"
    "[vm linux]\r\n"
    "memory = 256M\r\n"
    "kernel = vmlinuz\r\n"
    "initrd = initramfs.cpio.gz\r\n";

struct Files {
  std::vector<uint8_t> kernel, initrd;
  std::string cmdline = "console=ttyS0 mamori.test=tpm";
  LaunchInputs in;
  Files() : kernel(300001), initrd(70000) {
    for (size_t i = 0; i < kernel.size(); ++i) kernel[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
    for (size_t i = 0; i < initrd.size(); ++i) initrd[i] = static_cast<uint8_t>(i * 17 + 1);
    in.version = "0.1.0";
    REQUIRE(config_section(kConfig, sizeof kConfig - 1, 7, in.config_section, in.config_section_len));
    in.kernel = {kernel.data(), kernel.size(), "vmlinuz", cmdline.c_str()};
    in.modules[0] = {initrd.data(), initrd.size(), "initramfs.cpio.gz", nullptr};
    in.module_count = 1;
  }
};

// TPM2_PCR_Read of one PCR in one bank (Part 3 §22.4).
std::string read_pcr(HashAlg alg, uint32_t pcr) {
  std::vector<uint8_t> c = {0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7E, 0, 0, 0, 1,
                            static_cast<uint8_t>(static_cast<uint16_t>(alg) >> 8), static_cast<uint8_t>(alg), 3, 0, 0, 0};
  c[17 + pcr / 8] = static_cast<uint8_t>(1u << (pcr % 8));
  const std::vector<uint8_t> r = LibtpmsBackend::instance().execute(c);
  REQUIRE(response_code(r.data(), r.size()) == 0);
  // header 10, pcrUpdateCounter 4, TPML_PCR_SELECTION (4 + 2 + 1 + 3), TPML_DIGEST count 4, size 2
  const size_t at = 10 + 4 + 10 + 4;
  REQUIRE(r.size() >= at + 2 + digest_size(alg));
  return hex(r.data() + at + 2, digest_size(alg));
}

// tpm2_eventlog's replay ("pcrs:" at the end of its YAML), as bank -> pcr -> hex.
std::map<std::string, std::map<int, std::string>> eventlog_pcrs(const std::string& yaml) {
  std::map<std::string, std::map<int, std::string>> out;
  std::istringstream in(yaml);
  std::string line, bank;
  bool in_pcrs = false;
  while (std::getline(in, line)) {
    if (line.rfind("pcrs:", 0) == 0) { in_pcrs = true; continue; }
    if (!in_pcrs) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t x = line.find("0x");
    if (x == std::string::npos) {
      bank = line.substr(line.find_first_not_of(' '), colon - line.find_first_not_of(' '));
      continue;
    }
    std::string v = line.substr(x + 2);
    for (auto& ch : v) ch = static_cast<char>(std::tolower(ch));
    out[bank][std::stoi(line.substr(0, colon))] = v;
  }
  return out;
}

std::string run(const std::string& cmd, int& rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  rc = pclose(p);
  return out;
}

size_t bank_index(const Banks& b, HashAlg a) {
  for (size_t i = 0; i < b.count; ++i)
    if (b.alg[i] == a) return i;
  return b.count;
}
}  // namespace

TEST_CASE("config_section: the header line to the next section header") {
  const char* s;
  size_t n;
  REQUIRE(config_section(kConfig, sizeof kConfig - 1, 3, s, n));
  CHECK(std::string(s, n) == "[vm first]\nmemory = 64M\nimage = a.elf\n# a comment\n");
  REQUIRE(config_section(kConfig, sizeof kConfig - 1, 7, s, n));
  CHECK(std::string(s, n) == "[vm linux]\r\nmemory = 256M\r\nkernel = vmlinuz\r\ninitrd = initramfs.cpio.gz\r\n");
  CHECK_FALSE(config_section(kConfig, sizeof kConfig - 1, 12, s, n));
  CHECK_FALSE(config_section(kConfig, sizeof kConfig - 1, 0, s, n));
}

TEST_CASE("measured launch into libtpms: PCRs equal the log's replay and tpm2_eventlog's") {
  Files f;
  std::vector<uint8_t> log(0x10000, 0xAA);
  const LaunchResult r = measure_launch(LibtpmsBackend::instance(), f.in, log.data(), log.size());
  INFO(describe(r.error) << " rc=" << r.rc << " banks " << describe(r.banks_status) << " alg " << r.unsupported_alg);
  REQUIRE(r.error == LaunchError::None);
  CHECK(r.already_started);  // the test backend has sent TPM2_Startup itself
  REQUIRE(bank_index(r.banks, HashAlg::Sha1) < r.banks.count);
  REQUIRE(bank_index(r.banks, HashAlg::Sha256) < r.banks.count);
  CHECK(r.events == 2 + 8 + 1 + 1 + 1);
  for (size_t i = r.log_bytes; i < log.size(); ++i) REQUIRE(log[i] == 0);

  // The verifier's side: same log, PCR values of the replay = the TPM's.
  std::vector<uint8_t> expected(0x10000);
  size_t expected_bytes = 0;
  PcrReplay pcrs(r.banks);
  REQUIRE(expected_launch(f.in, expected.data(), expected.size(), expected_bytes, pcrs));
  REQUIRE(expected_bytes == r.log_bytes);
  CHECK(std::equal(log.begin(), log.begin() + static_cast<long>(r.log_bytes), expected.begin()));
  for (size_t b = 0; b < r.banks.count; ++b)
    for (uint32_t pcr = 0; pcr <= 9; ++pcr) {
      INFO(hash_name(r.banks.alg[b]) << " PCR " << pcr);
      CHECK(read_pcr(r.banks.alg[b], pcr) == hex(pcrs.value(b, pcr), digest_size(r.banks.alg[b])));
    }

  // tpm2_eventlog parses it and replays it to the same values.
  char path[] = "/tmp/measure_launch_testXXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  FILE* out = fdopen(fd, "wb");
  REQUIRE(fwrite(log.data(), 1, r.log_bytes, out) == r.log_bytes);
  fclose(out);
  int rc = 0;
  const std::string yaml = run(std::string(TPM2_EVENTLOG) + " " + path + " 2>&1", rc);
  std::remove(path);
  INFO(yaml);
  REQUIRE(rc == 0);
  // It checks the digests it can recompute from the event data (CRTM
  // version, separators, the PCR 8 strings): none may differ. (It warns
  // about EV_IPL in PCR 4, which the BIOS profile uses for the IPL code.)
  CHECK(yaml.find("does not match its payload") == std::string::npos);
  CHECK(yaml.find("unexpected format") == std::string::npos);
  CHECK(yaml.find("Spec ID Event03") != std::string::npos);
  CHECK(yaml.find("EV_SEPARATOR") != std::string::npos);
  CHECK(yaml.find("EV_S_CRTM_VERSION") != std::string::npos);
  CHECK(yaml.find("kernel_cmdline: console=ttyS0 mamori.test=tpm") != std::string::npos);
  const auto tool = eventlog_pcrs(yaml);
  for (size_t b = 0; b < r.banks.count; ++b) {
    const std::string name = hash_name(r.banks.alg[b]);
    REQUIRE(tool.count(name));
    for (uint32_t pcr : {0u, 1u, 2u, 4u, 7u, 8u, 9u}) {
      INFO(name << " PCR " << pcr);
      REQUIRE(tool.at(name).count(static_cast<int>(pcr)));
      CHECK(tool.at(name).at(static_cast<int>(pcr)) == hex(pcrs.value(b, pcr), digest_size(r.banks.alg[b])));
    }
  }
}

TEST_CASE("one changed byte changes exactly the PCR it should") {
  Banks banks;
  banks.alg[0] = HashAlg::Sha1;
  banks.alg[1] = HashAlg::Sha256;
  banks.count = 2;
  auto values = [&](const LaunchInputs& in) {
    std::vector<uint8_t> log(0x10000);
    size_t n;
    PcrReplay p(banks);
    REQUIRE(expected_launch(in, log.data(), log.size(), n, p));
    std::vector<std::string> v;
    for (uint32_t pcr = 0; pcr < kPcrCount; ++pcr) v.push_back(hex(p.value(1, pcr), 32));
    return v;
  };
  auto changed = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<uint32_t> c;
    for (uint32_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) c.push_back(i);
    return c;
  };
  Files f;
  const auto base = values(f.in);
  f.initrd[12345] ^= 1;
  CHECK(changed(base, values(f.in)) == std::vector<uint32_t>{kPcrFiles});
  f.initrd[12345] ^= 1;
  f.cmdline[3] = 'X';
  f.in.kernel.cmdline = f.cmdline.c_str();
  CHECK(changed(base, values(f.in)) == std::vector<uint32_t>{kPcrStrings});
  f.cmdline[3] = 's';
  f.kernel[0] ^= 0x80;
  CHECK(changed(base, values(f.in)) == std::vector<uint32_t>{kPcrBootLoader});
  f.kernel[0] ^= 0x80;
  f.in.version = "0.1.1";
  CHECK(changed(base, values(f.in)) == std::vector<uint32_t>{kPcrPlatformCode});
  f.in.version = "0.1.0";
  f.in.config_section_len -= 1;
  CHECK(changed(base, values(f.in)) == std::vector<uint32_t>{kPcrPlatformConfig});
}

TEST_CASE("the file digest cache: a second launch of the same files gives the same log") {
  Files f;
  Banks banks;
  banks.alg[0] = HashAlg::Sha1;
  banks.alg[1] = HashAlg::Sha384;
  banks.count = 2;
  std::vector<uint8_t> a(0x10000), b(0x10000), c(0x10000);
  size_t na, nb, nc;
  PcrReplay pa(banks), pb(banks), pc(banks);
  REQUIRE(expected_launch(f.in, a.data(), a.size(), na, pa));
  FileDigestCache cache;
  f.in.cache = &cache;
  REQUIRE(expected_launch(f.in, b.data(), b.size(), nb, pb));  // fills it
  REQUIRE(cache.find(f.kernel.data(), f.kernel.size(), banks));
  REQUIRE(expected_launch(f.in, c.data(), c.size(), nc, pc));  // from it
  CHECK((na == nb && nb == nc));
  CHECK(a == b);
  CHECK(b == c);
  Banks other = banks;
  other.alg[1] = HashAlg::Sha256;
  CHECK_FALSE(cache.find(f.kernel.data(), f.kernel.size(), other));  // other banks: hashed again
  CHECK_FALSE(cache.find(f.kernel.data(), f.kernel.size() - 1, banks));
}

TEST_CASE("a log area too small is reported, not overrun") {
  Files f;
  Banks banks;
  banks.alg[0] = HashAlg::Sha256;
  banks.count = 1;
  std::vector<uint8_t> log(200 + 8, 0x55);
  size_t n;
  PcrReplay p(banks);
  CHECK_FALSE(expected_launch(f.in, log.data(), 200, n, p));
  CHECK(n <= 200);
  for (size_t i = 200; i < log.size(); ++i) CHECK(log[i] == 0x55);
  std::vector<uint8_t> tiny(10);
  PcrReplay q(banks);
  CHECK_FALSE(expected_launch(f.in, tiny.data(), tiny.size(), n, q));
  CHECK(n == 0);
}

TEST_CASE("GetCapability(PCRS) responses") {
  Banks b;
  uint16_t alg;
  // header, moreData 0, TPM_CAP_PCRS, count 3: sha1 (all), sha256 (all), sm3_256 (none)
  std::vector<uint8_t> r = {0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 3,
                            0, 4, 3, 0xFF, 0xFF, 0xFF, 0, 0x0B, 3, 0xFF, 0xFF, 0xFF, 0, 0x12, 3, 0, 0, 0};
  CHECK(parse_pcr_banks(r.data(), r.size(), b, alg) == BanksStatus::Ok);
  CHECK(b.count == 2);
  r[r.size() - 1] = 1;  // SM3 allocated: mamori cannot hash it
  CHECK(parse_pcr_banks(r.data(), r.size(), b, alg) == BanksStatus::Unsupported);
  CHECK(alg == 0x12);
  for (size_t n = 0; n + 1 < r.size(); ++n) CHECK(parse_pcr_banks(r.data(), n, b, alg) == BanksStatus::Malformed);
  r[18] = 0;  // count 0
  CHECK(parse_pcr_banks(r.data(), r.size(), b, alg) == BanksStatus::None);
}
