// The ATA PIO driver against a simulated IDE drive (register FIFOs for
// 48-bit addressing, PIO data-in/out blocks, BSY/DRQ/ERR/DF) and a
// simulated clock: the commands and register bytes it issues, transfers
// split at 256 sectors, LBA28-only drives, IDENTIFY parsing, and every
// failure (absent controller or drive, ATAPI, stuck BSY, no DRQ, ERR, DF,
// out of range) ending in its AtaError within the timeout.
#include <catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/storage/ata_pio.hpp"
#include "vmm/storage/record_store.hpp"

using namespace mamori::drivers::storage;

namespace {

void put_string(uint16_t* w, size_t words, const char* s) {
  std::string t(s);
  t.resize(words * 2, ' ');
  for (size_t i = 0; i < words; ++i) w[i] = static_cast<uint16_t>(t[2 * i] << 8 | static_cast<uint8_t>(t[2 * i + 1]));
}

struct Command {
  uint8_t opcode;
  uint64_t lba;
  uint32_t count;
};

class FakeDrive final : public AtaPorts, public AtaClock {
 public:
  enum class Mode { Normal, Absent, Empty, Atapi, StuckBusy, ErrOnData, NoDrq, FaultOnFlush };
  explicit FakeDrive(uint64_t sectors, bool lba48 = true, Mode m = Mode::Normal) : mode(m), disk(sectors * 512) {
    put_string(id + 10, 10, "SN-0042");
    put_string(id + 27, 20, "MAMORI SIM DISK");
    id[49] = 1u << 9;
    id[83] = static_cast<uint16_t>(0x4000 | (lba48 ? (1u << 10) | (1u << 13) : 0));
    const uint64_t l28 = sectors < 0x0FFFFFFF ? sectors : 0x0FFFFFFF;
    id[60] = static_cast<uint16_t>(l28);
    id[61] = static_cast<uint16_t>(l28 >> 16);
    for (int i = 0; i < 4; ++i) id[100 + i] = lba48 ? static_cast<uint16_t>(sectors >> (16 * i)) : 0;
  }

  Mode mode;
  std::vector<uint8_t> disk;
  uint16_t id[256] = {};
  std::vector<Command> commands;
  uint64_t t = 0;

  uint64_t now_us() override { return t += 7; }

  uint8_t in8(uint16_t port) override {
    if (mode == Mode::Absent) return 0xFF;
    switch (port) {
      case 0x3F6: case 0x1F7: return status();
      case 0x1F1: return error;
      case 0x1F4: return lba[1][0];
      case 0x1F5: return lba[2][0];
      default: return 0;
    }
  }
  uint16_t in16(uint16_t port) override {
    REQUIRE(port == 0x1F0);
    REQUIRE(drq);
    const uint16_t v = static_cast<uint16_t>(buf[pos] | buf[pos + 1] << 8);
    pos += 2;
    if (pos == 512) next_block();
    return v;
  }
  void out8(uint16_t port, uint8_t v) override {
    switch (port) {
      case 0x3F6: control = v; break;
      case 0x1F2: count[1] = count[0]; count[0] = v; break;
      case 0x1F3: case 0x1F4: case 0x1F5: lba[port - 0x1F3][1] = lba[port - 0x1F3][0]; lba[port - 0x1F3][0] = v; break;
      case 0x1F6: device = v; break;
      case 0x1F7: command(v); break;
      default: break;
    }
  }
  void out16(uint16_t port, uint16_t v) override {
    REQUIRE(port == 0x1F0);
    REQUIRE(drq);
    buf[pos] = static_cast<uint8_t>(v);
    buf[pos + 1] = static_cast<uint8_t>(v >> 8);
    pos += 2;
    if (pos == 512) {
      std::memcpy(disk.data() + cur * 512, buf, 512);
      next_block();
    }
  }
  uint8_t control = 0, device = 0;

