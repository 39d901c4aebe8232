// mamori.cfg parser (docs/config.md): the documented example, defaults, and
// every refusal with its line number.
#include <catch.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "vmm/core/config.hpp"

using namespace mamori::core;

namespace {

ConfigResult parse(const std::string& s, Config& c) { return parse_config(s.data(), s.size(), c); }

// Expect `text` to be refused with `e` at `line`.
void refused(const std::string& text, ConfigError e, uint32_t line) {
  Config c;
  ConfigResult r = parse(text, c);
  INFO("text: " << text);
  CHECK(r.error == e);
  CHECK(r.line == line);
}

const char* kExample =
    "# mamori.cfg: the example from docs/config.md\n"
    "console = com1\n"
    "baud = 115200\n"
    "log = info\n"
    "platform_tpm = hardware\n"
    "\n"
    "[vm hello]\n"
    "memory = 64M\n"
    "cpus = 0\n"
    "image = hello.elf\n"
    "console = on\n"
    "tpm = on\n"
    "\n"
    "[vm linux]\n"
    "memory = 1G        # guest RAM\n"
    "cpus = 1,2-3\n"
    "image = bzImage-6.1.elf\n";

}  // namespace

TEST_CASE("the documented example parses", "[config]") {
  Config c;
  ConfigResult r = parse(kExample, c);
  REQUIRE(r.error == ConfigError::None);
  CHECK(c.console_port == 0x3f8);
  CHECK(c.baud == 115200);
  CHECK(c.log == ConfigLogLevel::Info);
  CHECK(c.platform_tpm == ConfigPlatformTpm::Hardware);
  REQUIRE(c.vm_count == 2);
  CHECK(std::string(c.vms[0].name) == "hello");
  CHECK(c.vms[0].memory_bytes == 64ull << 20);
  CHECK(c.vms[0].cpu_mask == 0x1);
  CHECK(std::string(c.vms[0].image) == "hello.elf");
  CHECK(c.vms[0].console);
  CHECK(c.vms[0].tpm);
  CHECK(c.vms[0].line == 7);
  CHECK(std::string(c.vms[1].name) == "linux");
  CHECK(c.vms[1].memory_bytes == 1ull << 30);
  CHECK(c.vms[1].cpu_mask == 0xe);
  CHECK(c.vms[1].console);  // default on
  CHECK(c.vms[1].tpm);            // default on
}

TEST_CASE("the example in docs/config.md parses", "[config]") {
  std::ifstream in(MAMORI_CONFIG_DOC);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t open = doc.find("```\n");
  REQUIRE(open != std::string::npos);
  const size_t close = doc.find("```", open + 4);
  REQUIRE(close != std::string::npos);
  Config c;
  ConfigResult r = parse(doc.substr(open + 4, close - open - 4), c);
  INFO(describe(r.error) << " at line " << r.line);
  REQUIRE(r.error == ConfigError::None);
  REQUIRE(c.vm_count == 3);
  CHECK(c.vms[1].cpu_mask == 0xe);
  CHECK(std::string(c.vms[1].image) == "vmlinuz-6.1.0-amd64");
  CHECK(std::string(c.vms[1].initrd) == "initrd.img-6.1.0-amd64");
  REQUIRE(c.vms[2].module_count == 2);
  CHECK(std::string(c.vms[2].modules[0].cmdline) == "rootfs=ram");
}

TEST_CASE("empty text and comments only give the defaults", "[config]") {
  Config c;
  CHECK(parse_config(nullptr, 0, c).error == ConfigError::None);
  CHECK(c.console_port == 0x3f8);
  CHECK(c.baud == 115200);
  CHECK(c.log == ConfigLogLevel::Info);
  CHECK(c.platform_tpm == ConfigPlatformTpm::Hardware);
  CHECK(c.vm_count == 0);
  CHECK(parse("# nothing\n\n   \t\n# else", c).error == ConfigError::None);
  CHECK(parse_config(nullptr, 5, c).error == ConfigError::NullInput);
}

