#include "vmm/guest_boot/linux_boot.hpp"

#include "vmm/guest_boot/bytes.hpp"

namespace mamori::vmm::guest_boot {
namespace {
// bootparam.h: offsets in struct boot_params (= in the file for the setup header).
constexpr size_t kOffAcpiRsdp = 0x070;
constexpr size_t kOffExtRamdiskImage = 0x0C0, kOffExtRamdiskSize = 0x0C4, kOffExtCmdLinePtr = 0x0C8;
constexpr size_t kOffE820Entries = 0x1E8;
constexpr size_t kOffSentinel = 0x1EF;
constexpr size_t kOffSetupSects = 0x1F1, kOffSyssize = 0x1F4, kOffBootFlag = 0x1FE, kOffJump = 0x200,
                 kOffHeader = 0x202, kOffVersion = 0x206, kOffTypeOfLoader = 0x210, kOffLoadflags = 0x211,
                 kOffCode32Start = 0x214, kOffRamdiskImage = 0x218, kOffRamdiskSize = 0x21C,
                 kOffHeapEndPtr = 0x224, kOffCmdLinePtr = 0x228, kOffInitrdAddrMax = 0x22C,
                 kOffKernelAlignment = 0x230, kOffRelocatable = 0x234, kOffMinAlignment = 0x235,
                 kOffXloadflags = 0x236, kOffCmdlineSize = 0x238, kOffPrefAddress = 0x258, kOffInitSize = 0x260;
constexpr size_t kSetupHeaderEnd = 0x26C;  // end of kernel_info_offset, the last 2.15 field
constexpr size_t kSetupHeaderRoom = 0x290; // boot_params: edd_mbr_sig_buffer follows the header's room
constexpr size_t kOffE820Table = 0x2D0;
constexpr size_t kE820EntrySize = 20;
// Kernels older than 2.10 do not say what they need beyond their own
// size; this much above the load address is what their decompressor was
// documented to use (boot.rst: "the kernel needs ... init_size").
constexpr uint64_t kPre210SpanFactor = 4;
}  // namespace

const char* describe(LinuxError e) {
  switch (e) {
    case LinuxError::None: return "no error";
    case LinuxError::NullBuffer: return "no data";
    case LinuxError::TooSmall: return "shorter than a Linux boot sector and setup header";
    case LinuxError::NoBootFlag: return "no boot sector signature 0xAA55 at 0x1FE";
    case LinuxError::NoHdrS: return "no \"HdrS\" setup header at 0x202 (not a Linux bzImage, or older than protocol 2.00)";
    case LinuxError::ProtocolTooOld: return "Linux boot protocol older than 2.06 (mamori needs 2.06 or later)";
    case LinuxError::NotBzImage: return "a zImage (LOADED_HIGH clear): only bzImages are supported";
    case LinuxError::SetupOutsideFile: return "its setup part ((setup_sects + 1) * 512 bytes) runs past the end of the file";
    case LinuxError::NoProtectedModeKernel: return "no protected-mode kernel after the setup part";
    case LinuxError::SyssizeMismatch: return "syssize says the kernel is longer than the file";
    case LinuxError::BadAlignment: return "relocatable, but kernel_alignment is not a power of two of at least 4 KiB";
    case LinuxError::BadHeaderEnd: return "the setup header's length (byte at 0x201) runs past the file or the known header";
  }
  return "unknown Linux boot protocol error";
}

LinuxError linux_parse(const uint8_t* d, size_t size, LinuxKernel& k) {
  k = LinuxKernel{};
  if (!d) return LinuxError::NullBuffer;
  if (size < kOffVersion + 2) return LinuxError::TooSmall;
  if (le16(d + kOffBootFlag) != kBootFlag) return LinuxError::NoBootFlag;
  if (le32(d + kOffHeader) != kHdrSMagic) return LinuxError::NoHdrS;
  k.version = le16(d + kOffVersion);
  if (k.version < kMinProtocol) return LinuxError::ProtocolTooOld;
  if (size < kSetupHeaderEnd) return LinuxError::TooSmall;
  // boot.rst: "the end of setup header can be calculated as 0x0202 + byte value at offset 0x0201".
  k.header_end = kOffJump + 2 + d[kOffJump + 1];
  if (k.header_end > kSetupHeaderRoom || k.header_end > size || k.header_end <= kOffInitrdAddrMax + 4)
    return LinuxError::BadHeaderEnd;
  k.setup_sects = d[kOffSetupSects];
  k.loadflags = d[kOffLoadflags];
  if (!(k.loadflags & kLoadedHigh)) return LinuxError::NotBzImage;
  uint32_t sects = k.setup_sects ? k.setup_sects : 4;  // boot.rst: "if this field is 0, the real value is 4"
  k.kernel_offset = (static_cast<uint64_t>(sects) + 1) * 512;
  if (k.kernel_offset > size) return LinuxError::SetupOutsideFile;
  if (k.kernel_offset == size) return LinuxError::NoProtectedModeKernel;
  k.kernel_size = size - k.kernel_offset;
  k.syssize = le32(d + kOffSyssize);
  if (static_cast<uint64_t>(k.syssize) * 16 > k.kernel_size) return LinuxError::SyssizeMismatch;
  k.code32_start = le32(d + kOffCode32Start);
  k.initrd_addr_max = le32(d + kOffInitrdAddrMax);
  k.kernel_alignment = le32(d + kOffKernelAlignment);
  k.relocatable = d[kOffRelocatable] != 0;
  k.cmdline_size = le32(d + kOffCmdlineSize);
  if (k.version >= 0x20A && k.header_end >= kOffInitSize + 4) {
    k.min_alignment = d[kOffMinAlignment];
    k.pref_address = le64(d + kOffPrefAddress);
    k.init_size = le32(d + kOffInitSize);
  }
  if (k.version >= 0x20C) k.xloadflags = le16(d + kOffXloadflags);

  // Where the protected-mode kernel goes (boot.rst "Loading The Rest of The
  // Kernel" and the relocatable_kernel / pref_address fields): a
  // relocatable kernel at its preferred address rounded to its alignment,
  // otherwise at code32_start. The kernel decompresses in place, using
  // init_size bytes from there.
  uint64_t load = k.code32_start;
  if (k.relocatable) {
    uint32_t a = k.kernel_alignment;
    if (a < kPageSize || (a & (a - 1))) return LinuxError::BadAlignment;
    // A preferred address above 4 GiB cannot be entered in 32-bit mode.
    if (k.pref_address && k.pref_address < k4G) load = k.pref_address;
    load = align_up(load, a);
  }
  k.load_address = load;
  k.span = k.init_size > k.kernel_size ? k.init_size : k.kernel_size;
  if (k.init_size == 0) k.span = k.kernel_size * kPre210SpanFactor;
  return LinuxError::None;
}

PlanRequest linux_plan_request(const LinuxKernel& k, const LinuxBootInputs& in) {
  PlanRequest r{};
  r.ram_bytes = in.ram_bytes;
  r.kernel_base = k.load_address;
  r.kernel_span = k.span;
  r.cmdline_len = in.cmdline_len;
  r.cmdline_max = k.cmdline_size ? k.cmdline_size : 255;  // boot.rst: 255 before 2.06
  if (in.initrd_size) {
    r.module_count = 1;
    r.modules[0] = ModuleRequest{in.initrd_size, 0};
  }
  // initrd_addr_max is the address of the last byte the initrd may use.
  r.module_max_end = static_cast<uint64_t>(k.initrd_addr_max) + 1;
  r.modules_above_4g = (k.xloadflags & kXlfCanBeLoadedAbove4G) != 0;
  if (r.modules_above_4g) r.module_max_end = 0;
  return r;
}

void linux_write_boot_params(const uint8_t* d, const LinuxKernel& k, const LinuxBootInputs& in, const Plan& p,
                             uint8_t* bp) {
  __builtin_memset(bp, 0, kBootParamsSize);
  // The setup header as the kernel built it; everything else zero (the
  // sentinel at 0x1EF included: bootparam.h, a non-zero sentinel makes the
  // kernel clear fields a loader did not mean to set).
  __builtin_memcpy(bp + kSetupHeaderOffset, d + kSetupHeaderOffset, k.header_end - kSetupHeaderOffset);
  bp[kOffSentinel] = 0;
  bp[kOffTypeOfLoader] = kTypeOfLoaderUndefined;
  // No real-mode setup code runs, so no heap (heap_end_ptr) is offered.
  bp[kOffLoadflags] = static_cast<uint8_t>(k.loadflags & ~kCanUseHeap);
  put16(bp + kOffHeapEndPtr, 0);
  put32(bp + kOffCode32Start, static_cast<uint32_t>(k.load_address));
  put32(bp + kOffCmdLinePtr, static_cast<uint32_t>(p.cmdline_gpa));
  put32(bp + kOffExtCmdLinePtr, static_cast<uint32_t>(p.cmdline_gpa >> 32));
  if (in.initrd_size && p.module_count > 0) {
    put32(bp + kOffRamdiskImage, static_cast<uint32_t>(p.module_gpa[0]));
    put32(bp + kOffRamdiskSize, static_cast<uint32_t>(in.initrd_size));
    put32(bp + kOffExtRamdiskImage, static_cast<uint32_t>(p.module_gpa[0] >> 32));
    put32(bp + kOffExtRamdiskSize, static_cast<uint32_t>(in.initrd_size >> 32));
  } else {
    put32(bp + kOffRamdiskImage, 0);
    put32(bp + kOffRamdiskSize, 0);
  }
  if (k.version >= 0x20E) put64(bp + kOffAcpiRsdp, in.acpi_rsdp);
  size_t n = p.map_count < kE820MaxZeroPage ? p.map_count : kE820MaxZeroPage;
  for (size_t i = 0; i < n; ++i) {
    uint8_t* e = bp + kOffE820Table + kE820EntrySize * i;
    put64(e, p.map[i].base);
    put64(e + 8, p.map[i].size);
    put32(e + 16, static_cast<uint32_t>(p.map[i].type));
  }
  bp[kOffE820Entries] = static_cast<uint8_t>(n);
}

EntryState linux_entry_state(const LinuxKernel& k, uint64_t boot_params_gpa, uint64_t gdt_gpa) {
  EntryState s = flat_protected_mode(gdt_gpa);
  s.eip = static_cast<uint32_t>(k.load_address);
  s.esi = static_cast<uint32_t>(boot_params_gpa);
  s.ebx = s.ebp = s.edi = 0;  // boot.rst: "%ebp, %edi and %ebx must be zero"
  return s;
}

}  // namespace mamori::vmm::guest_boot