 private:
  uint8_t status() const {
    if (mode == Mode::Empty) return 0;
    if (mode == Mode::StuckBusy && busy_forever) return 0x80;
    return static_cast<uint8_t>(0x40 | (drq ? 0x08 : 0) | (err ? 0x01 : 0) | (df ? 0x20 : 0));
  }
  void command(uint8_t op) {
    err = df = drq = false;
    error = 0;
    const bool ext = op == 0x24 || op == 0x34;
    uint64_t l = lba[0][0] | lba[1][0] << 8 | static_cast<uint64_t>(lba[2][0]) << 16;
    uint32_t n = count[0];
    if (ext) {
      l |= static_cast<uint64_t>(lba[0][1]) << 24 | static_cast<uint64_t>(lba[1][1]) << 32 |
           static_cast<uint64_t>(lba[2][1]) << 40;
      n |= count[1] << 8;
      if (n == 0) n = 65536;
    } else {
      l |= static_cast<uint64_t>(device & 0x0F) << 24;
      if (n == 0) n = 256;
    }
    commands.push_back({op, l, n});
    if (mode == Mode::StuckBusy && commands.size() >= stuck_after) busy_forever = true;
    switch (op) {
      case 0xEC:
        if (mode == Mode::Atapi) {
          lba[1][0] = 0x14;
          lba[2][0] = 0xEB;
          abort();
          return;
        }
        std::memcpy(buf, id, 512);
        pos = 0;
        left = 1;
        reading = true;
        drq = true;
        return;
      case 0x20: case 0x24: case 0x30: case 0x34:
        if (mode == Mode::ErrOnData) return abort();
        if (mode == Mode::NoDrq) return;
        cur = l;
        left = n;
        reading = op == 0x20 || op == 0x24;
        REQUIRE((l + n) * 512 <= disk.size());
        start_block();
        return;
      case 0xE7: case 0xEA:
        if (mode == Mode::FaultOnFlush) df = true;
        ++flushes;
        return;
      default: abort();
    }
  }
  void abort() {
    err = true;
    error = 0x04;  // ABRT
  }
  void start_block() {
    pos = 0;
    drq = true;
    if (reading) std::memcpy(buf, disk.data() + cur * 512, 512);
  }
  void next_block() {
    drq = false;
    --left;
    ++cur;
    if (left > 0 && commands.back().opcode != 0xEC) start_block();
  }

  uint8_t count[2] = {}, lba[3][2] = {}, error = 0;
  bool err = false, df = false, drq = false, reading = false, busy_forever = false;
  uint8_t buf[512] = {};
  size_t pos = 0;
  uint64_t cur = 0, left = 0;

 public:
  size_t stuck_after = 1;
  int flushes = 0;
};

std::vector<uint8_t> pattern(size_t sectors, uint8_t seed) {
  std::vector<uint8_t> v(sectors * 512);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 9));
  return v;
}
}  // namespace

TEST_CASE("ata: IDENTIFY, LBA48 transfers split at 256 sectors, FLUSH CACHE EXT") {
  FakeDrive d(100000);
  AtaPio ata(d, d);
  CHECK(ata.sector_count() == 0);
  REQUIRE(ata.probe() == AtaError::None);
  CHECK(d.control == 0x02);  // nIEN: the driver polls
  CHECK(std::string(ata.identity().model) == "MAMORI SIM DISK");
  CHECK(std::string(ata.identity().serial) == "SN-0042");
  CHECK(ata.sector_count() == 100000);
  CHECK(ata.identity().lba48);
  d.commands.clear();

  const auto data = pattern(300, 5);
  REQUIRE(ata.write(70000, 300, data.data()));
  REQUIRE(ata.flush());
  std::vector<uint8_t> back(300 * 512);
  REQUIRE(ata.read(70000, 300, back.data()));
  CHECK(back == data);
  CHECK(std::memcmp(d.disk.data() + 70000 * 512, data.data(), data.size()) == 0);
  REQUIRE(d.commands.size() == 5);
  CHECK(d.commands[0].opcode == 0x34);
  CHECK(d.commands[0].lba == 70000);
  CHECK(d.commands[0].count == 256);
  CHECK(d.commands[1].lba == 70256);
  CHECK(d.commands[1].count == 44);
  CHECK(d.commands[2].opcode == 0xEA);
  CHECK(d.commands[3].opcode == 0x24);
  CHECK(d.commands[4].count == 44);
  CHECK(d.flushes == 1);
}