TEST_CASE("global values", "[config]") {
  Config c;
  REQUIRE(parse("console = com2\nbaud = 9600\nlog = debug\nplatform_tpm = emulated", c).error == ConfigError::None);
  CHECK(c.console_port == 0x2f8);
  CHECK(c.baud == 9600);
  CHECK(c.log == ConfigLogLevel::Debug);
  CHECK(c.platform_tpm == ConfigPlatformTpm::Emulated);
  REQUIRE(parse("console = 0x3e8\nplatform_tpm = none\nlog=warn", c).error == ConfigError::None);
  CHECK(c.console_port == 0x3e8);
  CHECK(c.platform_tpm == ConfigPlatformTpm::None);
  CHECK(c.log == ConfigLogLevel::Warn);
  REQUIRE(parse("console = 1016\nlog = error", c).error == ConfigError::None);  // decimal 0x3f8
  CHECK(c.console_port == 0x3f8);
  REQUIRE(parse("console=com4", c).error == ConfigError::None);
  CHECK(c.console_port == 0x2e8);
  REQUIRE(parse("console=com3", c).error == ConfigError::None);
  CHECK(c.console_port == 0x3e8);
}

TEST_CASE("whitespace, CRLF, comments after values", "[config]") {
  Config c;
  REQUIRE(parse("\tlog\t=\tdebug\t# really\r\n[ vm  a ]  # first\r\nmemory=2M\r\nimage=a\r\n", c).error ==
          ConfigError::None);
  CHECK(c.log == ConfigLogLevel::Debug);
  REQUIRE(c.vm_count == 1);
  CHECK(std::string(c.vms[0].name) == "a");
  CHECK(c.vms[0].memory_bytes == 2ull << 20);
}

TEST_CASE("memory sizes", "[config]") {
  auto mem = [](const std::string& v) {
    Config c;
    ConfigResult r = parse("[vm a]\nimage=a\nmemory = " + v, c);
    return r.error == ConfigError::None ? c.vms[0].memory_bytes : 0;
  };
  CHECK(mem("2M") == 2ull << 20);
  CHECK(mem("2m") == 2ull << 20);
  CHECK(mem("4096K") == 4ull << 20);
  CHECK(mem("64G") == 64ull << 30);
  CHECK(mem("1g") == 1ull << 30);
  CHECK(mem("2097152") == 2ull << 20);
  CHECK(mem("0x200000") == 2ull << 20);
  CHECK(mem("0x4000000") == 64ull << 20);
  CHECK(mem("64 M") == 64ull << 20);

  refused("[vm a]\nimage=a\nmemory = 64MB", ConfigError::BadMemorySuffix, 3);
  refused("[vm a]\nimage=a\nmemory = 64T", ConfigError::BadMemorySuffix, 3);
  refused("[vm a]\nimage=a\nmemory = M", ConfigError::BadNumber, 3);
  refused("[vm a]\nimage=a\nmemory = -64M", ConfigError::BadNumber, 3);
  refused("[vm a]\nimage=a\nmemory = 1M", ConfigError::MemoryOutOfRange, 3);
  refused("[vm a]\nimage=a\nmemory = 0", ConfigError::MemoryOutOfRange, 3);
  refused("[vm a]\nimage=a\nmemory = 65G", ConfigError::MemoryOutOfRange, 3);
  refused("[vm a]\nimage=a\nmemory = 3M", ConfigError::MemoryNotAligned, 3);
  refused("[vm a]\nimage=a\nmemory = 2097153", ConfigError::MemoryNotAligned, 3);
  refused("[vm a]\nimage=a\nmemory = 99999999999999999999", ConfigError::NumberOverflow, 3);
  refused("[vm a]\nimage=a\nmemory = 17179869184G", ConfigError::NumberOverflow, 3);  // 2^34 G = 2^64
  refused("[vm a]\nimage=a\nmemory = 0x", ConfigError::BadNumber, 3);
}

TEST_CASE("cpu lists", "[config]") {
  auto cpus = [](const std::string& v) {
    Config c;
    ConfigResult r = parse("[vm a]\nimage=a\nmemory=2M\ncpus = " + v, c);
    return r.error == ConfigError::None ? c.vms[0].cpu_mask : 0;
  };
  CHECK(cpus("0") == 1);
  CHECK(cpus("0,1") == 3);
  CHECK(cpus("1 , 3") == 0xa);
  CHECK(cpus("0-3") == 0xf);
  CHECK(cpus("0-1,4-5") == 0x33);
  CHECK(cpus("63") == 1ull << 63);
  CHECK(cpus("0-63") == UINT64_MAX);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 64", ConfigError::CpuOutOfRange, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 3-1", ConfigError::CpuOutOfRange, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 0,0", ConfigError::DuplicateCpu, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 0-2,1", ConfigError::DuplicateCpu, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 0,", ConfigError::BadCpuList, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = ,1", ConfigError::BadCpuList, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = a", ConfigError::BadCpuList, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 1-", ConfigError::BadCpuList, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = -1", ConfigError::BadCpuList, 4);
  refused("[vm a]\nimage=a\nmemory=2M\ncpus = 99999999999999999999", ConfigError::BadCpuList, 4);
}

