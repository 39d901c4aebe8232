// simd: probes whether SIMD register state crosses from one context to
// another on a CPU (issue 9, finding 3; docs/guests.md). Option role=N:
//   1 (writer): puts a secret in xmm0-7 (and the upper halves of ymm0-7
//     with AVX) first thing, then checks over several heartbeats that its
//     registers stay its own while other guests run on its CPU.
//   2 (reader): a fresh guest; its first instructions read xmm0-7/ymm0-7,
//     which must hold the architectural init state (zeros), not whatever
//     the previous owner of the CPU left. Then checks its own values keep.
//   3 (tpm): fills xmm0-7 with its values, sends TPM commands through TIS
//     (its vTPM engine runs in the service partition meanwhile, using SSE
//     itself), and checks after each that its registers are still its own.
//     It uses SSE without XSAVE (XCR0 stays 1, as a guest that never
//     executes XSETBV): a switch that saves only the XCR0 components would
//     save none of its XMM state.
// Lines: "simd: PASS <what>" / "simd: FAIL <what> ..." then "simd: DONE".
// A 32-bit guest sees only xmm0-7/ymm0-7; the VMM switches all of them.
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "simd";

namespace {
constexpr uint32_t kCr0Em = 1u << 2, kCr0Mp = 1u << 1, kCr0Ts = 1u << 3;
constexpr uint32_t kCr4Osfxsr = 1u << 9, kCr4Osxmmexcpt = 1u << 10, kCr4Osxsave = 1u << 18;
constexpr uint32_t kCpuid1EcxAvx = 1u << 28;
constexpr uint32_t kXcr0Avx = 0x7;
constexpr uint32_t kRegs = 8;          // xmm0-7 / ymm0-7 in 32-bit mode
constexpr uint32_t kYmmBytes = 32;

struct alignas(32) Image { uint8_t b[kRegs * kYmmBytes]; };

bool g_avx = false;

// SSE needs CR0.EM = 0 and CR4.OSFXSR (SDM 3A §13.1.3); AVX also XCR0[2:1] = 11b.
void enable_simd(bool avx) {
  write_cr0((read_cr0() & ~(kCr0Em | kCr0Ts)) | kCr0Mp);
  write_cr4(read_cr4() | kCr4Osfxsr | kCr4Osxmmexcpt);
  const CpuidResult c = cpuid(1);
  if (avx && (c.ecx & kCpuid1EcxXsave) && (c.ecx & kCpuid1EcxAvx) && (cpuid(0xD, 0).eax & kXcr0Avx) == kXcr0Avx) {
    write_cr4(read_cr4() | kCr4Osxsave);
    asm volatile("xsetbv" ::"c"(0), "a"(kXcr0Avx), "d"(0) : "memory");
    g_avx = true;
  }
}

// Register moves with explicit encodings' mnemonics: the guest is built
// without SSE (-mno-sse), so the compiler never touches these registers.
void store_xmm(Image& m) {
  asm volatile(
      "movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 32(%0)\n\tmovdqu %%xmm2, 64(%0)\n\tmovdqu %%xmm3, 96(%0)\n\t"
      "movdqu %%xmm4, 128(%0)\n\tmovdqu %%xmm5, 160(%0)\n\tmovdqu %%xmm6, 192(%0)\n\tmovdqu %%xmm7, 224(%0)"
      ::"r"(m.b) : "memory");
}
void store_ymm(Image& m) {
  asm volatile(
      "vmovdqu %%ymm0, 0(%0)\n\tvmovdqu %%ymm1, 32(%0)\n\tvmovdqu %%ymm2, 64(%0)\n\tvmovdqu %%ymm3, 96(%0)\n\t"
      "vmovdqu %%ymm4, 128(%0)\n\tvmovdqu %%ymm5, 160(%0)\n\tvmovdqu %%ymm6, 192(%0)\n\tvmovdqu %%ymm7, 224(%0)"
      ::"r"(m.b) : "memory");
}
void load_xmm(const Image& m) {
  asm volatile(
      "movdqu 0(%0), %%xmm0\n\tmovdqu 32(%0), %%xmm1\n\tmovdqu 64(%0), %%xmm2\n\tmovdqu 96(%0), %%xmm3\n\t"
      "movdqu 128(%0), %%xmm4\n\tmovdqu 160(%0), %%xmm5\n\tmovdqu 192(%0), %%xmm6\n\tmovdqu 224(%0), %%xmm7"
      ::"r"(m.b) : "memory");
}
void load_ymm(const Image& m) {
  asm volatile(
      "vmovdqu 0(%0), %%ymm0\n\tvmovdqu 32(%0), %%ymm1\n\tvmovdqu 64(%0), %%ymm2\n\tvmovdqu 96(%0), %%ymm3\n\t"
      "vmovdqu 128(%0), %%ymm4\n\tvmovdqu 160(%0), %%ymm5\n\tvmovdqu 192(%0), %%ymm6\n\tvmovdqu 224(%0), %%ymm7"
      ::"r"(m.b) : "memory");
}
void store(Image& m) {
  for (uint8_t& b : m.b) b = 0;
  if (g_avx) store_ymm(m);
  else store_xmm(m);
}
void load(const Image& m) {
  if (g_avx) load_ymm(m);
  else load_xmm(m);
}
uint32_t width() { return g_avx ? kYmmBytes : 16; }

// A pattern no init state and no other role has: seed in every byte.
void pattern(Image& m, uint8_t seed) {
  for (uint32_t r = 0; r < kRegs; ++r)
    for (uint32_t i = 0; i < kYmmBytes; ++i)
      m.b[r * kYmmBytes + i] = (i < width()) ? static_cast<uint8_t>(seed ^ (r * 37 + i * 11 + 1)) : 0;
}
// The first register/byte where `got` differs from `want` (within the
// width in use), or -1.
int32_t differs(const Image& got, const Image& want) {
  for (uint32_t r = 0; r < kRegs; ++r)
    for (uint32_t i = 0; i < width(); ++i)
      if (got.b[r * kYmmBytes + i] != want.b[r * kYmmBytes + i]) return static_cast<int32_t>(r * kYmmBytes + i);
  return -1;
}
uint32_t word_at(const Image& m, int32_t at) {
  const uint32_t base = static_cast<uint32_t>(at) & ~3u;
  return m.b[base] | (m.b[base + 1] << 8) | (m.b[base + 2] << 16) | (static_cast<uint32_t>(m.b[base + 3]) << 24);
}

void burn(uint32_t n) { asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc"); }

// Several heartbeats; registers must keep `want` across the slices of
// the other guests on this CPU.
void keep_checking(const Image& want, const char* what, uint32_t beats) {
  Image got;
  for (uint32_t beat = 1; beat <= beats; ++beat) {
    burn(option("spin", 3000000));
    store(got);
    const int32_t at = differs(got, want);
    if (at >= 0) {
      report_fail(what, "heartbeat %u: %s%u byte %u is 0x%x, want 0x%x", beat, g_avx ? "ymm" : "xmm",
                  static_cast<uint32_t>(at) / kYmmBytes, static_cast<uint32_t>(at) % kYmmBytes,
                  word_at(got, at), word_at(want, at));
      return;
    }
    print("simd: heartbeat %u, own registers intact\n", beat);
  }
  report_pass(what);
}

// ---- TIS (PTP §5.5.2, locality 0), as tests/guests/exits.cpp ----
constexpr uint32_t kTisBase = 0xFED40000;
constexpr uint32_t kPollLimit = 100000;
inline uint8_t peek8(uint32_t a) { return *reinterpret_cast<volatile uint8_t*>(a); }
inline void poke8(uint32_t a, uint8_t v) { *reinterpret_cast<volatile uint8_t*>(a) = v; }
template <typename Cond>
bool poll(Cond c) {
  for (uint32_t i = 0; i < kPollLimit; ++i)
    if (c()) return true;
  return false;
}
uint32_t tis_transact(const uint8_t* cmd, uint32_t len, uint8_t* rsp, uint32_t cap) {
  constexpr uint32_t kAccess = kTisBase + 0x00, kSts = kTisBase + 0x18, kFifo = kTisBase + 0x24;
  constexpr uint8_t kRequestUse = 0x02, kActive = 0x20, kRelinquish = 0x20;
  constexpr uint8_t kCommandReady = 0x40, kGo = 0x20, kDataAvail = 0x10, kValid = 0x80;
  poke8(kAccess, kRequestUse);
  if (!poll([] { return (peek8(kAccess) & kActive) != 0; })) return 0;
  poke8(kSts, kCommandReady);
  if (!poll([] { return (peek8(kSts) & kCommandReady) != 0; })) return 0;
  for (uint32_t i = 0; i < len; ++i) poke8(kFifo, cmd[i]);
  poke8(kSts, kGo);
  if (!poll([] { return (peek8(kSts) & (kValid | kDataAvail)) == (kValid | kDataAvail); })) return 0;
  uint32_t n = 0;
  while (n < cap && (peek8(kSts) & kDataAvail)) rsp[n++] = peek8(kFifo);
  poke8(kSts, kCommandReady);
  poke8(kAccess, kRelinquish);
  return n;
}

void writer() {
  Image secret;
  enable_simd(true);
  pattern(secret, 0x5E);
  load(secret);   // before anything else: the next guest on this CPU must not see it
  print("simd: secret in %s0-7\n", g_avx ? "ymm" : "xmm");
  keep_checking(secret, "writer-registers-kept", option("beats", 4));
}

void reader() {
  // The registers as this guest found them, before it writes any.
  Image first;
  enable_simd(true);
  store(first);
  Image zero;
  for (uint8_t& b : zero.b) b = 0;
  const int32_t at = differs(first, zero);
  if (at < 0) report_pass("fresh-registers-zero");
  else report_fail("fresh-registers-zero", "%s%u byte %u holds 0x%x (another context's state)", g_avx ? "ymm" : "xmm",
                   static_cast<uint32_t>(at) / kYmmBytes, static_cast<uint32_t>(at) % kYmmBytes, word_at(first, at));
  Image mine;
  pattern(mine, 0xA7);
  load(mine);
  keep_checking(mine, "reader-registers-kept", option("beats", 4));
}

void tpm() {
  constexpr uint8_t kStartupClear[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0};
  constexpr uint8_t kGetRandom32[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 32};
  enable_simd(false);
  Image mine, got;
  pattern(mine, 0x3C);
  load(mine);
  uint8_t rsp[64];
  const uint32_t n0 = tis_transact(kStartupClear, sizeof kStartupClear, rsp, sizeof rsp);
  bool ok = n0 == 10;
  for (uint32_t i = 0; ok && i < 8; ++i) {
    store(got);
    if (differs(got, mine) >= 0) break;
    ok = tis_transact(kGetRandom32, sizeof kGetRandom32, rsp, sizeof rsp) == 44;
  }
  store(got);
  const int32_t at = differs(got, mine);
  if (!ok) report_fail("registers-kept-across-tpm-commands", "a TPM command failed (startup length %u)", n0);
  else if (at < 0) report_pass("registers-kept-across-tpm-commands");
  else report_fail("registers-kept-across-tpm-commands", "%s%u byte %u is 0x%x after a TPM command (the engine's?)",
                   g_avx ? "ymm" : "xmm", static_cast<uint32_t>(at) / kYmmBytes, static_cast<uint32_t>(at) % kYmmBytes,
                   word_at(got, at));
}
}  // namespace

void main() {
  switch (option("role", 0)) {
    case 1: writer(); break;
    case 2: reader(); break;
    case 3: tpm(); break;
    default: report_skip("simd", "no role=1|2|3 option"); break;
  }
  finish();
}

}  // namespace guest
