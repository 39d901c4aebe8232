#include "vmm/guest_boot/load.hpp"

#include "vmm/core/elf64.hpp"
#include "vmm/core/multiboot1.hpp"
#include "vmm/guest_boot/bytes.hpp"
#include "vmm/guest_boot/elf32.hpp"
#include "vmm/guest_boot/linux_boot.hpp"
#include "vmm/guest_boot/multiboot_info.hpp"
#include "vmm/guest_boot/pvh.hpp"

namespace mamori::vmm::guest_boot {

const char* describe(LoadError e) {
  switch (e) {
    case LoadError::None: return "loaded";
    case LoadError::Refused: return "not a boot format mamori accepts";
    case LoadError::BadImage: return "refused by its format's checks";
    case LoadError::ModulesNotMultiboot: return "module = lines are for Multiboot kernels; a Linux kernel takes initrd =";
    case LoadError::TooManyModules: return "more than 16 modules (initrd and module = lines)";
    case LoadError::NoPlace: return "cannot be placed in the guest's memory";
    case LoadError::OutsideRam: return "a part of it lies outside the guest's RAM";
  }
  return "unknown load error";
}

namespace {

size_t str_len(const char* s) {
  size_t n = 0;
  while (s && s[n]) ++n;
  return n;
}

// "first rest" (rest may be empty: then just "first"), without the NUL.
uint64_t joined_len(const char* first, const char* rest) {
  return str_len(first) + (rest && rest[0] ? 1 + str_len(rest) : 0);
}

bool put(GuestRamWriter& ram, uint64_t gpa, const void* src, uint64_t n) {
  if (n == 0) return true;
  uint8_t* d = ram.bytes(gpa, n);
  if (!d) return false;
  __builtin_memcpy(d, src, n);
  return true;
}

bool put_joined(GuestRamWriter& ram, uint64_t gpa, const char* first, const char* rest) {
  uint64_t n = joined_len(first, rest);
  uint8_t* d = ram.bytes(gpa, n + 1);
  if (!d) return false;
  size_t at = 0;
  for (const char* p = first; p && *p; ++p) d[at++] = static_cast<uint8_t>(*p);
  if (rest && rest[0]) {
    d[at++] = ' ';
    for (const char* p = rest; *p; ++p) d[at++] = static_cast<uint8_t>(*p);
  }
  d[at] = 0;
  return true;
}

BootResult fail(BootResult r, LoadError e, const char* message, const char* detail = nullptr) {
  r.error = e;
  r.message = message;
  r.detail = detail;
  return r;
}

}  // namespace

BootResult load_boot_image(const BootRequest& in, GuestRamWriter& ram) {
  BootResult r{};
  const uint8_t* data = in.kernel.data;
  const size_t size = in.kernel.data ? in.kernel.size : 0;
  const Identified id = identify(data, size);
  r.kind = id.kind;
  r.format = id.message;
  if (id.kind == ImageKind::Refused) return fail(r, LoadError::Refused, id.message, id.detail);
  const bool linux = id.kind == ImageKind::LinuxBzImage, pvh = id.kind == ImageKind::PvhElf;
  const bool multiboot = !linux && !pvh;

  // The boot modules: the initrd first, then (Multiboot only) the module files.
  const BootFile* mods[kMaxModules];
  size_t n_mods = 0;
  if (in.initrd.data) mods[n_mods++] = &in.initrd;
  if (in.module_count && !multiboot) return fail(r, LoadError::ModulesNotMultiboot, describe(LoadError::ModulesNotMultiboot));
  if (in.module_count > kMaxModules - n_mods) return fail(r, LoadError::TooManyModules, describe(LoadError::TooManyModules));
  for (size_t i = 0; i < in.module_count; ++i) {
    if (!in.modules[i].data) return fail(r, LoadError::BadImage, "a module without its file");
    mods[n_mods++] = &in.modules[i];
  }

  const uint64_t low = low_ram_bytes(in.ram_bytes);
  const uint64_t cmdline_len = str_len(in.cmdline);
  const uint64_t initrd_size = in.initrd.data ? in.initrd.size : 0;
  LinuxKernel lk{};
  core::ElfImage img{};
  core::Multiboot1Header mb{};
  PlanRequest req{};
  uint32_t entry = 0;
  switch (id.kind) {
    case ImageKind::LinuxBzImage: {
      LinuxError e = linux_parse(data, size, lk);
      if (e != LinuxError::None) return fail(r, LoadError::BadImage, "a Linux kernel mamori cannot boot", describe(e));
      req = linux_plan_request(lk, LinuxBootInputs{cmdline_len, initrd_size, in.acpi_rsdp, in.ram_bytes});
      break;
    }
    case ImageKind::PvhElf:
    case ImageKind::Multiboot1Elf64: {
      core::ElfPolicy policy;
      policy.entry_space = core::ElfEntrySpace::Physical;  // paging is off at entry
      // A Multiboot kernel may be linked below 1 MiB: plan() decides
      // whether it fits there (layout.cpp low_kernel_fits).
      policy.min_paddr = pvh ? kHighRamStart : 0;
      policy.max_paddr = low;
      policy.max_total_memsz = low;
      core::ElfError e = core::elf64_validate(data, size, policy, img);
      if (e != core::ElfError::None) return fail(r, LoadError::BadImage, "an ELF64 kernel mamori cannot load", core::describe(e));
      entry = static_cast<uint32_t>(img.entry);
      if (pvh) {
        PvhError pe = pvh_find_entry(data, size, img, entry);
        if (pe != PvhError::None) return fail(r, LoadError::BadImage, "an ELF without a usable PVH entry", describe(pe));
      }
      break;
    }
    case ImageKind::Multiboot1Elf32: {
      Elf32Error e = elf32_validate(data, size, 0, low, img);  // below 1 MiB: as for ELF64 above
      if (e != Elf32Error::None) return fail(r, LoadError::BadImage, "an ELF32 kernel mamori cannot load", describe(e));
      entry = static_cast<uint32_t>(img.entry);
      break;
    }
    case ImageKind::Multiboot1Kludge: {
      core::Multiboot1Error e = core::multiboot1_parse(data, size, mb);
      if (e != core::Multiboot1Error::None || !mb.has_addresses)
        return fail(r, LoadError::BadImage, "a bad Multiboot header", core::describe(e));
      if (mb.file_offset > size || mb.load_size > size - mb.file_offset)
        return fail(r, LoadError::BadImage, "Multiboot load addresses outside the file");
      entry = mb.entry_addr;
      if (entry < mb.load_addr || entry - mb.load_addr >= static_cast<uint64_t>(mb.load_size) + mb.bss_size)
        return fail(r, LoadError::BadImage, "a Multiboot entry outside what it loads");
      break;
    }
    case ImageKind::Refused: return fail(r, LoadError::Refused, id.message, id.detail);
  }
  if (!linux) {
    if (id.kind == ImageKind::Multiboot1Kludge) {
      req.kernel_base = mb.load_addr;
      req.kernel_span = static_cast<uint64_t>(mb.load_size) + mb.bss_size;
    } else {
      req.kernel_base = img.paddr_low;
      req.kernel_span = img.paddr_high - img.paddr_low;
    }
    req.ram_bytes = in.ram_bytes;
    req.cmdline_len = pvh ? cmdline_len : joined_len(in.vm_name, in.cmdline);
    req.module_count = n_mods;
    for (size_t i = 0; i < n_mods; ++i)
      req.modules[i] = ModuleRequest{mods[i]->size, pvh ? 0 : joined_len(mods[i]->name, mods[i]->args)};
    // Multiboot's module fields are 32-bit; a PVH kernel starts with paging off.
    req.module_max_end = k4G;
  }
  r.kernel_base = req.kernel_base;
  r.kernel_span = req.kernel_span;
  Plan p;
  if (PlanError e = plan(req, p); e != PlanError::None)
    return fail(r, LoadError::NoPlace, describe(LoadError::NoPlace), describe(e));

  // The kernel at its addresses (the rest of its span stays zero: .bss).
  bool ok = true;
  if (linux) {
    ok = put(ram, lk.load_address, data + lk.kernel_offset, lk.kernel_size);
  } else if (id.kind == ImageKind::Multiboot1Kludge) {
    ok = put(ram, mb.load_addr, data + mb.file_offset, mb.load_size);
  } else {
    for (size_t i = 0; i < img.segment_count && ok; ++i)
      ok = put(ram, img.segments[i].paddr, data + img.segments[i].offset, img.segments[i].filesz);
  }
  // Modules and command lines where the plan put them.
  for (size_t i = 0; i < n_mods && ok; ++i) {
    ok = put(ram, p.module_gpa[i], mods[i]->data, mods[i]->size);
    if (ok && multiboot) ok = put_joined(ram, p.module_cmdline_gpa[i], mods[i]->name, mods[i]->args);
    r.module_gpa[i] = p.module_gpa[i];
  }
  r.module_count = n_mods;
  if (ok) ok = multiboot ? put_joined(ram, p.cmdline_gpa, in.vm_name, in.cmdline)
                         : put(ram, p.cmdline_gpa, in.cmdline ? in.cmdline : "", cmdline_len + 1);
  uint8_t gdt[kGdtEntries * 8];
  write_boot_gdt(gdt);
  if (ok) ok = put(ram, kGdtGpa, gdt, sizeof gdt);
  uint8_t* info = ok ? ram.bytes(kBootInfoGpa, kBootInfoSize) : nullptr;
  uint8_t* tables = ok ? ram.bytes(kBootTablesGpa, kBootTablesSize) : nullptr;
  if (!info || !tables) return fail(r, LoadError::OutsideRam, describe(LoadError::OutsideRam));

  if (linux) {
    linux_write_boot_params(data, lk, LinuxBootInputs{cmdline_len, initrd_size, in.acpi_rsdp, in.ram_bytes}, p, info);
    r.entry = linux_entry_state(lk, kBootInfoGpa, kGdtGpa);
  } else if (pvh) {
    pvh_write_start_info(PvhInputs{cmdline_len, initrd_size, in.acpi_rsdp}, p, info, tables);
    r.entry = pvh_entry_state(entry, kBootInfoGpa, kGdtGpa);
  } else {
    MultibootInputs mi{};
    mi.module_count = n_mods;
    for (size_t i = 0; i < n_mods; ++i) mi.module_sizes[i] = mods[i]->size;
    mi.have_cmdline = true;
    multiboot_write_info(mi, p, info, tables);
    r.entry = multiboot_entry_state(entry, kBootInfoGpa, kGdtGpa);
  }
  r.boot_gdt = !multiboot;
  r.error = LoadError::None;
  return r;
}

}  // namespace mamori::vmm::guest_boot