TEST_CASE("ata: a drive without LBA48 gets the 28-bit commands") {
  FakeDrive d(5000, false);
  AtaPio ata(d, d);
  REQUIRE(ata.probe() == AtaError::None);
  CHECK(!ata.identity().lba48);
  CHECK(ata.sector_count() == 5000);
  d.commands.clear();
  const auto data = pattern(2, 9);
  REQUIRE(ata.write(4000, 2, data.data()));
  REQUIRE(ata.flush());
  std::vector<uint8_t> back(1024);
  REQUIRE(ata.read(4000, 2, back.data()));
  CHECK(back == data);
  CHECK(d.commands[0].opcode == 0x30);
  CHECK(d.commands[1].opcode == 0xE7);
  CHECK(d.commands[2].opcode == 0x20);
  CHECK(d.commands[2].lba == 4000);
}

TEST_CASE("ata: command block encoding") {
  TaskFile tf;
  REQUIRE(encode_rw(AtaOp::Read, 0x0ABCDEF1, 256, false, false, tf));
  CHECK(tf.command == 0x20);
  CHECK(!tf.ext);
  CHECK(tf.count == 0);  // 256
  CHECK(tf.lba0 == 0xF1);
  CHECK(tf.lba1 == 0xDE);
  CHECK(tf.lba2 == 0xBC);
  CHECK(tf.device == 0xEA);  // 0xE0 | LBA bits 27:24
  REQUIRE(encode_rw(AtaOp::Write, 0x0FFFFFFF, 1, false, true, tf));
  CHECK(tf.device == 0xFF);  // slave, bits 27:24 = F
  CHECK(!encode_rw(AtaOp::Write, 0x0FFFFFFF, 2, false, false, tf));  // needs LBA48
  REQUIRE(encode_rw(AtaOp::Write, 0x123456789ABCull, 256, true, false, tf));
  CHECK(tf.ext);
  CHECK(tf.command == 0x34);
  CHECK(tf.count == 0x00);
  CHECK(tf.count_hob == 0x01);
  CHECK(tf.lba0 == 0xBC);
  CHECK(tf.lba1 == 0x9A);
  CHECK(tf.lba2 == 0x78);
  CHECK(tf.lba3 == 0x56);
  CHECK(tf.lba4 == 0x34);
  CHECK(tf.lba5 == 0x12);
  CHECK(tf.device == 0xE0);
  CHECK(!encode_rw(AtaOp::Read, 0, 0, true, false, tf));
  CHECK(!encode_rw(AtaOp::Read, 0, 257, true, false, tf));
  CHECK(!encode_rw(AtaOp::Read, (1ull << 48) - 1, 2, true, false, tf));
}

TEST_CASE("ata: IDENTIFY data checks") {
  FakeDrive d(1000);
  AtaIdentity id;
  REQUIRE(parse_identify(d.id, id) == AtaError::None);
  // Integrity word: signature 0xA5 and a checksum making the byte sum 0.
  uint8_t sum = 0xA5;
  for (int i = 0; i < 255; ++i) sum = static_cast<uint8_t>(sum + (d.id[i] & 0xFF) + (d.id[i] >> 8));
  d.id[255] = static_cast<uint16_t>(0xA5 | static_cast<uint8_t>(-sum) << 8);
  CHECK(parse_identify(d.id, id) == AtaError::None);
  d.id[255] ^= 0x100;
  CHECK(parse_identify(d.id, id) == AtaError::BadIdentify);
  d.id[255] = 0;
  d.id[106] = 0x4000 | 1u << 12;  // 4096-byte logical sectors
  d.id[117] = 2048;
  CHECK(parse_identify(d.id, id) == AtaError::BadIdentify);
  d.id[117] = 256;
  CHECK(parse_identify(d.id, id) == AtaError::None);
  d.id[49] = 0;  // CHS only
  CHECK(parse_identify(d.id, id) == AtaError::BadIdentify);
  FakeDrive z(0);
  CHECK(parse_identify(z.id, id) == AtaError::BadIdentify);
  // Word 83 not valid (bits 15:14 != 01): no LBA48 even with bit 10 set.
  FakeDrive w(1000);
  w.id[83] = 0x8000 | 1u << 10;
  REQUIRE(parse_identify(w.id, id) == AtaError::None);
  CHECK(!id.lba48);
  CHECK(id.sectors == 1000);
}

