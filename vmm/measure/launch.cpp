#include "launch.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::measure {
namespace {
constexpr char kCmdlinePrefix[] = "kernel_cmdline: ";   // GRUB's (grub-core/commands/tpm.c)
constexpr char kModuleCmdlinePrefix[] = "module_cmdline: ";
constexpr char kVersionPrefix[] = "mamori ";
constexpr size_t kVersionMax = 64;

size_t cstr_len(const char* s) {
  size_t n = 0;
  if (s) while (s[n]) ++n;
  return n;
}
const uint8_t* u8p(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

bool is_section_header(const char* line, size_t n) {
  size_t i = 0;
  while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < n && line[i] == '[';
}

// A string event as GRUB logs one (grub-core/commands/tpm.c): digest of s
// alone, without its NUL; data = prefix + s + NUL (tpm2_eventlog checks
// the digest against the text after the first space).
bool string_event(EventSink& sink, const Banks& banks, uint32_t pcr, const char* prefix, const char* s) {
  Digests d;
  const size_t n = cstr_len(s);
  hash_all(banks, u8p(s), n, d);
  return sink.event(pcr, kEvIpl, d, u8p(prefix), cstr_len(prefix), u8p(s), n + 1);
}

bool same_banks(const Banks& a, const Banks& b) {
  if (a.count != b.count) return false;
  for (size_t i = 0; i < a.count; ++i)
    if (a.alg[i] != b.alg[i]) return false;
  return true;
}

bool file_event(EventSink& sink, const Banks& banks, uint32_t pcr, const LaunchFile& f, FileDigestCache* cache) {
  Digests d;
  if (const Digests* known = cache ? cache->find(f.data, f.size, banks) : nullptr) {
    d = *known;
  } else {
    hash_all(banks, f.data, f.size, d);
    if (cache) cache->add(f.data, f.size, banks, d);
  }
  return sink.event(pcr, kEvIpl, d, u8p(f.name), cstr_len(f.name), nullptr, 0);
}
}  // namespace

const Digests* FileDigestCache::find(const uint8_t* data, uint64_t size, const Banks& banks) const {
  for (const Entry& e : e_)
    if (e.used && e.data == data && e.size == size && same_banks(e.banks, banks)) return &e.d;
  return nullptr;
}

void FileDigestCache::add(const uint8_t* data, uint64_t size, const Banks& banks, const Digests& d) {
  e_[next_] = {data, size, banks, d, true};
  next_ = (next_ + 1) % kEntries;
}

bool config_section(const char* text, size_t len, uint32_t header_line, const char*& section, size_t& section_len) {
  if (!text || header_line == 0) return false;
  size_t at = 0;
  for (uint32_t line = 1; line < header_line; ++line) {
    while (at < len && text[at] != '\n') ++at;
    if (at == len) return false;
    ++at;
  }
  if (at == len) return false;
  const size_t start = at;
  bool first = true;
  while (at < len) {
    size_t end = at;
    while (end < len && text[end] != '\n') ++end;
    if (!first && is_section_header(text + at, end - at)) break;
    first = false;
    at = end < len ? end + 1 : end;
  }
  section = text + start;
  section_len = at - start;
  return true;
}

bool launch_events(const LaunchInputs& in, const Banks& banks, EventSink& sink) {
  Digests d;
  // PCR 0: the platform's firmware version, as EDK2 logs its
  // PcdFirmwareVersionString (UCS-2 with its NUL; PFP §10.4.1 EV_S_CRTM_VERSION).
  uint8_t version[2 * (sizeof kVersionPrefix + kVersionMax)];
  size_t vn = 0;
  const char* parts[2] = {kVersionPrefix, in.version};
  for (const char* s : parts)
    for (size_t i = 0; s && s[i] && i < kVersionMax; ++i) version[vn++] = static_cast<uint8_t>(s[i]), version[vn++] = 0;
  version[vn++] = 0, version[vn++] = 0;
  hash_all(banks, version, vn, d);
  if (!sink.event(kPcrPlatformCode, kEvSCrtmVersion, d, version, vn, nullptr, 0)) return false;
  // PCR 1: the platform's configuration: this guest's section of mamori.cfg.
  hash_all(banks, u8p(in.config_section), in.config_section_len, d);
  if (!sink.event(kPcrPlatformConfig, kEvPlatformConfigFlags, d, u8p(in.config_section), in.config_section_len,
                  nullptr, 0))
    return false;
  // PCRs 0-7: EV_SEPARATOR, digest of the 4-byte value 0 (PFP §10.4.4).
  const uint8_t sep[4] = {0, 0, 0, 0};
  hash_all(banks, sep, sizeof sep, d);
  for (uint32_t pcr = 0; pcr <= 7; ++pcr)
    if (!sink.event(pcr, kEvSeparator, d, sep, sizeof sep, nullptr, 0)) return false;
  // What the boot loader would measure: the kernel (PCR 4), the strings
  // (PCR 8) and the other files (PCR 9).
  if (!file_event(sink, banks, kPcrBootLoader, in.kernel, in.cache)) return false;
  if (!string_event(sink, banks, kPcrStrings, kCmdlinePrefix, in.kernel.cmdline ? in.kernel.cmdline : ""))
    return false;
  for (size_t i = 0; i < in.module_count && i < kLaunchMaxModules; ++i)
    if (cstr_len(in.modules[i].cmdline) &&
        !string_event(sink, banks, kPcrStrings, kModuleCmdlinePrefix, in.modules[i].cmdline))
      return false;
  for (size_t i = 0; i < in.module_count && i < kLaunchMaxModules; ++i)
    if (!file_event(sink, banks, kPcrFiles, in.modules[i], in.cache)) return false;
  return true;
}

const char* describe(LaunchError e) {
  switch (e) {
    case LaunchError::None: return "measured";
    case LaunchError::NoAnswer: return "the TPM did not answer";
    case LaunchError::Startup: return "TPM2_Startup(CLEAR) failed";
    case LaunchError::Capability: return "TPM2_GetCapability(TPM_CAP_PCRS) failed";
    case LaunchError::Banks: return "its PCR banks cannot be measured";
    case LaunchError::Extend: return "TPM2_PCR_Extend failed";
    case LaunchError::LogFull: return "the event log does not fit its area";
  }
  return "?";
}

namespace {
class Done final : public vtpm::TpmCompletion {
 public:
  void complete(vtpm::SubmissionId, size_t len) override {
    done = true;
    rsp_len = len;
  }
  bool done = false;
  size_t rsp_len = 0;
};

// One command, synchronously; its response code (TPM_RC_FAILURE if the
// backend answered nothing usable).
constexpr size_t kRspCap = 512;  // the largest answer here is TPM_CAP_PCRS (~40 bytes)
struct Link {
  vtpm::TpmBackend& tpm;
  uint8_t rsp[kRspCap];
  size_t rsp_len = 0;
  vtpm::SubmissionId next = 1;
  bool answered = true;
  uint32_t send(const uint8_t* cmd, size_t n) {
    Done done;
    tpm.submit(next++, 0, cmd, n, rsp, sizeof rsp, done);
    answered = done.done;
    rsp_len = done.done && done.rsp_len <= sizeof rsp ? done.rsp_len : 0;
    return response_code(rsp, rsp_len);
  }
};

class TpmSink final : public EventSink {
 public:
  TpmSink(Link& l, EventLogWriter& w, LaunchResult& r) : link_(l), log_(w), r_(r) {}
  bool event(uint32_t pcr, uint32_t type, const Digests& d, const uint8_t* data, size_t len, const uint8_t* more,
             size_t more_len) override {
    uint8_t cmd[kExtendCommandMax];
    const size_t n = encode_pcr_extend(pcr, r_.banks, d, cmd, sizeof cmd);
    const uint32_t rc = link_.send(cmd, n);
    if (!link_.answered) return fail(LaunchError::NoAnswer, rc);
    if (rc != vtpm::protocol::kTpmRcSuccess) return fail(LaunchError::Extend, rc);
    if (!log_.add(pcr, type, d, data, len, more, more_len)) return fail(LaunchError::LogFull, 0);
    ++r_.events;
    return true;
  }

