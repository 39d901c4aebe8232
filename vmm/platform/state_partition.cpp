#include "vmm/platform/state_partition.hpp"

#include <string.h>

#include "drivers/storage/ata_pio.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/lib/spinlock.hpp"
#include "vmm/log.hpp"
#include "vmm/storage/gpt.hpp"
#include "vmm/storage/record_store.hpp"

namespace mamori::platform {
namespace {
using drivers::storage::AtaError;
using drivers::storage::AtaPio;
using storage::GptError;

struct PortIo final : drivers::storage::AtaPorts {
  uint8_t in8(uint16_t port) override { return cpu::inb(port); }
  uint16_t in16(uint16_t port) override { return cpu::inw(port); }
  void out8(uint16_t port, uint8_t v) override { cpu::outb(port, v); }
  void out16(uint16_t port, uint16_t v) override { cpu::outw(port, v); }
};
struct TscClock final : drivers::storage::AtaClock {
  uint64_t now_us() override { return drivers::tsc::now_us(); }
};

PortIo g_ports;
TscClock g_clock;
AtaPio g_ata(g_ports, g_clock);
lib::Spinlock g_lock;  // one user of the channel at a time (boot, then the shell)
AtaError g_ata_error = AtaError::NotProbed;
GptError g_gpt_error = GptError::Io;
storage::GptDisk g_disk;
storage::GptPartition g_part;

// The test record `tpm state commit-test` writes (docs/storage.md).
constexpr char kTestMagic[] = "mamori test record, counter ";
constexpr size_t kTestMagicLen = sizeof(kTestMagic) - 1;
uint8_t g_record[512];

bool disk_ready() { return g_ata_error == AtaError::None; }
bool partition_ready() { return disk_ready() && g_gpt_error == GptError::None; }

void print_slots(storage::RecordStore& store) {
  for (unsigned i = 0; i < 2; ++i) {
    const storage::SlotInfo& s = store.slot(i);
    const uint64_t first = g_part.first_lba + i * store.slot_sectors();
    console::printf("  slot %c: LBA %lu-%lu, %s", 'A' + i, first, first + store.slot_sectors() - 1,
                    storage::slot_state_name(s.state));
    if (s.state != storage::SlotState::Empty && s.state != storage::SlotState::NoMagic &&
        s.state != storage::SlotState::Io)
      console::printf(", generation %lu, %lu bytes", s.generation, s.length);
    console::printf("%s\n", store.newest() == static_cast<int>(i) ? " (newest)" : "");
  }
}

void ata_failure(const char* what) {
  LOG_WARN("storage: ata0 %s failed: %s (status 0x%02x, error 0x%02x)", what,
           drivers::storage::ata_error_name(g_ata.last_error()), g_ata.last_status(), g_ata.last_error_register());
}

uint64_t parse_counter(const uint8_t* p, size_t len) {
  if (len <= kTestMagicLen || memcmp(p, kTestMagic, kTestMagicLen) != 0) return 0;
  uint64_t n = 0;
  for (size_t i = kTestMagicLen; i < len && p[i] >= '0' && p[i] <= '9'; ++i) n = n * 10 + (p[i] - '0');
  return n;
}
}  // namespace

void state_partition_init() {
  lib::LockGuard g(g_lock);
  g_ata_error = g_ata.probe();
  if (g_ata_error != AtaError::None) {
    if (g_ata_error == AtaError::NoController)
      LOG_WARN("storage: no state partition: ata0 (IDE primary master): %s", drivers::storage::ata_error_name(g_ata_error));
    else
      LOG_WARN("storage: no state partition: ata0 (IDE primary master): %s (status 0x%02x, error 0x%02x)",
               drivers::storage::ata_error_name(g_ata_error), g_ata.last_status(), g_ata.last_error_register());
    return;
  }
  const auto& id = g_ata.identity();
  g_gpt_error = storage::gpt_find(g_ata, storage::kStatePartitionType, g_disk, g_part);
  if (g_gpt_error != GptError::None) {
    LOG_WARN("storage: ata0 %s, %lu sectors; no state partition: %s", id.model, id.sectors,
             storage::gpt_error_name(g_gpt_error));
    if (g_gpt_error == GptError::Io) ata_failure("read");
    return;
  }
  if (g_disk.header_lba != 1)
    LOG_WARN("storage: ata0 primary GPT header unusable (%s): using the backup at LBA %lu",
             storage::gpt_error_name(g_disk.primary_error), g_disk.header_lba);
  storage::SubDevice part(g_ata, g_part.first_lba, g_part.sectors());
  storage::RecordStore store(part);
  if (storage::StoreError e = store.scan(); e != storage::StoreError::None) {
    LOG_WARN("storage: ata0 %s, %lu sectors; state partition %u (LBA %lu-%lu) unusable: %s", id.model, id.sectors,
             g_part.index + 1, g_part.first_lba, g_part.last_lba, storage::store_error_name(e));
    return;
  }
  const int n = store.newest();
  for (unsigned i = 0; i < 2; ++i) {
    const storage::SlotState s = store.slot(i).state;
    if (s != storage::SlotState::Valid && s != storage::SlotState::Empty)
      LOG_WARN("storage: state slot %c invalid: %s%s", 'A' + i, storage::slot_state_name(s),
               n >= 0 ? ", using the other slot" : "");
  }
  if (n < 0)
    LOG_INFO("storage: ata0 %s, %lu sectors; state partition %u found (LBA %lu-%lu), no valid record", id.model,
             id.sectors, g_part.index + 1, g_part.first_lba, g_part.last_lba);
  else
    LOG_INFO("storage: ata0 %s, %lu sectors; state partition %u found (LBA %lu-%lu), generation %lu in slot %c",
             id.model, id.sectors, g_part.index + 1, g_part.first_lba, g_part.last_lba, store.slot(n).generation,
             'A' + n);
}

void state_partition_print() {
  lib::LockGuard g(g_lock);
  if (!disk_ready()) {
    console::printf("disk: ata0 (IDE primary master): %s\n", drivers::storage::ata_error_name(g_ata_error));
    return;
  }
  const auto& id = g_ata.identity();
  console::printf("disk: ata0 %s (serial %s), %lu sectors of 512 bytes, %s\n", id.model, id.serial, id.sectors,
                  id.lba48 ? "LBA48" : "LBA28");
  if (!partition_ready()) {
    console::printf("state partition: none: %s\n", storage::gpt_error_name(g_gpt_error));
    return;
  }
  char guid[37];
  storage::guid_format(g_disk.disk_guid, guid);
  console::printf("GPT: disk GUID %s, header at LBA %lu\n", guid, g_disk.header_lba);
  storage::guid_format(g_part.unique, guid);
  console::printf("state partition: %u, PARTUUID %s, LBA %lu-%lu (%lu KiB)\n", g_part.index + 1, guid,
                  g_part.first_lba, g_part.last_lba, g_part.sectors() / 2);
  storage::SubDevice part(g_ata, g_part.first_lba, g_part.sectors());
  storage::RecordStore store(part);
  if (storage::StoreError e = store.scan(); e != storage::StoreError::None) {
    console::printf("record store: %s\n", storage::store_error_name(e));
    return;
  }
  console::printf("record store: 2 slots of %lu sectors, %lu bytes of record each; not sealed, no rollback check\n",
                  store.slot_sectors(), store.capacity());
  print_slots(store);
}

void state_partition_commit_test() {
  lib::LockGuard g(g_lock);
  if (!partition_ready()) {
    console::printf("tpm state commit-test: no state partition (%s)\n",
                    disk_ready() ? storage::gpt_error_name(g_gpt_error) : drivers::storage::ata_error_name(g_ata_error));
    return;
  }
  storage::SubDevice part(g_ata, g_part.first_lba, g_part.sectors());
  storage::RecordStore store(part);
  size_t len = 0;
  uint64_t gen = 0;
  const storage::StoreError le = store.load(g_record, sizeof g_record, len, gen);
  if (le != storage::StoreError::None && le != storage::StoreError::NoRecord &&
      le != storage::StoreError::BufferTooSmall) {
    console::printf("tpm state commit-test: load failed: %s\n", storage::store_error_name(le));
    if (le == storage::StoreError::Io) ata_failure("read");
    return;
  }
  const uint64_t counter = (le == storage::StoreError::None ? parse_counter(g_record, len) : 0) + 1;
  // The record: the magic text and the counter in decimal (no NUL).
  const size_t n = lib::snformat(reinterpret_cast<char*>(g_record), sizeof g_record, "%s%lu", kTestMagic, counter);
  uint64_t committed = 0;
  const storage::StoreError ce = store.commit(g_record, n, committed);
  if (ce != storage::StoreError::None) {
    console::printf("tpm state commit-test: commit failed: %s\n", storage::store_error_name(ce));
    if (ce == storage::StoreError::Io) ata_failure("write");
    return;
  }
  console::printf("tpm state commit-test: committed generation %lu (slot %c), counter %lu\n", committed,
                  'A' + store.newest(), counter);
  print_slots(store);
}

}  // namespace mamori::platform
