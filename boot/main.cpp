// mamori's UEFI loader (BOOTX64.EFI): reads the VMM and its files from the
// volume it was started from, validates the VMM's ELF image, builds the
// VMM's first page tables, leaves the firmware (ExitBootServices) and jumps
// to the VMM with a BootInfo record. See docs/boot.md.
#include "bootinfo.hpp"
#include "console.hpp"
#include "efi.hpp"
#include "page_tables.hpp"
#include "vmm_image.hpp"
#include "vmm/core/efi_memory_type.hpp"

using namespace mamori;
using namespace mamori::loader;

extern "C" char mamori_handoff_begin[], mamori_handoff_end[];

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t k4G = 1ull << 32;
constexpr unsigned kExitBootServicesTries = 8;
constexpr uint64_t kMaxFileSize = 256ull << 20;  // refuse anything bigger: not ours

uint64_t pages_for(uint64_t bytes) { return (bytes + kPage - 1) / kPage; }

void copy_bytes(void* d, const void* s, uint64_t n) {
  auto* dd = static_cast<uint8_t*>(d);
  auto* ss = static_cast<const uint8_t*>(s);
  for (uint64_t i = 0; i < n; ++i) dd[i] = ss[i];
}
void zero_bytes(void* d, uint64_t n) {
  auto* dd = static_cast<uint8_t*>(d);
  for (uint64_t i = 0; i < n; ++i) dd[i] = 0;
}

bool allocate(uint64_t bytes, EFI_ALLOCATE_TYPE how, uint64_t& addr) {
  EFI_PHYSICAL_ADDRESS a = (how == AllocateMaxAddress) ? addr : 0;
  EFI_STATUS s = uefi_call_wrapper(BS->AllocatePages, 4, how, EfiLoaderData, pages_for(bytes), &a);
  if (EFI_ERROR(s)) return false;
  addr = a;
  return true;
}

// Reads \mamori\<name> into page-aligned memory. A missing file is reported
// by the caller (it is fatal for vmm.elf, optional for others).
EFI_STATUS read_file(EFI_FILE_HANDLE dir, const char* name, uint64_t& phys, uint64_t& size) {
  CHAR16 wname[boot::kFileNameLen];
  unsigned i = 0;
  for (; name[i] && i + 1 < boot::kFileNameLen; ++i) wname[i] = static_cast<CHAR16>(name[i]);
  wname[i] = 0;
  EFI_FILE_HANDLE f;
  EFI_STATUS s = uefi_call_wrapper(dir->Open, 5, dir, &f, wname, EFI_FILE_MODE_READ, 0);
  if (EFI_ERROR(s)) return s;
  EFI_FILE_INFO* info = LibFileInfo(f);
  if (!info) { uefi_call_wrapper(f->Close, 1, f); return EFI_DEVICE_ERROR; }
  size = info->FileSize;
  FreePool(info);
  if (size > kMaxFileSize) { uefi_call_wrapper(f->Close, 1, f); return EFI_BAD_BUFFER_SIZE; }
  // One extra zero byte so text files (mamori.cfg) are NUL-terminated.
  if (!allocate(size + 1, AllocateAnyPages, phys)) { uefi_call_wrapper(f->Close, 1, f); return EFI_OUT_OF_RESOURCES; }
  zero_bytes(reinterpret_cast<void*>(phys), pages_for(size + 1) * kPage);
  UINTN n = size;
  s = uefi_call_wrapper(f->Read, 3, f, &n, reinterpret_cast<void*>(phys));
  uefi_call_wrapper(f->Close, 1, f);
  if (EFI_ERROR(s)) return s;
  if (n != size) return EFI_VOLUME_CORRUPTED;
  return EFI_SUCCESS;
}

bool equal_ascii_ci(const CHAR16* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    auto la = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
    auto lb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
    if (la != lb) return false;
  }
  return *a == 0 && *b == 0;
}