TEST_CASE("global refusals with line numbers", "[config]") {
  refused("log = info\nlog = debug", ConfigError::DuplicateKey, 2);
  refused("\n\nverbose = yes", ConfigError::UnknownKey, 3);
  refused("memory = 64M", ConfigError::UnknownKey, 1);  // VM key outside a [vm] section
  refused("log = loud", ConfigError::BadLogLevel, 1);
  refused("log = INFO", ConfigError::BadLogLevel, 1);
  refused("platform_tpm = yes", ConfigError::BadPlatformTpm, 1);
  refused("console = com5", ConfigError::BadConsole, 1);
  refused("console = 0", ConfigError::BadConsole, 1);
  refused("console = 0xfff9", ConfigError::BadConsole, 1);
  refused("console = 0x10000", ConfigError::BadConsole, 1);
  refused("console = serial", ConfigError::BadConsole, 1);
  refused("baud = 0", ConfigError::BadBaud, 1);
  refused("baud = 115201", ConfigError::BadBaud, 1);
  refused("baud = 100000", ConfigError::BadBaud, 1);  // 115200/100000 not an integer
  refused("baud = 230400", ConfigError::BadBaud, 1);
  refused("baud = fast", ConfigError::BadNumber, 1);
  refused("baud = +9600", ConfigError::BadNumber, 1);
  refused("baud = 18446744073709551616", ConfigError::NumberOverflow, 1);  // 2^64
  refused("just words", ConfigError::MissingEquals, 1);
  refused(" = 3", ConfigError::EmptyKey, 1);
  refused("log =", ConfigError::EmptyValue, 1);
  refused("log = # comment only", ConfigError::EmptyValue, 1);
  refused("Log = info", ConfigError::BadKey, 1);
  refused("my key = 1", ConfigError::BadKey, 1);
}

TEST_CASE("VM section refusals", "[config]") {
  refused("[vm]\n", ConfigError::BadSection, 1);
  refused("[vm ]\n", ConfigError::BadSection, 1);
  refused("[vmx a]\n", ConfigError::BadSection, 1);
  refused("[global]\n", ConfigError::BadSection, 1);
  refused("[vm a\n", ConfigError::BadSection, 1);
  refused("[vm a] extra\n", ConfigError::BadSection, 1);
  refused("[vm a b]\n", ConfigError::BadVmName, 1);
  refused("[vm a/b]\n", ConfigError::BadVmName, 1);
  refused("[vm " + std::string(32, 'x') + "]\n", ConfigError::BadVmName, 1);
  refused("[vm a]\nmemory=2M\nimage=a\n[vm a]\n", ConfigError::DuplicateVmName, 4);
  refused("[vm a]\nimage=a\n", ConfigError::MissingMemory, 1);
  refused("[vm a]\nmemory=2M\n\n[vm b]\nmemory=2M\nimage=b", ConfigError::MissingImage, 1);
  refused("[vm a]\nmemory=2M\nimage=a\n[vm b]\nmemory=2M\n", ConfigError::MissingImage, 4);
  refused("[vm a]\nmemory=2M\nimage=a\nbaud = 9600\n", ConfigError::UnknownKey, 4);
  refused("[vm a]\nmemory=2M\nimage=a\nmemory=4M\n", ConfigError::DuplicateKey, 4);
  refused("[vm a]\nmemory=2M\nimage=a\nconsole=yes\n", ConfigError::BadOnOff, 4);
  refused("[vm a]\nmemory=2M\nimage=a\ntpm=1\n", ConfigError::BadTpm, 4);
  refused("[vm a]\nmemory=2M\nimage=../vmm.elf\n", ConfigError::BadImageName, 3);
  refused("[vm a]\nmemory=2M\nimage=.hidden\n", ConfigError::BadImageName, 3);
  refused("[vm a]\nmemory=2M\nimage=dir/x.elf\n", ConfigError::BadImageName, 3);
  refused("[vm a]\nmemory=2M\nimage=dir\\x.elf\n", ConfigError::BadImageName, 3);
  refused("[vm a]\nmemory=2M\nimage=" + std::string(64, 'x') + "\n", ConfigError::BadImageName, 3);
  {
    Config c;
    REQUIRE(parse("[vm a]\nmemory=2M\nimage=" + std::string(63, 'x') + "\n", c).error == ConfigError::None);
    CHECK(std::strlen(c.vms[0].image) == 63);
    REQUIRE(parse("[vm " + std::string(31, 'v') + "]\nmemory=2M\nimage=x\ntpm=off", c).error == ConfigError::None);
    CHECK(std::strlen(c.vms[0].name) == 31);
    CHECK_FALSE(c.vms[0].tpm);
  }
}

