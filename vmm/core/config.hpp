// mamori.cfg parser (format: docs/config.md).
//
// Untrusted text from the boot volume → a fixed-capacity Config. Refuses
// anything it does not understand (unknown keys, duplicates, bad numbers,
// overflowing numbers, stray characters) with the line number and a reason:
// a typo must not silently boot something other than what was meant.
// No allocation; the text need not be NUL-terminated.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::core {

inline constexpr size_t kConfigMaxVms = 16;
inline constexpr size_t kConfigNameCap = 32;    // VM name incl. NUL: 31 characters
inline constexpr size_t kConfigImageCap = 64;   // = boot::kFileNameLen: 63 characters
// Guest command line incl. NUL: 2047 characters, Linux's x86 COMMAND_LINE_SIZE
// (arch/x86/include/asm/setup.h) less its NUL; a kernel with a smaller
// cmdline_size refuses a longer one at guest creation.
inline constexpr size_t kConfigCmdlineCap = 2048;
inline constexpr size_t kConfigMaxModules = 8;  // `module =` lines per VM
inline constexpr size_t kConfigModuleCmdlineCap = 256;  // a module's command line incl. NUL
inline constexpr size_t kConfigVtpmEnvCap = 128;        // vtpm_env incl. NUL
inline constexpr size_t kConfigMaxLine = 4095;  // characters, without the line end
inline constexpr uint32_t kConfigMaxCpus = 64;  // cpu indices 0..63 (a 64-bit mask)
inline constexpr uint64_t kConfigMemoryUnit = 2ull << 20;  // guest RAM is 2 MiB pages
inline constexpr uint64_t kConfigMaxMemory = 64ull << 30;
inline constexpr uint64_t kConfigDefaultVtpmMemory = 64ull << 20;  // ~10x what vtpm-service uses
inline constexpr uint64_t kConfigDefaultVtpmBudgetMs = 60000;      // against endless loops, not for latency
inline constexpr uint64_t kConfigMinVtpmBudgetMs = 100, kConfigMaxVtpmBudgetMs = 3600000;
inline constexpr uint32_t kUartClock = 115200;  // 16550: 1.8432 MHz / 16, divisor = clock / baud

enum class ConfigLogLevel : uint8_t { Error, Warn, Info, Debug };
enum class ConfigPlatformTpm : uint8_t { Hardware, Emulated, None };
enum class ConfigTpmInterface : uint8_t { Tis, Crb };

// A Multiboot module (`module = FILE [command line]`, docs/config.md).
struct ConfigModule {
  char file[kConfigImageCap];           // below \mamori\ on the boot volume
  char cmdline[kConfigModuleCmdlineCap];// the module's string (may be empty)
};

struct VmConfig {
  char name[kConfigNameCap];
  uint64_t memory_bytes;
  uint64_t cpu_mask;          // bit n: the VM runs on the VMM's CPU n (0 = bootstrap CPU)
  char image[kConfigImageCap];// file name below \mamori\ on the boot volume (`image =` or `kernel =`)
  char initrd[kConfigImageCap];// initrd / initramfs file (empty: none)
  ConfigModule modules[kConfigMaxModules];  // Multiboot modules, in file order
  size_t module_count;
  bool console;               // guest serial output to the console
  bool tpm;                   // the VM gets its own vTPM
  ConfigTpmInterface tpm_interface;  // how its TPM appears (when tpm)
  char cmdline[kConfigCmdlineCap];   // the kernel command line (Multiboot: after the VM name)
  char engine[kConfigImageCap];      // its vTPM engine's file below \mamori\ (empty: vtpm-service)
  uint16_t exit_port;         // `exit_port`: an OUT there stops it with status (value << 1) | 1 (0: none)
  uint32_t line;              // line of its [vm NAME] header
};

struct Config {
  uint16_t console_port;      // I/O port of the 16550
  uint32_t baud;
  ConfigLogLevel log;
  ConfigPlatformTpm platform_tpm;
  uint64_t vtpm_memory_bytes; // memory quota of each vTPM engine process (docs/security.md)
  uint64_t vtpm_budget_ms;    // CPU budget of each engine exchange (a TPM command, init, ...)
  char vtpm_env[kConfigVtpmEnvCap];  // one NAME=VALUE in every engine's environment ("" = none)
  VmConfig vms[kConfigMaxVms];
  size_t vm_count;
};

// Defaults: console = com1, baud = 115200, log = info, platform_tpm = hardware,
// vtpm_memory = 64M, vtpm_budget_ms = 60000.
void config_defaults(Config& out);

enum class ConfigError : uint32_t {
  None = 0,
  NullInput,          // text null with a non-zero length
  NulByte,            // a NUL character inside the text
  BadCharacter,       // a control character (other than tab, CR before LF)
  LineTooLong,        // more than kConfigMaxLine characters
  MissingEquals,      // a line that is neither "key = value", "[vm NAME]" nor blank/comment
  EmptyKey,
  EmptyValue,
  BadKey,             // key with characters other than a-z, 0-9, _
  UnknownKey,         // not a key of this section
  DuplicateKey,       // same key twice in a section
  BadSection,         // "[...]" other than "[vm NAME]", or trailing text after ']'
  BadVmName,          // empty, too long, or characters other than A-Z a-z 0-9 _ -
  DuplicateVmName,
  TooManyVms,         // more than kConfigMaxVms sections
  BadNumber,          // not a decimal or 0x-hex number
  NumberOverflow,     // does not fit 64 bits (or the suffix multiplication overflows)
  BadConsole,         // not com1..com4 or a port number 1..0xfff8
  BadBaud,            // 0, or does not divide 115200 (no exact 16550 divisor)
  BadLogLevel,        // not error|warn|info|debug
  BadPlatformTpm,     // not hardware|emulated|none
  BadOnOff,           // not on|off
  BadTpm,             // not on|off|tis|crb
  BadCmdline,         // longer than 2047 characters, or a non-printable character
  BadMemorySuffix,    // suffix other than K, M, G
  MemoryNotAligned,   // not a multiple of 2 MiB
  MemoryOutOfRange,   // below 2 MiB or above 64 GiB
  BadCpuList,         // syntax: "0", "0,1", "0-3"
  CpuOutOfRange,      // index ≥ 64 or a range with start > end
  DuplicateCpu,       // same CPU listed twice in one list
  BadImageName,       // empty, too long, path separators, leading '.', other characters
  MissingMemory,      // [vm] section without memory = (line: its header)
  MissingImage,       // [vm] section without image = (line: its header)
  BadVtpmBudget,      // vtpm_budget_ms outside 100..3600000
  BadVtpmEnv,         // vtpm_env not NAME=VALUE (NAME of letters, digits, _), or longer than 127 characters
  TooManyModules,     // more than kConfigMaxModules `module =` lines in a section
  BadModule,          // `module =` without a valid file name first, or a bad command line after it
  BadExitPort,        // exit_port not a port number 1..0xFFFF
};

const char* describe(ConfigError e);

struct ConfigResult {
  ConfigError error;
  uint32_t line;      // 1-based line of the error; 0 when not tied to a line
};

// Parses text[0..len). On success `out` holds defaults overridden by the
// file. On error `out` is partly filled and must not be used.
ConfigResult parse_config(const char* text, size_t len, Config& out);

const char* config_log_level_name(ConfigLogLevel l);
const char* config_platform_tpm_name(ConfigPlatformTpm t);

}  // namespace mamori::core
