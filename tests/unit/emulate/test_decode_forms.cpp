// Decoder against gas: each FORM in decode_forms.S is decoded and compared
// with the semantics written here; lengths must equal gas's and objdump's.
#include <stdio.h>
#include <string.h>

#include <catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "vmm/emulate/decoder.hpp"

using namespace mamori::emulate;

extern "C" {
struct FormEntry {
  const uint8_t* bytes;
  const char* text;
  uint8_t length;
  uint8_t mode;
  uint8_t pad[6];
};
extern const FormEntry mamori_dec_table_begin[];
extern const FormEntry mamori_dec_table_end[];
extern const uint8_t mamori_dec_section_16[];
extern const uint8_t mamori_dec_section_32[];
extern const uint8_t mamori_dec_section_64[];
}

namespace {

struct Want {
  std::string text;
  Status status = Status::Ok;
  Direction dir = Direction::Read;
  uint8_t size = 0;
  Gpr reg = Gpr::Rax;
  bool high = false;
  uint8_t reg_size = 0;
  Extend ext = Extend::None;
  uint64_t value = 0;
  StringOp str = StringOp::None;
  bool rep = false;
  uint64_t count = 1;
  Segment seg = Segment::Ds;
  uint8_t asz = 0;  // 0: mode default

  Want& segment(Segment s) { seg = s; return *this; }
  Want& addr(uint8_t a) { asz = a; return *this; }
};

Want rd(const char* t, uint8_t size, Gpr reg, uint8_t reg_size, Extend ext = Extend::None) {
  Want w;
  w.text = t, w.dir = Direction::Read, w.size = size, w.reg = reg, w.reg_size = reg_size, w.ext = ext;
  return w;
}
Want rdh(const char* t, Gpr reg) {
  Want w = rd(t, 1, reg, 1);
  w.high = true;
  return w;
}
Want wr(const char* t, uint8_t size, uint64_t value) {
  Want w;
  w.text = t, w.dir = Direction::Write, w.size = size, w.value = value;
  return w;
}
Want str(const char* t, StringOp op, uint8_t size, bool rep, uint64_t value = 0) {
  Want w;
  w.text = t, w.str = op, w.size = size, w.rep = rep, w.value = value;
  w.dir = op == StringOp::Movs ? Direction::Copy : Direction::Write;
  w.count = rep ? 3 : 1;  // rCX = 3 in the register file below
  w.seg = op == StringOp::Stos ? Segment::Es : Segment::Ds;
  return w;
}
Want un(const char* t) {
  Want w;
  w.text = t, w.status = Status::Unsupported;
  return w;
}

// Register file: rax = 0x1122334455667788, rcx = 3, rN = 0x0101..01 * (N + 1).
Gprs test_regs() {
  Gprs r{};
  for (unsigned i = 0; i < kNumGprs; ++i) r.gpr[i] = 0x0101010101010101ull * (i + 1);
  r[Gpr::Rax] = 0x1122334455667788ull;
  r[Gpr::Rcx] = 3;
  return r;
}

const std::vector<Want>& wants() {
  static const std::vector<Want> w = {
      // 64-bit
      wr("movb %al,(%rdx)", 1, 0x88),
      wr("movb %ah,(%rdx)", 1, 0x77),
      wr("movb %sil,(%rdx)", 1, 0x07),
      wr("movb %r9b,0x24(%r10)", 1, 0x0A),
      wr("movw %ax,(%rdx)", 2, 0x7788),
      wr("movl %eax,(%rdx)", 4, 0x55667788),
      wr("movl %r8d,0x18(%rdi)", 4, 0x09090909),
      wr("movq %rax,(%rdx)", 8, 0x1122334455667788ull),
      wr("movq %r15,0x12345678(%rsp,%rcx,8)", 8, 0x1010101010101010ull),
      rd("movb (%rdx),%al", 1, Gpr::Rax, 1),
      rdh("movb 0x24(%rbx),%ch", Gpr::Rcx),
      rd("movb (%rdx),%r11b", 1, Gpr::R11, 1),
      rd("movw (%rdx),%ax", 2, Gpr::Rax, 2),
      rd("movl (%rdx),%eax", 4, Gpr::Rax, 4),
      rd("movl 0x18(%rip),%eax", 4, Gpr::Rax, 4),
      rd("movl 0x1000(,%rcx,4),%eax", 4, Gpr::Rax, 4),
      rd("movl -8(%rbp),%esi", 4, Gpr::Rsi, 4),
      rd("movq (%rdx),%r11", 8, Gpr::R11, 8),
      rd("movl %fs:0x10,%eax", 4, Gpr::Rax, 4).segment(Segment::Fs),
      rd("addr32 movl (%edx),%eax", 4, Gpr::Rax, 4).addr(4),
      rd("movabsl 0xfed40018,%eax", 4, Gpr::Rax, 4),
      rd("movabsb 0xfed40024,%al", 1, Gpr::Rax, 1),
      rd("movabsq 0xfed40000,%rax", 8, Gpr::Rax, 8),
      wr("movabsb %al,0xfed40024", 1, 0x88),
      wr("movabsw %ax,0xfed40018", 2, 0x7788),
      wr("movb $0x40,0x18(%rdx)", 1, 0x40),
      wr("movw $0x1234,(%rdx)", 2, 0x1234),
      wr("movl $0x80000000,(%rdx)", 4, 0x80000000u),
      wr("movq $-2,(%rdx)", 8, 0xFFFFFFFFFFFFFFFEull),
      rd("movzbl (%rdx),%eax", 1, Gpr::Rax, 4, Extend::Zero),
      rd("movzbw (%rdx),%ax", 1, Gpr::Rax, 2, Extend::Zero),
      rd("movzbq (%rdx),%r8", 1, Gpr::R8, 8, Extend::Zero),
      rd("movzwl 0x18(%rdx),%eax", 2, Gpr::Rax, 4, Extend::Zero),
      rd("movsbl (%rdx),%eax", 1, Gpr::Rax, 4, Extend::Sign),
      rd("movswq (%rdx),%rax", 2, Gpr::Rax, 8, Extend::Sign),
      rd("movslq (%rdx),%rax", 4, Gpr::Rax, 8, Extend::Sign),
      str("rep movsl", StringOp::Movs, 4, true),
      str("rep movsb", StringOp::Movs, 1, true),
      str("rep movsq", StringOp::Movs, 8, true),
      str("movsw", StringOp::Movs, 2, false),
      str("movsb", StringOp::Movs, 1, false),
      str("rep stosl", StringOp::Stos, 4, true, 0x55667788),
      str("stosb", StringOp::Stos, 1, false, 0x88),
      wr(".byte 0x48,0x66,0x89,0x02", 2, 0x7788),
      wr(".byte 0x66,0x48,0x89,0x02", 8, 0x1122334455667788ull),
      un("addl %eax,(%rdx)"),
      un("movl %eax,%edx"),
      un(".byte 0xf0,0x89,0x02"),
      un("repne movsb"),
      un("orl $1,0x18(%rdx)"),
      un("vmovdqu (%rdx),%ymm0"),
      un("movnti %eax,(%rdx)"),
      un("xchgl %eax,(%rdx)"),
      un(".byte 0xc6,0xf8,0x01"),
      // 32-bit
      wr("movl %eax,(%edx)", 4, 0x55667788),
      rd("movb (%ecx),%al", 1, Gpr::Rax, 1),
      rd("movl 0xfed40018,%eax", 4, Gpr::Rax, 4),
      wr("movb %al,0xfed40000", 1, 0x88),
      wr("movw %ax,(%edx)", 2, 0x7788),
      rd("movl (%ebp),%eax", 4, Gpr::Rax, 4).segment(Segment::Ss),
      rd("movl %ss:(%ebx),%eax", 4, Gpr::Rax, 4).segment(Segment::Ss),
      rd("movzbl 0x24(%ebx),%eax", 1, Gpr::Rax, 4, Extend::Zero),
      rd("movswl (%esi),%eax", 2, Gpr::Rax, 4, Extend::Sign),
      wr("movl $5,0x18(%edx,%ecx,4)", 4, 5),
      rd("movl (%bx,%si),%eax", 4, Gpr::Rax, 4).addr(2),
      str("rep movsl", StringOp::Movs, 4, true),
      str("rep stosb", StringOp::Stos, 1, true, 0x88),
      un("incl %eax"),
      un("arpl %ax,(%edx)"),
      // 16-bit
      wr("movb %al,(%bx)", 1, 0x88),
      wr("movw %ax,(%bx,%si)", 2, 0x7788),
      wr("movl %eax,(%di)", 4, 0x55667788),
      rd("movw 0x1234,%ax", 2, Gpr::Rax, 2),
      rd("movb (%bp),%al", 1, Gpr::Rax, 1).segment(Segment::Ss),
      rd("movw 0x10(%bp,%di),%dx", 2, Gpr::Rdx, 2).segment(Segment::Ss),
      rd("movzbw (%si),%ax", 1, Gpr::Rax, 2, Extend::Zero),
      rd("movl (%eax),%ecx", 4, Gpr::Rcx, 4).addr(4),
      wr("movw $0x55aa,(%bx)", 2, 0x55aa),
      rd("movw %es:(%bx),%ax", 2, Gpr::Rax, 2).segment(Segment::Es),
      str("rep movsw", StringOp::Movs, 2, true),
      str("rep stosb", StringOp::Stos, 1, true, 0x88),
  };
  return w;
}

std::string squash(const std::string& s) {
  std::string o;
  for (char c : s)
    if (c != ' ' && c != '\t') o += c;
  return o;
}

CpuMode mode_of(uint8_t m) { return m == 64 ? CpuMode::Long64 : m == 32 ? CpuMode::Protected32 : CpuMode::Real16; }
uint8_t default_asz(uint8_t m) { return m == 64 ? 8 : m == 32 ? 4 : 2; }

std::vector<const FormEntry*> forms() {
  std::vector<const FormEntry*> v;
  for (const FormEntry* e = mamori_dec_table_begin; e < mamori_dec_table_end; ++e) v.push_back(e);
  return v;
}

}  // namespace