TEST_CASE("at most kConfigMaxVms (16) VMs", "[config]") {
  std::string text;
  for (size_t i = 0; i < kConfigMaxVms; ++i) text += "[vm v" + std::to_string(i) + "]\nmemory=2M\nimage=x\n";
  Config c;
  REQUIRE(parse(text, c).error == ConfigError::None);
  CHECK(c.vm_count == kConfigMaxVms);
  text += "[vm extra]\nmemory=2M\nimage=x\n";
  refused(text, ConfigError::TooManyVms, static_cast<uint32_t>(3 * kConfigMaxVms + 1));
}

TEST_CASE("bytes that do not belong in a text file", "[config]") {
  refused(std::string("log = info\nbaud = 96\0" "00\n", 21), ConfigError::NulByte, 2);
  refused("log = info\x01\n", ConfigError::BadCharacter, 1);
  refused("log = info\rbaud = 9600\n", ConfigError::BadCharacter, 1);  // lone CR
  refused("# \x7f\n", ConfigError::BadCharacter, 1);
  refused("log = info\n" + std::string(4096, '#') + "\n", ConfigError::LineTooLong, 2);
  Config c;
  CHECK(parse("log = info\n" + std::string(4095, '#') + "\n", c).error == ConfigError::None);
  // Bytes ≥ 0x80 in a comment are fine (UTF-8 notes), elsewhere they fail the value checks.
  CHECK(parse("# Grüße\nlog = info", c).error == ConfigError::None);
  refused("log = inf\xc3\xb6", ConfigError::BadLogLevel, 1);
}

TEST_CASE("every config error has a description", "[config]") {
  for (uint32_t i = 0; i <= static_cast<uint32_t>(ConfigError::BadExitPort); ++i)
    CHECK(std::string(describe(static_cast<ConfigError>(i))) != "unknown configuration error");
  CHECK(std::string(config_log_level_name(ConfigLogLevel::Debug)) == "debug");
  CHECK(std::string(config_platform_tpm_name(ConfigPlatformTpm::Emulated)) == "emulated");
}

TEST_CASE("tpm interface and guest command line", "[config]") {
  Config c;
  REQUIRE(parse("[vm a]\nimage = a.elf\nmemory = 16M\ntpm = crb\ncmdline = step=6 spin=100\n", c).error ==
          ConfigError::None);
  CHECK(c.vms[0].tpm);
  CHECK(c.vms[0].tpm_interface == ConfigTpmInterface::Crb);
  CHECK(std::string(c.vms[0].cmdline) == "step=6 spin=100");
  REQUIRE(parse("[vm a]\nimage = a.elf\nmemory = 16M\ntpm = on\n", c).error == ConfigError::None);
  CHECK(c.vms[0].tpm_interface == ConfigTpmInterface::Tis);
  CHECK(std::string(c.vms[0].cmdline).empty());
  REQUIRE(parse("[vm a]\nimage = a.elf\nmemory = 16M\ntpm = off\n", c).error == ConfigError::None);
  CHECK_FALSE(c.vms[0].tpm);
  refused("[vm a]\nimage=a\nmemory = 16M\ntpm = maybe", ConfigError::BadTpm, 4);
  refused("[vm a]\nimage=a\nmemory = 16M\ncmdline = " + std::string(2048, 'x'), ConfigError::BadCmdline, 4);
  refused("[vm a]\nimage=a\nmemory = 16M\ncmdline = a\x01" "b", ConfigError::BadCharacter, 4);
  refused("[vm a]\nimage=a\nmemory = 16M\ncmdline = x\ncmdline = y", ConfigError::DuplicateKey, 5);
}

