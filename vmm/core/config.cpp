// mamori.cfg parser: see config.hpp and docs/config.md.
#include "config.hpp"

namespace mamori::core {
namespace {

// A slice of the input text.
struct Str {
  const char* p;
  size_t n;
  bool eq(const char* s) const {
    size_t i = 0;
    for (; i < n; ++i)
      if (s[i] == '\0' || s[i] != p[i]) return false;
    return s[i] == '\0';
  }
  char back() const { return p[n - 1]; }
};

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alnum(char c) { return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z'); }

Str trim(Str s) {
  while (s.n && is_space(s.p[0])) ++s.p, --s.n;
  while (s.n && is_space(s.back())) --s.n;
  return s;
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal, or hexadecimal with 0x/0X. No sign, no separators.
ConfigError parse_u64(Str s, uint64_t* out) {
  uint64_t base = 10;
  if (s.n > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
    base = 16;
    s.p += 2;
    s.n -= 2;
  }
  if (s.n == 0) return ConfigError::BadNumber;
  uint64_t v = 0;
  for (size_t i = 0; i < s.n; ++i) {
    const int d = base == 16 ? hex_value(s.p[i]) : (is_digit(s.p[i]) ? s.p[i] - '0' : -1);
    if (d < 0) return ConfigError::BadNumber;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) return ConfigError::NumberOverflow;
    v = v * base + static_cast<uint64_t>(d);
  }
  *out = v;
  return ConfigError::None;
}

bool copy_name(Str s, char* dst, size_t cap) {
  if (s.n == 0 || s.n >= cap) return false;
  for (size_t i = 0; i < s.n; ++i) dst[i] = s.p[i];
  dst[s.n] = '\0';
  return true;
}

ConfigError parse_vm_name(Str s, char* dst) {
  for (size_t i = 0; i < s.n; ++i)
    if (!is_alnum(s.p[i]) && s.p[i] != '_' && s.p[i] != '-') return ConfigError::BadVmName;
  return copy_name(s, dst, kConfigNameCap) ? ConfigError::None : ConfigError::BadVmName;
}

// A file name directly below \mamori\ (the loader reads it from there).
ConfigError parse_image(Str s, char* dst) {
  if (s.n == 0 || s.p[0] == '.') return ConfigError::BadImageName;
  for (size_t i = 0; i < s.n; ++i)
    if (!is_alnum(s.p[i]) && s.p[i] != '_' && s.p[i] != '-' && s.p[i] != '.')
      return ConfigError::BadImageName;
  return copy_name(s, dst, kConfigImageCap) ? ConfigError::None : ConfigError::BadImageName;
}

ConfigError parse_on_off(Str s, bool* out) {
  if (s.eq("on")) *out = true;
  else if (s.eq("off")) *out = false;
  else return ConfigError::BadOnOff;
  return ConfigError::None;
}

// Legacy COM port bases (PC/AT convention; firmware reports the same).
constexpr uint16_t kComPorts[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
constexpr uint64_t kMaxUartPort = 0xfff8;  // the 16550 decodes 8 consecutive ports

ConfigError parse_console(Str s, uint16_t* out) {
  const char* names[4] = {"com1", "com2", "com3", "com4"};
  for (int i = 0; i < 4; ++i)
    if (s.eq(names[i])) {
      *out = kComPorts[i];
      return ConfigError::None;
    }
  uint64_t v;
  if (parse_u64(s, &v) != ConfigError::None || v == 0 || v > kMaxUartPort)
    return ConfigError::BadConsole;
  *out = static_cast<uint16_t>(v);
  return ConfigError::None;
}

ConfigError parse_baud(Str s, uint32_t* out) {
  uint64_t v;
  if (ConfigError e = parse_u64(s, &v); e != ConfigError::None) return e;
  // 16550 divisor latch = 115200 / baud must be an exact integer ≥ 1.
  if (v == 0 || v > kUartClock || kUartClock % v != 0) return ConfigError::BadBaud;
  *out = static_cast<uint32_t>(v);
  return ConfigError::None;
}

ConfigError parse_memory(Str s, uint64_t* out) {
  uint64_t shift = 0;
  if (s.n > 0) {
    switch (s.back()) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      default: {
        // Not a suffix: a digit, a hex digit of a 0x number, or the x of a
        // bare "0x" (then a bad number, not a bad suffix).
        const char c = s.back();
        const bool hex = s.n >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X');
        if (!is_digit(c) && !(hex && (hex_value(c) >= 0 || s.n == 2)))
          return ConfigError::BadMemorySuffix;
      }
    }
    if (shift) --s.n;
  }
  uint64_t v;
  if (ConfigError e = parse_u64(trim(s), &v); e != ConfigError::None) return e;
  if (v > (UINT64_MAX >> shift)) return ConfigError::NumberOverflow;
  v <<= shift;
  if (v < kConfigMemoryUnit || v > kConfigMaxMemory) return ConfigError::MemoryOutOfRange;
  if (v % kConfigMemoryUnit != 0) return ConfigError::MemoryNotAligned;
  *out = v;
  return ConfigError::None;
}

// "0", "0,1", "0-3,6": CPU indices in MADT order.
ConfigError parse_cpus(Str s, uint64_t* out) {
  uint64_t mask = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.n; ++i) {
    if (i < s.n && s.p[i] != ',') continue;
    Str item = trim(Str{s.p + start, i - start});
    start = i + 1;
    if (item.n == 0) return ConfigError::BadCpuList;
    size_t dash = 0;
    while (dash < item.n && item.p[dash] != '-') ++dash;
    uint64_t lo, hi;
    if (parse_u64(trim(Str{item.p, dash}), &lo) != ConfigError::None) return ConfigError::BadCpuList;
    hi = lo;
    if (dash < item.n &&
        parse_u64(trim(Str{item.p + dash + 1, item.n - dash - 1}), &hi) != ConfigError::None)
      return ConfigError::BadCpuList;
    if (lo > hi || hi >= kConfigMaxCpus) return ConfigError::CpuOutOfRange;
    for (uint64_t c = lo; c <= hi; ++c) {
      if (mask & (1ull << c)) return ConfigError::DuplicateCpu;
      mask |= 1ull << c;
    }
  }
  *out = mask;
  return ConfigError::None;
}

// Keys: one bit each in a section's "seen" mask.
enum Key : uint32_t {
  kKeyConsole = 1u << 0,
  kKeyBaud = 1u << 1,
  kKeyLog = 1u << 2,
  kKeyPlatformTpm = 1u << 3,
  kKeyMemory = 1u << 4,
  kKeyCpus = 1u << 5,
  kKeyImage = 1u << 6,
  kKeyTpm = 1u << 7,
  kKeyCmdline = 1u << 8,
  kKeyVtpmMemory = 1u << 9,
  kKeyEngine = 1u << 10,
  kKeyVtpmBudget = 1u << 11,
  kKeyInitrd = 1u << 12,
  kKeyModule = 1u << 13,  // repeatable: never marked as seen
  kKeyVtpmEnv = 1u << 14,
  kKeyExitPort = 1u << 15,
};

// `tpm = on | off | tis | crb`: on means the TIS interface.
ConfigError parse_tpm(Str s, VmConfig& vm) {
  if (s.eq("off")) { vm.tpm = false; return ConfigError::None; }
  if (s.eq("on") || s.eq("tis")) { vm.tpm = true; vm.tpm_interface = ConfigTpmInterface::Tis; return ConfigError::None; }
  if (s.eq("crb")) { vm.tpm = true; vm.tpm_interface = ConfigTpmInterface::Crb; return ConfigError::None; }
  return ConfigError::BadTpm;
}

// Printable ASCII only: it reaches the guest as a C string.
ConfigError parse_cmdline(Str s, char* dst, size_t cap = kConfigCmdlineCap) {
  if (s.n >= cap) return ConfigError::BadCmdline;
  for (size_t i = 0; i < s.n; ++i)
    if (s.p[i] < 0x20 || s.p[i] > 0x7E) return ConfigError::BadCmdline;
  for (size_t i = 0; i < s.n; ++i) dst[i] = s.p[i];
  dst[s.n] = '\0';
  return ConfigError::None;
}

// `module = FILE [command line]`: the file name up to the first blank,
// the rest (trimmed) the module's string.
ConfigError parse_module(Str s, VmConfig& vm) {
  if (vm.module_count == kConfigMaxModules) return ConfigError::TooManyModules;
  size_t sp = 0;
  while (sp < s.n && !is_space(s.p[sp])) ++sp;
  ConfigModule& m = vm.modules[vm.module_count];
  m = ConfigModule{};
  if (parse_image(Str{s.p, sp}, m.file) != ConfigError::None) return ConfigError::BadModule;
  if (parse_cmdline(trim(Str{s.p + sp, s.n - sp}), m.cmdline, kConfigModuleCmdlineCap) != ConfigError::None)
    return ConfigError::BadModule;
  ++vm.module_count;
  return ConfigError::None;
}

ConfigError set_global(Config& c, Str key, Str v, uint32_t* seen) {
  uint32_t k;
  ConfigError e = ConfigError::None;
  if (key.eq("console")) k = kKeyConsole;
  else if (key.eq("baud")) k = kKeyBaud;
  else if (key.eq("log")) k = kKeyLog;
  else if (key.eq("platform_tpm")) k = kKeyPlatformTpm;
  else if (key.eq("vtpm_memory")) k = kKeyVtpmMemory;
  else if (key.eq("vtpm_budget_ms")) k = kKeyVtpmBudget;
  else if (key.eq("vtpm_env")) k = kKeyVtpmEnv;
  else return ConfigError::UnknownKey;
  if (*seen & k) return ConfigError::DuplicateKey;
  *seen |= k;
  switch (k) {
    case kKeyConsole: e = parse_console(v, &c.console_port); break;
    case kKeyBaud: e = parse_baud(v, &c.baud); break;
    case kKeyLog:
      if (v.eq("error")) c.log = ConfigLogLevel::Error;
      else if (v.eq("warn")) c.log = ConfigLogLevel::Warn;
      else if (v.eq("info")) c.log = ConfigLogLevel::Info;
      else if (v.eq("debug")) c.log = ConfigLogLevel::Debug;
      else e = ConfigError::BadLogLevel;
      break;
    case kKeyPlatformTpm:
      if (v.eq("hardware")) c.platform_tpm = ConfigPlatformTpm::Hardware;
      else if (v.eq("emulated")) c.platform_tpm = ConfigPlatformTpm::Emulated;
      else if (v.eq("none")) c.platform_tpm = ConfigPlatformTpm::None;
      else e = ConfigError::BadPlatformTpm;
      break;
    case kKeyVtpmMemory: e = parse_memory(v, &c.vtpm_memory_bytes); break;
    case kKeyVtpmBudget:
      e = parse_u64(v, &c.vtpm_budget_ms);
      if (e == ConfigError::None && (c.vtpm_budget_ms < kConfigMinVtpmBudgetMs || c.vtpm_budget_ms > kConfigMaxVtpmBudgetMs))
        e = ConfigError::BadVtpmBudget;
      break;
    case kKeyVtpmEnv: {
      // NAME=VALUE, NAME of letters, digits (not first) and '_' (as
      // OpenSSL's OPENSSL_ia32cap), VALUE printable.
      size_t eq = 0;
      while (eq < v.n && v.p[eq] != '=') ++eq;
      bool name_ok = eq > 0 && eq < v.n;
      for (size_t i = 0; name_ok && i < eq; ++i)
        name_ok = (v.p[i] >= 'A' && v.p[i] <= 'Z') || (v.p[i] >= 'a' && v.p[i] <= 'z') ||
                  (v.p[i] >= '0' && v.p[i] <= '9' && i > 0) || v.p[i] == '_';
      if (!name_ok || parse_cmdline(v, c.vtpm_env, kConfigVtpmEnvCap) != ConfigError::None) e = ConfigError::BadVtpmEnv;
      break;
    }
  }
  return e;
}

ConfigError set_vm(VmConfig& vm, Str key, Str v, uint32_t* seen) {
  uint32_t k;
  if (key.eq("memory")) k = kKeyMemory;
  else if (key.eq("cpus")) k = kKeyCpus;
  else if (key.eq("image") || key.eq("kernel")) k = kKeyImage;  // two names, one key
  else if (key.eq("initrd")) k = kKeyInitrd;
  else if (key.eq("module")) return parse_module(v, vm);
  else if (key.eq("console")) k = kKeyConsole;
  else if (key.eq("tpm")) k = kKeyTpm;
  else if (key.eq("cmdline")) k = kKeyCmdline;
  else if (key.eq("engine")) k = kKeyEngine;
  else if (key.eq("exit_port")) k = kKeyExitPort;
  else return ConfigError::UnknownKey;
  if (*seen & k) return ConfigError::DuplicateKey;
  *seen |= k;
  switch (k) {
    case kKeyMemory: return parse_memory(v, &vm.memory_bytes);
    case kKeyCpus: return parse_cpus(v, &vm.cpu_mask);
    case kKeyImage: return parse_image(v, vm.image);
    case kKeyConsole: return parse_on_off(v, &vm.console);
    case kKeyTpm: return parse_tpm(v, vm);
    case kKeyCmdline: return parse_cmdline(v, vm.cmdline);
    case kKeyEngine: return parse_image(v, vm.engine);
    case kKeyInitrd: return parse_image(v, vm.initrd);
    case kKeyExitPort: {
      uint64_t port;
      if (parse_u64(v, &port) != ConfigError::None || port == 0 || port > 0xFFFF) return ConfigError::BadExitPort;
      vm.exit_port = static_cast<uint16_t>(port);
      return ConfigError::None;
    }
  }
  return ConfigError::UnknownKey;
}

ConfigError check_vm_complete(uint32_t seen) {
  if (!(seen & kKeyMemory)) return ConfigError::MissingMemory;
  if (!(seen & kKeyImage)) return ConfigError::MissingImage;
  return ConfigError::None;
}

// "[vm NAME]" (spaces allowed around the parts).
ConfigError parse_section(Str s, Config& c) {
  if (s.back() != ']') return ConfigError::BadSection;
  Str inner = trim(Str{s.p + 1, s.n - 2});
  if (inner.n < 2 || inner.p[0] != 'v' || inner.p[1] != 'm') return ConfigError::BadSection;
  if (inner.n == 2 || !is_space(inner.p[2])) return ConfigError::BadSection;
  Str name = trim(Str{inner.p + 2, inner.n - 2});
  if (c.vm_count == kConfigMaxVms) return ConfigError::TooManyVms;
  VmConfig& vm = c.vms[c.vm_count];
  vm = VmConfig{};
  if (ConfigError e = parse_vm_name(name, vm.name); e != ConfigError::None) return e;
  for (size_t i = 0; i < c.vm_count; ++i)
    if (name.eq(c.vms[i].name)) return ConfigError::DuplicateVmName;
  vm.cpu_mask = 1;   // CPU 0 unless `cpus` says otherwise
  vm.console = true;  // a guest's serial output is shown unless told otherwise
  vm.tpm = true;     // every guest gets its own TPM unless told not to
  ++c.vm_count;
  return ConfigError::None;
}

}  // namespace

void config_defaults(Config& c) {
  c = Config{};
  c.console_port = kComPorts[0];
  c.baud = kUartClock;
  c.log = ConfigLogLevel::Info;
  c.platform_tpm = ConfigPlatformTpm::Hardware;
  c.vtpm_memory_bytes = kConfigDefaultVtpmMemory;
  c.vtpm_budget_ms = kConfigDefaultVtpmBudgetMs;
  c.vtpm_env[0] = '\0';
}

ConfigResult parse_config(const char* text, size_t len, Config& c) {
  config_defaults(c);
  if (text == nullptr && len != 0) return {ConfigError::NullInput, 0};
  uint32_t line_no = 0;
  uint32_t seen = 0;          // keys seen in the current section
  bool in_vm = false;
  for (size_t pos = 0; pos < len;) {
    ++line_no;
    size_t end = pos;
    while (end < len && text[end] != '\n') ++end;
    Str line{text + pos, end - pos};
    pos = end + 1;
    if (line.n && line.back() == '\r') --line.n;  // CRLF files from Windows editors
    if (line.n > kConfigMaxLine) return {ConfigError::LineTooLong, line_no};
    for (size_t i = 0; i < line.n; ++i) {
      const unsigned char ch = static_cast<unsigned char>(line.p[i]);
      if (ch == 0) return {ConfigError::NulByte, line_no};
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return {ConfigError::BadCharacter, line_no};
    }
    for (size_t i = 0; i < line.n; ++i)
      if (line.p[i] == '#') line.n = i;  // comment to end of line
    line = trim(line);
    if (line.n == 0) continue;

    if (line.p[0] == '[') {
      if (in_vm)
        if (ConfigError e = check_vm_complete(seen); e != ConfigError::None)
          return {e, c.vms[c.vm_count - 1].line};
      if (ConfigError e = parse_section(line, c); e != ConfigError::None) return {e, line_no};
      c.vms[c.vm_count - 1].line = line_no;
      in_vm = true;
      seen = 0;
      continue;
    }
    size_t eq = 0;
    while (eq < line.n && line.p[eq] != '=') ++eq;
    if (eq == line.n) return {ConfigError::MissingEquals, line_no};
    const Str key = trim(Str{line.p, eq});
    const Str value = trim(Str{line.p + eq + 1, line.n - eq - 1});
    if (key.n == 0) return {ConfigError::EmptyKey, line_no};
    for (size_t i = 0; i < key.n; ++i)
      if (!is_lower(key.p[i]) && !is_digit(key.p[i]) && key.p[i] != '_')
        return {ConfigError::BadKey, line_no};
    if (value.n == 0) return {ConfigError::EmptyValue, line_no};
    const ConfigError e = in_vm ? set_vm(c.vms[c.vm_count - 1], key, value, &seen)
                                : set_global(c, key, value, &seen);
    if (e != ConfigError::None) return {e, line_no};
  }
  if (in_vm)
    if (ConfigError e = check_vm_complete(seen); e != ConfigError::None)
      return {e, c.vms[c.vm_count - 1].line};
  return {ConfigError::None, 0};
}

const char* describe(ConfigError e) {
  switch (e) {
    case ConfigError::None: return "ok";
    case ConfigError::NullInput: return "no configuration text";
    case ConfigError::NulByte: return "NUL character in the text";
    case ConfigError::BadCharacter: return "control character in the text";
    case ConfigError::LineTooLong: return "line longer than 4095 characters";
    case ConfigError::MissingEquals: return "expected \"key = value\" or \"[vm NAME]\"";
    case ConfigError::EmptyKey: return "missing key before '='";
    case ConfigError::EmptyValue: return "missing value after '='";
    case ConfigError::BadKey: return "key may only contain a-z, 0-9 and _";
    case ConfigError::UnknownKey: return "unknown key in this section";
    case ConfigError::DuplicateKey: return "key given twice in this section";
    case ConfigError::BadSection: return "bad section header, expected [vm NAME]";
    case ConfigError::BadVmName: return "VM name must be 1-31 characters of A-Z a-z 0-9 _ -";
    case ConfigError::DuplicateVmName: return "VM name used twice";
    case ConfigError::TooManyVms: return "too many [vm] sections (at most 16)";
    case ConfigError::BadTpm: return "tpm must be on, off, tis or crb";
    case ConfigError::BadCmdline: return "cmdline must be printable ASCII, at most 2047 characters";
    case ConfigError::BadNumber: return "not a number (decimal, or hexadecimal with 0x)";
    case ConfigError::NumberOverflow: return "number too large";
    case ConfigError::BadConsole: return "console must be com1..com4 or an I/O port 1..0xfff8";
    case ConfigError::BadBaud: return "baud must divide 115200 (e.g. 9600, 38400, 57600, 115200)";
    case ConfigError::BadLogLevel: return "log must be error, warn, info or debug";
    case ConfigError::BadPlatformTpm: return "platform_tpm must be hardware, emulated or none";
    case ConfigError::BadOnOff: return "value must be on or off";
    case ConfigError::BadMemorySuffix: return "memory suffix must be K, M or G";
    case ConfigError::MemoryNotAligned: return "memory must be a multiple of 2M";
    case ConfigError::MemoryOutOfRange: return "memory must be between 2M and 64G";
    case ConfigError::BadVtpmBudget: return "vtpm_budget_ms must be between 100 and 3600000";
    case ConfigError::BadExitPort: return "exit_port must be an I/O port number 1..0xFFFF, e.g. 0xf4";
    case ConfigError::BadVtpmEnv: return "vtpm_env must be NAME=VALUE (NAME of letters, digits, _), at most 127 characters";
    case ConfigError::BadCpuList: return "cpus must be a list like 0 or 0,1 or 0-3";
    case ConfigError::CpuOutOfRange: return "cpu index must be 0..63 (and a range low-high)";
    case ConfigError::DuplicateCpu: return "cpu listed twice";
    case ConfigError::BadImageName: return "image must be a file name (A-Z a-z 0-9 . _ -, not starting with '.', at most 63)";
    case ConfigError::MissingMemory: return "[vm] section has no memory = line";
    case ConfigError::MissingImage: return "[vm] section has no image = (or kernel =) line";
    case ConfigError::TooManyModules: return "more than 8 module = lines in this section";
    case ConfigError::BadModule:
      return "module must be a file name (as for image), optionally followed by printable text of at most 255 characters";
  }
  return "unknown configuration error";
}

const char* config_log_level_name(ConfigLogLevel l) {
  switch (l) {
    case ConfigLogLevel::Error: return "error";
    case ConfigLogLevel::Warn: return "warn";
    case ConfigLogLevel::Info: return "info";
    case ConfigLogLevel::Debug: return "debug";
  }
  return "?";
}

const char* config_platform_tpm_name(ConfigPlatformTpm t) {
  switch (t) {
    case ConfigPlatformTpm::Hardware: return "hardware";
    case ConfigPlatformTpm::Emulated: return "emulated";
    case ConfigPlatformTpm::None: return "none";
  }
  return "?";
}

}  // namespace mamori::core