TEST_CASE("every gas-assembled form decodes as specified", "[decode][gas]") {
  const auto f = forms();
  REQUIRE(f.size() == wants().size());
  const Gprs regs = test_regs();
  for (size_t i = 0; i < f.size(); ++i) {
    const Want& w = wants()[i];
    CAPTURE(i, f[i]->text, int(f[i]->mode));
    REQUIRE(squash(f[i]->text) == squash(w.text));
    const Result r = decode(f[i]->bytes, f[i]->length, mode_of(f[i]->mode), regs, 0);
    CHECK(r.status == w.status);
    if (w.status != Status::Ok) continue;
    const Access& a = r.access;
    CHECK(int(a.length) == int(f[i]->length));
    CHECK(int(a.size) == int(w.size));
    CHECK(a.direction == w.dir);
    CHECK(a.string == w.str);
    CHECK(a.rep == w.rep);
    CHECK(a.count == w.count);
    CHECK(a.segment == w.seg);
    CHECK(int(a.address_size) == int(w.asz ? w.asz : default_asz(f[i]->mode)));
    if (w.dir == Direction::Read) {
      CHECK(a.reg == w.reg);
      CHECK(a.high_byte == w.high);
      CHECK(int(a.reg_size) == int(w.reg_size));
      CHECK(a.extend == w.ext);
    } else if (w.dir == Direction::Write) {
      CHECK(a.value == w.value);
    }
  }
}