TEST_CASE("exit_port (QEMU's isa-debug-exit convention)", "[config]") {
  Config c;
  REQUIRE(parse("[vm a]\nimage = a.elf\nmemory = 16M\n", c).error == ConfigError::None);
  CHECK(c.vms[0].exit_port == 0);  // none unless asked for
  REQUIRE(parse("[vm a]\nimage = a.elf\nmemory = 16M\nexit_port = 0xf4\n", c).error == ConfigError::None);
  CHECK(c.vms[0].exit_port == 0xF4);
  REQUIRE(parse("[vm a]\nimage = a.elf\nmemory = 16M\nexit_port = 65535\n", c).error == ConfigError::None);
  CHECK(c.vms[0].exit_port == 0xFFFF);
  refused("[vm a]\nimage=a\nmemory = 16M\nexit_port = 0", ConfigError::BadExitPort, 4);
  refused("[vm a]\nimage=a\nmemory = 16M\nexit_port = 0x10000", ConfigError::BadExitPort, 4);
  refused("[vm a]\nimage=a\nmemory = 16M\nexit_port = f4", ConfigError::BadExitPort, 4);
  refused("[vm a]\nimage=a\nmemory = 16M\nexit_port = 0xf4\nexit_port = 0xf4", ConfigError::DuplicateKey, 5);
}

TEST_CASE("vtpm_memory and engine", "[config]") {
  Config c;
  REQUIRE(parse("", c).error == ConfigError::None);
  CHECK(c.vtpm_memory_bytes == kConfigDefaultVtpmMemory);
  REQUIRE(parse("vtpm_memory = 32M\n[vm a]\nmemory = 2M\nimage = a.elf\nengine = hostile-engine\n"
                "[vm b]\nmemory = 2M\nimage = b.elf\n", c).error == ConfigError::None);
  CHECK(c.vtpm_memory_bytes == (32ull << 20));
  CHECK(std::strcmp(c.vms[0].engine, "hostile-engine") == 0);
  CHECK(c.vms[1].engine[0] == 0);  // the default: vtpm-service
  refused("vtpm_memory = 3M\n", ConfigError::MemoryNotAligned, 1);
  refused("vtpm_memory = 0\n", ConfigError::MemoryOutOfRange, 1);
  refused("vtpm_memory = 64M\nvtpm_memory = 64M\n", ConfigError::DuplicateKey, 2);
  refused("[vm a]\nmemory = 2M\nimage = a.elf\nengine = ../x\n", ConfigError::BadImageName, 4);
  refused("engine = x\n", ConfigError::UnknownKey, 1);
  CHECK(c.vtpm_budget_ms == kConfigDefaultVtpmBudgetMs);
  REQUIRE(parse("vtpm_budget_ms = 5000\n", c).error == ConfigError::None);
  CHECK(c.vtpm_budget_ms == 5000);
  refused("vtpm_budget_ms = 99\n", ConfigError::BadVtpmBudget, 1);
  refused("vtpm_budget_ms = 3600001\n", ConfigError::BadVtpmBudget, 1);
  refused("vtpm_budget_ms = 5s\n", ConfigError::BadNumber, 1);
  CHECK(c.vtpm_env[0] == 0);  // the default: no variable
  REQUIRE(parse("vtpm_env = OPENSSL_ia32cap=~0x0:~0x80100\n", c).error == ConfigError::None);
  CHECK(std::strcmp(c.vtpm_env, "OPENSSL_ia32cap=~0x0:~0x80100") == 0);
  refused("vtpm_env = NOEQUALS\n", ConfigError::BadVtpmEnv, 1);
  refused("vtpm_env = =value\n", ConfigError::BadVtpmEnv, 1);
  refused("vtpm_env = 1A=b\n", ConfigError::BadVtpmEnv, 1);
  refused("vtpm_env = A-B=c\n", ConfigError::BadVtpmEnv, 1);
  refused("vtpm_env = A=" + std::string(126, 'x') + "\n", ConfigError::BadVtpmEnv, 1);
  REQUIRE(parse("vtpm_env = A=" + std::string(125, 'x') + "\n", c).error == ConfigError::None);
  refused("vtpm_env = A=1\nvtpm_env = B=2\n", ConfigError::DuplicateKey, 2);
}

