#include "drivers/storage/ata_pio.hpp"

namespace mamori::drivers::storage {
namespace {
using mamori::storage::kSectorSize;

// ATA8-APT §5: command block registers (offsets from the I/O base).
constexpr uint16_t kData = 0, kError = 1, kCount = 2, kLba0 = 3, kLba1 = 4, kLba2 = 5, kDevice = 6, kStatus = 7,
                   kCommand = 7;
// Status (ACS-3 §6.2): BSY, DRDY, DF (device fault), DRQ, ERR.
constexpr uint8_t kBsy = 0x80, kDf = 0x20, kDrq = 0x08, kErr = 0x01;
// Device control (ATA8-APT §5.2.6): nIEN, interrupts off: the driver polls.
constexpr uint8_t kNien = 0x02;
// Device register: bits 7 and 5 obsolete (set, as older drives expect), bit 6 LBA, bit 4 DEV.
constexpr uint8_t kDeviceLba = 0xE0, kDeviceSlave = 0x10;
// ACS-3 opcodes.
constexpr uint8_t kIdentify = 0xEC, kRead = 0x20, kReadExt = 0x24, kWrite = 0x30, kWriteExt = 0x34,
                  kFlush = 0xE7, kFlushExt = 0xEA;
constexpr uint32_t kMaxSectorsPerCommand = 256;
constexpr uint64_t kLba28Limit = 1ull << 28;

void copy_string(const uint16_t* w, size_t words, char* out) {
  // ACS-3 §3.4.9: ATA strings hold two characters per word, the first in bits 15:8.
  size_t n = 0;
  for (size_t i = 0; i < words; ++i) {
    out[n++] = static_cast<char>(w[i] >> 8);
    out[n++] = static_cast<char>(w[i] & 0xFF);
  }
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0)) --n;
  out[n] = 0;
  for (size_t i = 0; i < n; ++i)
    if (out[i] < 0x20 || out[i] > 0x7E) out[i] = '?';
}
}  // namespace

const char* ata_error_name(AtaError e) {
  switch (e) {
    case AtaError::None: return "ok";
    case AtaError::NoController: return "no controller (status reads 0xFF)";
    case AtaError::NoDevice: return "no drive";
    case AtaError::NotAta: return "not an ATA disk (ATAPI or SATA signature)";
    case AtaError::BusyTimeout: return "timeout waiting for BSY to clear";
    case AtaError::DrqTimeout: return "timeout waiting for DRQ";
    case AtaError::DeviceError: return "device error (ERR)";
    case AtaError::DeviceFault: return "device fault (DF)";
    case AtaError::BadIdentify: return "unusable IDENTIFY data";
    case AtaError::OutOfRange: return "LBA range beyond the drive";
    case AtaError::NotProbed: return "drive not probed";
  }
  return "?";
}

AtaError parse_identify(const uint16_t w[256], AtaIdentity& out) {
  out = AtaIdentity{};
  // Word 255 (integrity): when bits 7:0 are 0xA5, bits 15:8 make the sum
  // of all 512 bytes 0 mod 256 (ACS-3 §7.12.7.84).
  if ((w[255] & 0xFF) == 0xA5) {
    uint8_t sum = 0;
    for (int i = 0; i < 256; ++i) sum = static_cast<uint8_t>(sum + (w[i] & 0xFF) + (w[i] >> 8));
    if (sum != 0) return AtaError::BadIdentify;
  }
  copy_string(w + 27, 20, out.model);
  copy_string(w + 10, 10, out.serial);
  if (!(w[49] & (1u << 9))) return AtaError::BadIdentify;  // LBA supported (CHS-only drives are not)
  // Words 83 and 106 are valid when bits 15:14 are 01.
  const bool w83 = (w[83] & 0xC000) == 0x4000;
  out.lba48 = w83 && (w[83] & (1u << 10));
  out.flush_ext = w83 && (w[83] & (1u << 13));
  if (out.lba48) {
    out.sectors = static_cast<uint64_t>(w[100]) | static_cast<uint64_t>(w[101]) << 16 |
                  static_cast<uint64_t>(w[102]) << 32 | static_cast<uint64_t>(w[103]) << 48;
  } else {
    out.sectors = static_cast<uint64_t>(w[60]) | static_cast<uint64_t>(w[61]) << 16;
  }
  if (out.sectors == 0) return AtaError::BadIdentify;
  // Word 106 bit 12: logical sectors longer than 256 words (words 117-118).
  if ((w[106] & 0xC000) == 0x4000 && (w[106] & (1u << 12))) {
    const uint32_t words = static_cast<uint32_t>(w[117]) | static_cast<uint32_t>(w[118]) << 16;
    if (words != kSectorSize / 2) return AtaError::BadIdentify;
  }
  return AtaError::None;
}