TEST_CASE("fewer bytes than the instruction: Truncated; extra bytes: ignored", "[decode][gas]") {
  const Gprs regs = test_regs();
  for (const FormEntry* e : forms()) {
    CAPTURE(e->text);
    const Result full = decode(e->bytes, e->length, mode_of(e->mode), regs, 0);
    if (full.status != Status::Ok) continue;
    for (size_t n = 0; n < e->length; ++n) {
      CHECK(decode(e->bytes, n, mode_of(e->mode), regs, 0).status == Status::Truncated);
    }
    uint8_t buf[32] = {};
    memcpy(buf, e->bytes, e->length);
    memset(buf + e->length, 0x90, sizeof buf - e->length);
    const Result longer = decode(buf, sizeof buf, mode_of(e->mode), regs, 0);
    REQUIRE(longer.status == Status::Ok);
    CHECK(longer.access.length == e->length);
  }
}

// objdump's view of each section: instruction lengths in address order.
static std::vector<int> objdump_lengths(const char* section, const char* arch) {
  std::string cmd = std::string("objdump -D --insn-width=16 -j ") + section + " -m " + arch + " " +
                    MAMORI_DECODE_FORMS_OBJ + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<int> lens;
  int carry = 0;  // objdump prints an ignored REX (SDM 2.2.1) as its own "rex.W" line
  char line[512];
  while (fgets(line, sizeof line, p)) {
    // "   2a:\t8b 02   \tmov ..." : count the hex byte pairs of field 2.
    const char* tab = strchr(line, '\t');
    if (tab == nullptr || strchr(line, ':') == nullptr || strchr(line, ':') > tab) continue;
    const char* bytes = tab + 1;
    const char* end = strchr(bytes, '\t');
    if (end == nullptr) end = bytes + strlen(bytes);
    int n = 0;
    for (const char* c = bytes; c + 1 < end; ++c) {
      if (isxdigit(static_cast<unsigned char>(c[0])) && isxdigit(static_cast<unsigned char>(c[1])) &&
          (c + 2 == end || c[2] == ' ')) {
        ++n;
        ++c;
      }
    }
    if (n == 0) continue;
    if (*end == '\t' && strncmp(end + 1, "rex", 3) == 0) {
      carry += n;
      continue;
    }
    lens.push_back(carry + n);
    carry = 0;
  }
  const int rc = pclose(p);
  CHECK(rc == 0);
  return lens;
}

TEST_CASE("gas lengths agree with objdump, and the decoder with both", "[decode][objdump]") {
  struct Sec {
    uint8_t mode;
    const char* name;
    const char* arch;
  } secs[] = {{16, ".mamori_dec_16", "i8086"}, {32, ".mamori_dec_32", "i386"}, {64, ".mamori_dec_64", "i386:x86-64"}};
  const Gprs regs = test_regs();
  for (const Sec& s : secs) {
    CAPTURE(s.name);
    std::vector<int> gas;
    std::vector<const FormEntry*> entries;
    for (const FormEntry* e : forms()) {
      if (e->mode == s.mode) {
        gas.push_back(e->length);
        entries.push_back(e);
      }
    }
    const std::vector<int> od = objdump_lengths(s.name, s.arch);
    CHECK(od == gas);
    for (const FormEntry* e : entries) {
      const Result r = decode(e->bytes, e->length, mode_of(e->mode), regs, 0);
      if (r.status == Status::Ok) CHECK(int(r.access.length) == int(e->length));
    }
  }
}
