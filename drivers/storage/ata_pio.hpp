// Legacy IDE/ATA disk in PIO mode, polled: IDENTIFY DEVICE, READ/WRITE
// SECTORS (EXT) and FLUSH CACHE (EXT) on one channel (the primary one at
// 0x1F0-0x1F7 / 0x3F6 is where Bochs and QEMU `pc` put their first disk).
// Command set: ATA/ATAPI Command Set (ACS-3, INCITS 522-2014) §7.12
// IDENTIFY DEVICE, §7.28/§7.29 READ SECTORS (EXT), §7.57/§7.58 WRITE
// SECTORS (EXT), §7.10/§7.11 FLUSH CACHE (EXT); register block and PIO
// protocols: ATA8-APT (INCITS 451-2008) §§5-6 and ATA/ATAPI-6 §9.
//
// A pure state machine over a port-I/O and clock interface, like the TPM
// transports: the VMM gives it in/out instructions and the TSC
// (drivers/storage/ata_ports.cpp), host tests a simulated drive
// (tests/unit/drivers/test_ata_pio.cpp). Interrupts stay off (nIEN); every
// wait is a bounded poll, so an absent, hung or failing drive ends in an
// AtaError, never a hang. No DMA, no ATAPI, no AHCI (docs/storage.md).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/storage/block_device.hpp"

namespace mamori::drivers::storage {

class AtaPorts {
 public:
  virtual uint8_t in8(uint16_t port) = 0;
  virtual uint16_t in16(uint16_t port) = 0;
  virtual void out8(uint16_t port, uint8_t v) = 0;
  virtual void out16(uint16_t port, uint16_t v) = 0;

 protected:
  ~AtaPorts() = default;
};

class AtaClock {
 public:
  virtual uint64_t now_us() = 0;

 protected:
  ~AtaClock() = default;
};

// ATA/ATAPI-6 §9 allows a device 31 s from reset to clear BSY (spin-up);
// commands on a ready drive take milliseconds. A flush writes the whole
// cache back: as long as a spin-up.
struct AtaTimeouts {
  uint64_t ready_us = 31'000'000;  // BSY clear before a command (and after IDENTIFY)
  uint64_t data_us = 5'000'000;    // DRQ for each sector of a transfer
  uint64_t flush_us = 31'000'000;  // FLUSH CACHE (EXT) completion
};

enum class AtaError : uint8_t {
  None,
  NoController,  // the status register reads 0xFF: nothing decodes the ports
  NoDevice,      // status 0 after IDENTIFY: no drive on this position
  NotAta,        // ATAPI or SATA signature in the LBA registers (ACS-3 Table 206)
  BusyTimeout,   // BSY did not clear in time
  DrqTimeout,    // DRQ did not come for a data block
  DeviceError,   // ERR set: the command was aborted or a medium error (error register)
  DeviceFault,   // DF set
  BadIdentify,   // IDENTIFY data unusable: no LBA, checksum wrong, sector size not 512, 0 sectors
  OutOfRange,    // LBA range beyond the drive (or beyond LBA28 on a drive without LBA48)
  NotProbed,     // probe() has not succeeded
};
const char* ata_error_name(AtaError e);

// What IDENTIFY DEVICE says (ACS-3 Table 45).
struct AtaIdentity {
  char model[41];   // words 27-46, trailing spaces removed
  char serial[21];  // words 10-19
  uint64_t sectors = 0;    // words 100-103 with LBA48, else 60-61
  bool lba48 = false;      // word 83 bit 10
  bool flush_ext = false;  // word 83 bit 13
};
AtaError parse_identify(const uint16_t words[256], AtaIdentity& out);

// The command block registers of one command: features, count, LBA and
// device, and for 48-bit commands the "previous" (HOB) bytes written
// first (ATA8-APT §5.2.x, ACS-3 §4.1 48-bit addressing).
struct TaskFile {
  uint8_t count_hob = 0, lba3 = 0, lba4 = 0, lba5 = 0;  // written first (LBA48 only)
  uint8_t count = 0, lba0 = 0, lba1 = 0, lba2 = 0;
  uint8_t device = 0, command = 0;
  bool ext = false;
};
enum class AtaOp : uint8_t { Read, Write };
// count: 1..256 sectors (256 is encoded as 0 in LBA28, as 0x0100 in LBA48).
// False when the range needs LBA48 and the drive has none.
bool encode_rw(AtaOp op, uint64_t lba, uint32_t count, bool lba48, bool slave, TaskFile& out);

inline constexpr uint16_t kPrimaryIo = 0x1F0, kPrimaryCtrl = 0x3F6;

class AtaPio final : public mamori::storage::BlockDevice {
 public:
  AtaPio(AtaPorts& ports, AtaClock& clock, uint16_t io = kPrimaryIo, uint16_t ctrl = kPrimaryCtrl, bool slave = false,
         AtaTimeouts t = {})
      : p_(ports), clock_(clock), io_(io), ctrl_(ctrl), slave_(slave), t_(t) {}

  // IDENTIFY DEVICE; on success the drive can be read and written.
  AtaError probe();
  const AtaIdentity& identity() const { return id_; }

  uint64_t sector_count() const override { return probed_ ? id_.sectors : 0; }
  bool read(uint64_t lba, uint32_t count, uint8_t* out) override;
  bool write(uint64_t lba, uint32_t count, const uint8_t* in) override;
  bool flush() override;

  // Why the last failed call failed, with the status and error registers then.
  AtaError last_error() const { return err_; }
  uint8_t last_status() const { return status_; }
  uint8_t last_error_register() const { return error_reg_; }

 private:
  bool fail(AtaError e);
  uint8_t alt_status();
  bool select();
  bool wait_ready(uint64_t timeout_us);
  bool wait_drq();
  bool check_done();
  void issue(const TaskFile& tf);
  bool transfer(AtaOp op, uint64_t lba, uint32_t count, uint8_t* buf);

  AtaPorts& p_;
  AtaClock& clock_;
  uint16_t io_, ctrl_;
  bool slave_;
  AtaTimeouts t_;
  AtaIdentity id_{};
  bool probed_ = false;
  AtaError err_ = AtaError::NotProbed;
  uint8_t status_ = 0, error_reg_ = 0;
};

}  // namespace mamori::drivers::storage