bool encode_rw(AtaOp op, uint64_t lba, uint32_t count, bool lba48, bool slave, TaskFile& tf) {
  tf = TaskFile{};
  if (count == 0 || count > kMaxSectorsPerCommand) return false;
  const uint64_t end = lba + count;
  if (end < lba) return false;
  tf.device = static_cast<uint8_t>(kDeviceLba | (slave ? kDeviceSlave : 0));
  tf.lba0 = static_cast<uint8_t>(lba);
  tf.lba1 = static_cast<uint8_t>(lba >> 8);
  tf.lba2 = static_cast<uint8_t>(lba >> 16);
  if (end <= kLba28Limit && !lba48) {
    // LBA28: bits 27:24 in the device register; count 256 is written as 0.
    tf.device = static_cast<uint8_t>(tf.device | ((lba >> 24) & 0x0F));
    tf.count = static_cast<uint8_t>(count);
    tf.command = op == AtaOp::Read ? kRead : kWrite;
    return true;
  }
  if (!lba48 || end > (1ull << 48)) return false;
  tf.ext = true;
  tf.count = static_cast<uint8_t>(count);
  tf.count_hob = static_cast<uint8_t>(count >> 8);
  tf.lba3 = static_cast<uint8_t>(lba >> 24);
  tf.lba4 = static_cast<uint8_t>(lba >> 32);
  tf.lba5 = static_cast<uint8_t>(lba >> 40);
  tf.command = op == AtaOp::Read ? kReadExt : kWriteExt;
  return true;
}

bool AtaPio::fail(AtaError e) {
  err_ = e;
  error_reg_ = (status_ & kErr) ? p_.in8(static_cast<uint16_t>(io_ + kError)) : 0;
  return false;
}

uint8_t AtaPio::alt_status() { return status_ = p_.in8(ctrl_); }

// Selects the drive and lets 400 ns pass before its status counts (ATA8-APT
// §5.2.13: reading the alternate status four times takes at least that).
bool AtaPio::select() {
  p_.out8(ctrl_, kNien);
  p_.out8(static_cast<uint16_t>(io_ + kDevice), static_cast<uint8_t>(kDeviceLba | (slave_ ? kDeviceSlave : 0)));
  for (int i = 0; i < 4; ++i) alt_status();
  if (status_ == 0xFF) return fail(AtaError::NoController);
  return wait_ready(t_.ready_us);
}

bool AtaPio::wait_ready(uint64_t timeout_us) {
  const uint64_t start = clock_.now_us();
  for (;;) {
    const uint8_t s = alt_status();
    if (s == 0xFF) return fail(AtaError::NoController);  // floating bus: the controller is gone
    if (!(s & kBsy)) return true;
    if (clock_.now_us() - start > timeout_us) return fail(AtaError::BusyTimeout);
  }
}

// BSY clear and DRQ set: the next data block may move. ERR or DF instead
// ends the command.
bool AtaPio::wait_drq() {
  const uint64_t start = clock_.now_us();
  for (;;) {
    const uint8_t s = alt_status();
    if (!(s & kBsy)) {
      if (s & kErr) return fail(AtaError::DeviceError);
      if (s & kDf) return fail(AtaError::DeviceFault);
      if (s & kDrq) return true;
    }
    if (clock_.now_us() - start > t_.data_us) return fail(s & kBsy ? AtaError::BusyTimeout : AtaError::DrqTimeout);
  }
}

// After the last block: not busy, no error; reading the status register
// (not the alternate) acknowledges the command.
bool AtaPio::check_done() {
  if (!wait_ready(t_.ready_us)) return false;
  status_ = p_.in8(static_cast<uint16_t>(io_ + kStatus));
  if (status_ & kErr) return fail(AtaError::DeviceError);
  if (status_ & kDf) return fail(AtaError::DeviceFault);
  return true;
}

void AtaPio::issue(const TaskFile& tf) {
  p_.out8(static_cast<uint16_t>(io_ + kDevice), tf.device);
  if (tf.ext) {  // the "previous" bytes first: the register pairs are FIFOs of two
    p_.out8(static_cast<uint16_t>(io_ + kCount), tf.count_hob);
    p_.out8(static_cast<uint16_t>(io_ + kLba0), tf.lba3);
    p_.out8(static_cast<uint16_t>(io_ + kLba1), tf.lba4);
    p_.out8(static_cast<uint16_t>(io_ + kLba2), tf.lba5);
  }
  p_.out8(static_cast<uint16_t>(io_ + kCount), tf.count);
  p_.out8(static_cast<uint16_t>(io_ + kLba0), tf.lba0);
  p_.out8(static_cast<uint16_t>(io_ + kLba1), tf.lba1);
  p_.out8(static_cast<uint16_t>(io_ + kLba2), tf.lba2);
  p_.out8(static_cast<uint16_t>(io_ + kCommand), tf.command);
}