TEST_CASE("a Linux command line of 2047 characters (issue 14: at least 1 KiB)", "[config]") {
  Config c;
  const std::string cl = "console=ttyS0 earlyprintk=serial,ttyS0 " + std::string(2047 - 39, 'q');
  REQUIRE(cl.size() == 2047);
  REQUIRE(parse("[vm a]\nkernel = vmlinuz\nmemory = 1G\ncmdline = " + cl + "\n", c).error == ConfigError::None);
  CHECK(std::string(c.vms[0].cmdline) == cl);
  CHECK(std::string(c.vms[0].image) == "vmlinuz");
}

TEST_CASE("kernel = is image =, initrd =, module = lines", "[config]") {
  Config c;
  REQUIRE(parse("[vm l]\nmemory = 8G\nkernel = vmlinuz-6.1\ninitrd = initrd.img\ncmdline = console=ttyS0\n"
                "[vm m]\nmemory = 16M\nimage = mb.elf\nmodule = mod1.bin\nmodule = mod2.bin  arg=1  two words \n",
                c).error == ConfigError::None);
  REQUIRE(c.vm_count == 2);
  CHECK(c.vms[0].memory_bytes == (8ull << 30));
  CHECK(std::string(c.vms[0].image) == "vmlinuz-6.1");
  CHECK(std::string(c.vms[0].initrd) == "initrd.img");
  CHECK(c.vms[0].module_count == 0);
  CHECK(std::string(c.vms[1].initrd).empty());
  REQUIRE(c.vms[1].module_count == 2);
  CHECK(std::string(c.vms[1].modules[0].file) == "mod1.bin");
  CHECK(std::string(c.vms[1].modules[0].cmdline).empty());
  CHECK(std::string(c.vms[1].modules[1].file) == "mod2.bin");
  CHECK(std::string(c.vms[1].modules[1].cmdline) == "arg=1  two words");
  // kernel and image are one key; initrd once; a section needs one of them.
  refused("[vm a]\nmemory=2M\nimage=a\nkernel=b\n", ConfigError::DuplicateKey, 4);
  refused("[vm a]\nmemory=2M\nkernel=a\ninitrd=x\ninitrd=y\n", ConfigError::DuplicateKey, 5);
  refused("[vm a]\nmemory=2M\ninitrd=x\n", ConfigError::MissingImage, 1);
  refused("[vm a]\nmemory=2M\nkernel=a\ninitrd=../x\n", ConfigError::BadImageName, 4);
  refused("[vm a]\nmemory=2M\nkernel=a\nmodule=dir/m\n", ConfigError::BadModule, 4);
  refused("[vm a]\nmemory=2M\nkernel=a\nmodule=m " + std::string(256, 'x') + "\n", ConfigError::BadModule, 4);
  CHECK(parse("[vm a]\nmemory=2M\nkernel=a\nmodule=m " + std::string(255, 'x') + "\n", c).error == ConfigError::None);
  std::string text = "[vm a]\nmemory=2M\nkernel=a\n";
  for (size_t i = 0; i < kConfigMaxModules; ++i) text += "module = m" + std::to_string(i) + "\n";
  REQUIRE(parse(text, c).error == ConfigError::None);
  CHECK(c.vms[0].module_count == kConfigMaxModules);
  refused(text + "module = extra\n", ConfigError::TooManyModules, static_cast<uint32_t>(4 + kConfigMaxModules));
  // Modules do not leak from one section into the next.
  REQUIRE(parse("[vm a]\nmemory=2M\nkernel=a\nmodule=m\n[vm b]\nmemory=2M\nkernel=b\n", c).error == ConfigError::None);
  CHECK(c.vms[1].module_count == 0);
}

TEST_CASE("memory up to 64G parses (tens of GiB for Linux guests)", "[config]") {
  Config c;
  REQUIRE(parse("[vm a]\nmemory=48G\nkernel=a\n", c).error == ConfigError::None);
  CHECK(c.vms[0].memory_bytes == (48ull << 30));
  refused("[vm a]\nmemory=65G\nkernel=a\n", ConfigError::MemoryOutOfRange, 2);
}