// Loads every regular file of \mamori\ except vmm.elf, so the VMM finds
// mamori.cfg, vtpm-service and the guest images by name (docs/boot.md).
bool load_directory(EFI_FILE_HANDLE dir, boot::BootInfo& bi) {
  uint8_t buf[sizeof(EFI_FILE_INFO) + 512];
  uefi_call_wrapper(dir->SetPosition, 2, dir, 0);
  for (;;) {
    UINTN n = sizeof(buf);
    EFI_STATUS s = uefi_call_wrapper(dir->Read, 3, dir, &n, buf);
    if (EFI_ERROR(s)) { con_fatal("cannot list \\mamori\\ (status %lx)", static_cast<unsigned long>(s)); return false; }
    if (n == 0) return true;
    auto* info = reinterpret_cast<EFI_FILE_INFO*>(buf);
    if (info->Attribute & EFI_FILE_DIRECTORY) continue;
    if (equal_ascii_ci(info->FileName, "vmm.elf")) continue;
    char name[boot::kFileNameLen];
    unsigned i = 0;
    for (; info->FileName[i] && i + 1 < boot::kFileNameLen; ++i) {
      CHAR16 c = info->FileName[i];
      name[i] = (c < 0x80) ? static_cast<char>(c) : '?';
    }
    name[i] = 0;
    if (info->FileName[i]) { con_printf("mamori-loader: skipping %s...: name longer than %u\n", name, boot::kFileNameLen - 1); continue; }
    if (bi.file_count == boot::kMaxFiles) { con_printf("mamori-loader: skipping %s: more than %u files\n", name, boot::kMaxFiles); continue; }
    boot::LoadedFile& lf = bi.files[bi.file_count];
    s = read_file(dir, name, lf.phys, lf.size);
    if (EFI_ERROR(s)) { con_fatal("cannot read \\mamori\\%s (status %lx)", name, static_cast<unsigned long>(s)); return false; }
    copy_bytes(lf.name, name, i + 1);
    ++bi.file_count;
    con_printf("mamori-loader: loaded \\mamori\\%s (%lu bytes)\n", name, static_cast<unsigned long>(lf.size));
  }
}

uint64_t find_rsdp(EFI_SYSTEM_TABLE* st) {
  EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
  uint64_t v1 = 0;
  for (UINTN i = 0; i < st->NumberOfTableEntries; ++i) {
    EFI_CONFIGURATION_TABLE& t = st->ConfigurationTable[i];
    if (!CompareGuid(&t.VendorGuid, &acpi20)) return reinterpret_cast<uint64_t>(t.VendorTable);
    if (!CompareGuid(&t.VendorGuid, &acpi10)) v1 = reinterpret_cast<uint64_t>(t.VendorTable);
  }
  return v1;
}

void find_framebuffer(boot::BootInfo& bi) {
  EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
  EFI_GRAPHICS_OUTPUT_PROTOCOL* gop = nullptr;
  if (EFI_ERROR(uefi_call_wrapper(BS->LocateProtocol, 3, &gop_guid, nullptr, reinterpret_cast<void**>(&gop))) || !gop || !gop->Mode)
    return;
  bi.framebuffer.phys = gop->Mode->FrameBufferBase;
  bi.framebuffer.width = gop->Mode->Info->HorizontalResolution;
  bi.framebuffer.height = gop->Mode->Info->VerticalResolution;
  bi.framebuffer.pitch_pixels = gop->Mode->Info->PixelsPerScanLine;
  bi.framebuffer.format = gop->Mode->Info->PixelFormat;
}

uint64_t read_tsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace

extern "C" EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* st) {
  InitializeLib(image, st);
  con_init(st);
  con_printf("mamori-loader %s: starting\n", MAMORI_VERSION);

  EFI_LOADED_IMAGE* li = nullptr;
  EFI_GUID li_guid = LOADED_IMAGE_PROTOCOL, fs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
  EFI_FILE_IO_INTERFACE* fs = nullptr;
  EFI_FILE_HANDLE root = nullptr, dir = nullptr;
  if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &li_guid, reinterpret_cast<void**>(&li))) ||
      EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle, &fs_guid, reinterpret_cast<void**>(&fs))) ||
      EFI_ERROR(uefi_call_wrapper(fs->OpenVolume, 2, fs, &root))) {
    con_fatal("cannot open the volume this loader was started from");
    return EFI_LOAD_ERROR;
  }
  if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &dir, W("\\mamori"), EFI_FILE_MODE_READ, 0))) {
    con_fatal("no \\mamori\\ directory on the boot volume: write the image with 'tools/mamori image'");
    return EFI_NOT_FOUND;
  }

  // The BootInfo record and the translated memory map live in one
  // allocation below 4 GiB; its map part is sized generously now because
  // nothing may be allocated after the final GetMemoryMap.
  constexpr uint64_t kMapSlots = 1024;
  uint64_t bi_phys = 0xFFFFFFFF;
  uint64_t bi_bytes = sizeof(boot::BootInfo) + kMapSlots * sizeof(boot::MemoryRegion);
  if (!allocate(bi_bytes, AllocateMaxAddress, bi_phys)) { con_fatal("out of memory for BootInfo"); return EFI_OUT_OF_RESOURCES; }
  zero_bytes(reinterpret_cast<void*>(bi_phys), pages_for(bi_bytes) * kPage);
  auto& bi = *reinterpret_cast<boot::BootInfo*>(bi_phys);
  auto* regions = reinterpret_cast<boot::MemoryRegion*>(bi_phys + sizeof(boot::BootInfo));
  bi.magic = boot::kBootInfoMagic;
  bi.version = boot::kBootInfoVersion;
  bi.size = sizeof(boot::BootInfo);
  copy_bytes(bi.loader_version, MAMORI_VERSION, sizeof(MAMORI_VERSION) < 32 ? sizeof(MAMORI_VERSION) : 31);

  // The VMM image.
  uint64_t elf_phys = 0, elf_size = 0;
  EFI_STATUS s = read_file(dir, "vmm.elf", elf_phys, elf_size);
  if (s == EFI_NOT_FOUND) { con_fatal("\\mamori\\vmm.elf not found on the boot volume"); return s; }
  if (EFI_ERROR(s)) { con_fatal("cannot read \\mamori\\vmm.elf (status %lx)", static_cast<unsigned long>(s)); return s; }
  VmmImage vmm;
  const char* why = plan_vmm_image(reinterpret_cast<const uint8_t*>(elf_phys), elf_size, vmm);
  if (why) { con_fatal("\\mamori\\vmm.elf refused: %s", why); return EFI_LOAD_ERROR; }
  uint64_t vmm_phys = 0;
  if (!allocate(vmm.span, AllocateAnyPages, vmm_phys)) { con_fatal("out of memory for the VMM image (%lu bytes)", static_cast<unsigned long>(vmm.span)); return EFI_OUT_OF_RESOURCES; }
  zero_bytes(reinterpret_cast<void*>(vmm_phys), pages_for(vmm.span) * kPage);
  for (unsigned i = 0; i < vmm.segment_count; ++i) {
    const VmmSegment& seg = vmm.segments[i];
    copy_bytes(reinterpret_cast<void*>(vmm_phys + (seg.vaddr - vmm.virt_base)),
               reinterpret_cast<const void*>(elf_phys + seg.file_offset), seg.file_size);
  }
  bi.vmm_phys_base = vmm_phys;
  bi.vmm_phys_size = pages_for(vmm.span) * kPage;
  bi.vmm_virt_base = vmm.virt_base;
  con_printf("mamori-loader: vmm.elf: %u segments, %lu KiB at phys %lx, entry %lx\n", vmm.segment_count,
             static_cast<unsigned long>(vmm.span >> 10), static_cast<unsigned long>(vmm_phys),
             static_cast<unsigned long>(vmm.entry));

  if (!load_directory(dir, bi)) return EFI_LOAD_ERROR;
  for (unsigned i = 0; i < bi.file_count; ++i) {
    if (equal_ascii_ci(reinterpret_cast<const CHAR16*>(u"mamori.cfg"), bi.files[i].name)) {
      bi.config = bi.files[i].phys;
      bi.config_size = bi.files[i].size;
    }
  }
  if (!bi.config) con_printf("mamori-loader: no \\mamori\\mamori.cfg: the VMM uses its defaults\n");

  bi.rsdp = find_rsdp(st);
  if (!bi.rsdp) con_printf("mamori-loader: warning: firmware publishes no ACPI RSDP\n");
  find_framebuffer(bi);
  bi.efi_system_table = reinterpret_cast<uint64_t>(st);
  bi.efi_runtime_services = reinterpret_cast<uint64_t>(st->RuntimeServices);

  // Page tables: identity map up to the top of the firmware's memory map.
  UINTN map_size = 0, map_key = 0, desc_size = 0;
  UINT32 desc_version = 0;
  uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, nullptr, &map_key, &desc_size, &desc_version);
  uint64_t map_buf_bytes = map_size + 64 * desc_size;  // page-table and stub allocations still follow
  uint64_t map_buf = 0;
  if (!allocate(map_buf_bytes, AllocateAnyPages, map_buf)) { con_fatal("out of memory for the memory map"); return EFI_OUT_OF_RESOURCES; }
  UINTN sz = map_buf_bytes;
  if (EFI_ERROR(uefi_call_wrapper(BS->GetMemoryMap, 5, &sz, reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(map_buf), &map_key, &desc_size, &desc_version))) {
    con_fatal("GetMemoryMap failed"); return EFI_LOAD_ERROR;
  }
  uint64_t top = k4G;
  for (UINTN off = 0; off < sz; off += desc_size) {
    auto* d = reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(map_buf + off);
    uint64_t end = d->PhysicalStart + d->NumberOfPages * kPage;
    if (end > top) top = end;
  }
  PageTableBuilder pt;
  if (!pt.init(top)) return EFI_OUT_OF_RESOURCES;
  for (unsigned i = 0; i < vmm.segment_count; ++i) {
    const VmmSegment& seg = vmm.segments[i];
    uint64_t va = seg.vaddr & ~(kPage - 1);
    uint64_t len = ((seg.vaddr + seg.mem_size + kPage - 1) & ~(kPage - 1)) - va;
    if (!pt.map_4k(va, vmm_phys + (va - vmm.virt_base), len, seg.writable, seg.executable)) return EFI_OUT_OF_RESOURCES;
  }
  uint64_t stub = 0xFFFFFFFF;
  if (!allocate(kPage, AllocateMaxAddress, stub)) { con_fatal("out of memory for the handoff stub"); return EFI_OUT_OF_RESOURCES; }
  copy_bytes(reinterpret_cast<void*>(stub), mamori_handoff_begin, static_cast<uint64_t>(mamori_handoff_end - mamori_handoff_begin));
  if (!pt.map_4k(stub, stub, kPage, false, true)) return EFI_OUT_OF_RESOURCES;
  bi.page_tables = pt.pml4;

  con_printf("mamori-loader: exiting boot services, entering the VMM\n");
  // ExitBootServices fails with EFI_INVALID_PARAMETER when the map changed
  // since GetMemoryMap (UEFI 2.9 §7.4): fetch the map again and retry.
  for (unsigned attempt = 0;; ++attempt) {
    sz = map_buf_bytes;
    s = uefi_call_wrapper(BS->GetMemoryMap, 5, &sz, reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(map_buf), &map_key, &desc_size, &desc_version);
    if (!EFI_ERROR(s)) s = uefi_call_wrapper(BS->ExitBootServices, 2, image, map_key);
    if (!EFI_ERROR(s)) break;
    if (attempt + 1 == kExitBootServicesTries) {
      con_fatal("ExitBootServices failed %u times (status %lx)", kExitBootServicesTries, static_cast<unsigned long>(s));
      return s;
    }
  }
  // No firmware services from here on.
  bi.tsc_at_exit_boot_services = read_tsc();
  uint32_t n = 0;
  for (UINTN off = 0; off < sz && n < kMapSlots; off += desc_size) {
    auto* d = reinterpret_cast<EFI_MEMORY_DESCRIPTOR*>(map_buf + off);
    regions[n].base = d->PhysicalStart;
    regions[n].size = d->NumberOfPages * kPage;
    regions[n].type = core::memory_type_from_efi(d->Type);  // the table the tests check
    regions[n].efi_type = d->Type;
    regions[n].efi_attributes = d->Attribute;
    ++n;
  }
  bi.memory_map = reinterpret_cast<uint64_t>(regions);
  bi.memory_map_count = n;

  using Handoff = void (*)(uint64_t bootinfo, uint64_t cr3, uint64_t entry);
  reinterpret_cast<Handoff>(stub)(bi_phys, pt.pml4, vmm.entry);
  return EFI_ABORTED;  // not reached
}