TEST_CASE("ata: absent, foreign, hung and failing drives end in an error, within the timeout") {
  const AtaTimeouts t{1000, 500, 2000};
  std::vector<uint8_t> buf(512);
  {
    FakeDrive d(100, true, FakeDrive::Mode::Absent);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    CHECK(ata.probe() == AtaError::NoController);
    CHECK(!ata.read(0, 1, buf.data()));
    CHECK(ata.last_error() == AtaError::NotProbed);
    CHECK(!ata.flush());
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::Empty);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    CHECK(ata.probe() == AtaError::NoDevice);
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::Atapi);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    CHECK(ata.probe() == AtaError::NotAta);
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::StuckBusy);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    CHECK(ata.probe() == AtaError::BusyTimeout);
    CHECK(d.t < 10 * t.ready_us);
    CHECK(ata.last_status() == 0x80);
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::StuckBusy);
    d.stuck_after = 2;  // IDENTIFY fine, the read hangs
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    REQUIRE(ata.probe() == AtaError::None);
    CHECK(!ata.read(0, 1, buf.data()));
    CHECK(ata.last_error() == AtaError::BusyTimeout);
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::ErrOnData);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    REQUIRE(ata.probe() == AtaError::None);
    CHECK(!ata.write(3, 1, buf.data()));
    CHECK(ata.last_error() == AtaError::DeviceError);
    CHECK(ata.last_error_register() == 0x04);
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::NoDrq);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    REQUIRE(ata.probe() == AtaError::None);
    CHECK(!ata.read(3, 1, buf.data()));
    CHECK(ata.last_error() == AtaError::DrqTimeout);
  }
  {
    FakeDrive d(100, true, FakeDrive::Mode::FaultOnFlush);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    REQUIRE(ata.probe() == AtaError::None);
    CHECK(!ata.flush());
    CHECK(ata.last_error() == AtaError::DeviceFault);
  }
  {
    FakeDrive d(100);
    AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, t);
    REQUIRE(ata.probe() == AtaError::None);
    const size_t before = d.commands.size();
    CHECK(!ata.read(100, 1, buf.data()));
    CHECK(!ata.read(99, 2, buf.data()));
    CHECK(ata.last_error() == AtaError::OutOfRange);
    CHECK(d.commands.size() == before);  // nothing issued
    CHECK(ata.read(99, 1, buf.data()));
  }
}

TEST_CASE("ata: the record store over the driver") {
  FakeDrive d(64);
  AtaPio ata(d, d);
  REQUIRE(ata.probe() == AtaError::None);
  mamori::storage::RecordStore s(ata);
  const auto rec = pattern(3, 1);
  uint64_t gen = 0;
  REQUIRE(s.commit(rec.data(), 1000, gen) == mamori::storage::StoreError::None);
  CHECK(gen == 1);
  CHECK(d.flushes == 1);
  std::vector<uint8_t> back(s.capacity());
  size_t len = 0;
  REQUIRE(s.load(back.data(), back.size(), len, gen) == mamori::storage::StoreError::None);
  CHECK(len == 1000);
  CHECK(std::memcmp(back.data(), rec.data(), 1000) == 0);
}