AtaError AtaPio::probe() {
  probed_ = false;
  err_ = AtaError::None;
  if (p_.in8(static_cast<uint16_t>(io_ + kStatus)) == 0xFF) {
    status_ = 0xFF;
    fail(AtaError::NoController);
    return err_;
  }
  if (!select()) return err_;
  TaskFile tf;
  tf.device = static_cast<uint8_t>(kDeviceLba | (slave_ ? kDeviceSlave : 0));
  tf.command = kIdentify;
  issue(tf);
  // ATA8-APT §5.2.13 note: status 0 right after the command means no drive.
  if (alt_status() == 0) {
    fail(AtaError::NoDevice);
    return err_;
  }
  if (!wait_ready(t_.ready_us)) return err_;
  // ACS-3 Table 206: ATAPI (0x14 0xEB) and SATA (0x3C 0xC3) signatures abort IDENTIFY DEVICE.
  if (p_.in8(static_cast<uint16_t>(io_ + kLba1)) != 0 || p_.in8(static_cast<uint16_t>(io_ + kLba2)) != 0) {
    fail(AtaError::NotAta);
    return err_;
  }
  if (!wait_drq()) return err_;
  uint16_t w[256];
  for (uint16_t& x : w) x = p_.in16(static_cast<uint16_t>(io_ + kData));
  if (!check_done()) return err_;
  if (AtaError e = parse_identify(w, id_); e != AtaError::None) {
    fail(e);
    return err_;
  }
  probed_ = true;
  return AtaError::None;
}

bool AtaPio::transfer(AtaOp op, uint64_t lba, uint32_t count, uint8_t* buf) {
  if (!probed_) return fail(AtaError::NotProbed);
  if (lba > id_.sectors || count > id_.sectors - lba) return fail(AtaError::OutOfRange);
  while (count > 0) {
    const uint32_t n = count < kMaxSectorsPerCommand ? count : kMaxSectorsPerCommand;
    TaskFile tf;
    if (!encode_rw(op, lba, n, id_.lba48, slave_, tf)) return fail(AtaError::OutOfRange);
    if (!select()) return false;
    issue(tf);
    // PIO data-in/data-out (ATA8-APT §§6.x): one DRQ block per sector.
    for (uint32_t s = 0; s < n; ++s, buf += kSectorSize) {
      if (!wait_drq()) return false;
      for (uint32_t i = 0; i < kSectorSize; i += 2) {
        if (op == AtaOp::Read) {
          const uint16_t v = p_.in16(static_cast<uint16_t>(io_ + kData));
          buf[i] = static_cast<uint8_t>(v);
          buf[i + 1] = static_cast<uint8_t>(v >> 8);
        } else {
          p_.out16(static_cast<uint16_t>(io_ + kData), static_cast<uint16_t>(buf[i] | buf[i + 1] << 8));
        }
      }
    }
    if (!check_done()) return false;
    lba += n;
    count -= n;
  }
  err_ = AtaError::None;
  return true;
}

bool AtaPio::read(uint64_t lba, uint32_t count, uint8_t* out) { return transfer(AtaOp::Read, lba, count, out); }

bool AtaPio::write(uint64_t lba, uint32_t count, const uint8_t* in) {
  // transfer() only reads the buffer for a write.
  return transfer(AtaOp::Write, lba, count, const_cast<uint8_t*>(in));
}

bool AtaPio::flush() {
  if (!probed_) return fail(AtaError::NotProbed);
  if (!select()) return false;
  TaskFile tf;
  tf.device = static_cast<uint8_t>(kDeviceLba | (slave_ ? kDeviceSlave : 0));
  tf.command = id_.flush_ext ? kFlushExt : kFlush;
  issue(tf);
  if (!wait_ready(t_.flush_us)) return false;
  status_ = p_.in8(static_cast<uint16_t>(io_ + kStatus));
  if (status_ & kErr) return fail(AtaError::DeviceError);
  if (status_ & kDf) return fail(AtaError::DeviceFault);
  err_ = AtaError::None;
  return true;
}

}  // namespace mamori::drivers::storage