 private:
  bool fail(LaunchError e, uint32_t rc) {
    r_.error = e;
    r_.rc = rc;
    return false;
  }
  Link& link_;
  EventLogWriter& log_;
  LaunchResult& r_;
};

class ReplaySink final : public EventSink {
 public:
  ReplaySink(EventLogWriter& w, PcrReplay& p) : log_(w), pcrs_(p) {}
  bool event(uint32_t pcr, uint32_t type, const Digests& d, const uint8_t* data, size_t len, const uint8_t* more,
             size_t more_len) override {
    pcrs_.extend(pcr, d);
    return log_.add(pcr, type, d, data, len, more, more_len);
  }

 private:
  EventLogWriter& log_;
  PcrReplay& pcrs_;
};
}  // namespace

bool expected_launch(const LaunchInputs& in, uint8_t* log, size_t log_cap, size_t& log_bytes, PcrReplay& pcrs) {
  for (size_t i = 0; i < log_cap; ++i) log[i] = 0;
  EventLogWriter w(log, log_cap, pcrs.banks());
  ReplaySink sink(w, pcrs);
  const bool ok = !w.overflowed() && launch_events(in, pcrs.banks(), sink);
  log_bytes = w.size();
  return ok;
}

LaunchResult measure_launch(vtpm::TpmBackend& tpm, const LaunchInputs& in, uint8_t* log, size_t log_cap) {
  LaunchResult r;
  Link link{tpm};
  uint8_t cmd[32];
  uint32_t rc = link.send(cmd, encode_startup_clear(cmd, sizeof cmd));
  if (!link.answered) return r.error = LaunchError::NoAnswer, r;
  r.already_started = rc == kTpmRcInitialize;
  if (rc != vtpm::protocol::kTpmRcSuccess && !r.already_started) return r.error = LaunchError::Startup, r.rc = rc, r;
  rc = link.send(cmd, encode_get_pcr_banks(cmd, sizeof cmd));
  if (!link.answered) return r.error = LaunchError::NoAnswer, r;
  if (rc != vtpm::protocol::kTpmRcSuccess) return r.error = LaunchError::Capability, r.rc = rc, r;
  r.banks_status = parse_pcr_banks(link.rsp, link.rsp_len, r.banks, r.unsupported_alg);
  if (r.banks_status != BanksStatus::Ok) return r.error = LaunchError::Banks, r;
  for (size_t i = 0; i < log_cap; ++i) log[i] = 0;
  EventLogWriter w(log, log_cap, r.banks);
  if (w.overflowed()) return r.error = LaunchError::LogFull, r;
  TpmSink sink(link, w, r);
  launch_events(in, r.banks, sink);
  r.log_bytes = w.size();
  return r;
}

}  // namespace mamori::measure
