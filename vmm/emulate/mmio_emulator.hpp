// Emulation of one guest instruction that faulted on an emulated MMIO
// region (its EPT leaves the region unmapped, so an access is an EPT
// violation that carries no operand, SDM 3C §28.2.3.2): fetch the
// instruction through the guest's page tables, decode it (decoder.hpp),
// and carry it out against the region's device and guest RAM.
//
// Pure: the exit handler (vmm/vm/exits.cpp) passes the VMCS values as a
// VcpuState plus the fault, guest RAM and the device as small interfaces,
// and applies the result (registers, RIP, an event to inject, or a stop).
//
// String instructions (Linux's memcpy_toio/_fromio are REP MOVS) run
// element by element, each element translated and checked per page as the
// CPU would: the guest's page rights (U/S with CPL, R/W with CR0.WP, SMAP
// with RFLAGS.AC) give #PF with the §4.7 error code and CR2; an element
// that crosses a page is split at the page boundary. At most
// kMaxStringElementsPerExit elements per exit: the rest resumes when the
// guest re-executes the instruction (SDM 2 "REP": registers reflect the
// elements done, RIP stays at the instruction).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/arch/regs.hpp"
#include "vmm/emulate/access.hpp"
#include "vmm/emulate/guest_paging.hpp"

namespace mamori::emulate {

// An emulated device. Sizes are 1, 2, 4 or 8 bytes; `offset` is from the
// region's base.
class MmioDevice {
 public:
  virtual uint64_t mmio_read(uint64_t offset, uint8_t size) = 0;
  virtual void mmio_write(uint64_t offset, uint8_t size, uint64_t value) = 0;

 protected:
  ~MmioDevice() = default;
};

// Guest-physical RAM. Each call is all or nothing: false (and nothing
// copied) unless all of [gpa, gpa + n) is guest RAM the emulator may touch.
// contains() lets the emulator check both sides of an element before a
// device access with side effects (a FIFO read) is made.
class GuestRam {
 public:
  virtual bool contains(uint64_t gpa, size_t n) const = 0;
  virtual bool read(uint64_t gpa, uint8_t* dst, size_t n) = 0;
  virtual bool write(uint64_t gpa, const uint8_t* src, size_t n) = 0;

 protected:
  ~GuestRam() = default;
};

// The region that faulted: [gpa, gpa + size) answered by `device`.
struct MmioWindow {
  uint64_t gpa = 0, size = 0;
  MmioDevice* device = nullptr;
  uint64_t accesses = 0;  // device accesses made (statistics, incremented here)
};

// VMCS guest state the emulation reads (SDM 3C §25.4.1).
struct VcpuState {
  GuestPagingState paging{};     // CR0/CR4 as the guest sees them, CR3, IA32_EFER
  uint32_t cs_access_rights = 0;  // bit 13 L, bit 14 D/B
  uint8_t cpl = 0;                // SS.DPL (§25.4.1: the CPL is SS's DPL)
  uint64_t segment_base[6] = {};  // by Segment (ES, CS, SS, DS, FS, GS)
  uint64_t rip = 0, rflags = 0;
};

// The fault (§28.2.1 exit qualification, §28.2.4 IDT-vectoring information).
struct MmioFault {
  uint64_t gpa = 0;                    // guest-physical address of the access
  bool read = false, write = false, fetch = false;  // EPT-violation qualification bits 0-2
  bool during_event_delivery = false;  // IDT-vectoring information valid
};

inline constexpr uint64_t kMaxStringElementsPerExit = 4096;

enum class Outcome : uint8_t {
  Done,    // instruction completed: RIP advanced (Result::rip), registers updated
  Partial, // a REP string did some elements: registers updated, RIP unchanged
  Retry,   // nothing done: re-enter; the guest faults again if it still means it
  Inject,  // raise `event` (registers reflect elements done; RIP unchanged)
  Stop,    // cannot be emulated: stop the guest (`stop` says why)
};

enum class StopReason : uint8_t {
  None,
  EventDelivery,    // the CPU's own event delivery (IDT, GDT, stack) touched MMIO
  FetchFromMmio,    // the guest executes from the MMIO region
  FetchFailed,      // no instruction bytes: tables or code outside guest RAM
  PagingBroken,     // a data walk hit a table outside RAM or an invalid mode
  NoProgress,       // a string instruction with no element that can be done here
  PastWindowEnd,    // a single access that starts in the region and ends past it
};
const char* describe(StopReason r);

// An exception to inject (SDM 3A Table 6-1 vectors).
struct Event {
  uint8_t vector = 0;
  bool has_error_code = false;
  uint32_t error_code = 0;
  bool page_fault = false;  // vector 14: load CR2 with `cr2`
  uint64_t cr2 = 0;
};
inline constexpr uint8_t kVectorUd = 6, kVectorGp = 13, kVectorSs = 12, kVectorPf = 14;

struct Emulation {
  Outcome outcome = Outcome::Stop;
  StopReason stop = StopReason::None;
  uint64_t rip = 0;       // the next RIP (Done), else the instruction's
  uint64_t linear = 0;    // the address concerned (instruction or element) for reports
  bool undecodable = false;  // Inject #UD because the decoder refused the instruction
  Event event{};
  uint64_t elements = 0;  // string elements done
};

// Emulates the instruction at state.rip. `regs` is the guest's register
// file with its RSP slot filled in (the caller writes RSP back).
Emulation emulate_mmio(const VcpuState& state, const MmioFault& fault, arch::Gprs& regs, GuestRam& ram,
                    MmioWindow& window);

}  // namespace mamori::emulate
