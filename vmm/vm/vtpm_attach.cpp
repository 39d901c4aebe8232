#include "vtpm_attach.hpp"
#include <new>
#include "vmm/lib/format.hpp"
#include "vmm/lib/spinlock.hpp"
#include "vmm/core/config.hpp"
#include "vmm/lib/text.hpp"
#include "vmm/log.hpp"
#include "vmm/platform/config.hpp"
#include "vmm/partition/vtpm_engine.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/mmio.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/crb/crb_device.hpp"
#include "vtpm/tis/tis_device.hpp"

namespace mamori::vm {
namespace {
class DetachedEngine final : public vtpm::TpmBackend {
 public:
  const char* guest_name = "";
  bool warned = false;
  void submit(vtpm::SubmissionId id, uint8_t, const uint8_t*, size_t, uint8_t* rsp, size_t cap,
              vtpm::TpmCompletion& done) override {
    if (!warned) {
      LOG_WARN("vm %s: TPM command received, but the guest has no vTPM engine (see the log at its creation): "
               "answering TPM_RC_FAILURE",
               guest_name);
      warned = true;
    }
    done.complete(id, vtpm::protocol::write_error_response(rsp, cap, vtpm::protocol::kTpmRcFailure));
  }
  void cancel(vtpm::SubmissionId) override {}
};

// The TPM window is one per guest, reached by all its vCPUs: each region
// holds a lock around its model (a command runs the engine inside it; the
// virtual platform has its own lock, so interrupts flow meanwhile).
class TisRegion final : public MmioDevice {
 public:
  explicit TisRegion(vtpm::TpmBackend& b) : tis(b, nullptr) {}
  uint64_t mmio_read(uint64_t off, uint8_t size) override {
    lib::LockGuard l(lock);
    return tis.mmio_read(off, size);
  }
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override {
    lib::LockGuard l(lock);
    tis.mmio_write(off, size, v);
  }
  vtpm::tis::TisDevice tis;
  lib::Spinlock lock;
};

// The CRB model keeps its data buffer in a page-aligned member, so the
// region object is page-aligned too.
class CrbRegion final : public MmioDevice {
 public:
  explicit CrbRegion(vtpm::TpmBackend& b) : crb(b, nullptr) {}
  uint64_t mmio_read(uint64_t off, uint8_t size) override {
    lib::LockGuard l(lock);
    return crb.mmio_read(off, size);
  }
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override {
    lib::LockGuard l(lock);
    crb.mmio_write(off, size, v);
  }
  vtpm::crb::CrbDevice crb;
  lib::Spinlock lock;
};

DetachedEngine g_engines[kMaxGuests];
partition::VtpmEngine g_vtpms[kMaxGuests];
const boot::BootInfo* g_bi;

// Its engine's file (config `engine`, default vtpm-service) and quota.
const boot::LoadedFile* engine_image(const Guest& g, const char*& file) {
  const core::Config& cfg = platform::parsed_config();
  file = "vtpm-service";
  for (size_t i = 0; i < cfg.vm_count; ++i)
    if (lib::str_eq(cfg.vms[i].name, g.name) && cfg.vms[i].engine[0]) file = cfg.vms[i].engine;
  if (!g_bi) return nullptr;
  for (uint32_t i = 0; i < g_bi->file_count; ++i)
    if (lib::str_eq(g_bi->files[i].name, file)) return &g_bi->files[i];
  return nullptr;
}

// The real engine if it starts, else the detached one.
vtpm::TpmBackend& backend_for(Guest& g) {
  g_engines[g.id] = DetachedEngine{};
  g_engines[g.id].guest_name = g.name;
  const char* file;
  const boot::LoadedFile* image = engine_image(g, file);
  if (!image) {
    LOG_WARN("vm %s: no \\mamori\\%s on the boot volume: its TPM has no engine", g.name, file);
    return g_engines[g.id];
  }
  const core::Config& cfg = platform::parsed_config();
  if (!g_vtpms[g.id].start(g.name, *image, {cfg.vtpm_memory_bytes, cfg.vtpm_budget_ms, cfg.vtpm_env})) {
    LOG_WARN("vm %s: its vTPM engine did not start: its TPM answers TPM_RC_FAILURE", g.name);
    return g_engines[g.id];
  }
  return g_vtpms[g.id];
}
// One device per guest slot, TIS or CRB, constructed in place.
union alignas(4096) DeviceStorage {
  uint8_t tis[sizeof(TisRegion)];
  uint8_t crb[sizeof(CrbRegion)];
};
DeviceStorage g_devices[kMaxGuests];
}  // namespace

void set_vtpm_files(const boot::BootInfo& bi) { g_bi = &bi; }

const char* vtpm_engine_status(const Guest& g) {
  if (!g.tpm) return "none";
  static char buf[kMaxGuests][96];
  const partition::VtpmEngine& e = g_vtpms[g.id];
  if (!e.running()) return "not attached (commands answer TPM_RC_FAILURE)";
  lib::snformat(buf[g.id], sizeof buf[g.id], "vtpm-service in the service partition, %lu commands, permanent state %lu bytes, %lu restarts",
                e.commands(), e.permanent_state_bytes(), e.restarts());
  return buf[g.id];
}

vtpm::TpmBackend* vtpm_engine(Guest& g) { return g.tpm && g_vtpms[g.id].running() ? &g_vtpms[g.id] : nullptr; }

void reset_tpm(Guest& g) {
  if (!g.tpm) return;
  if (g.tpm_crb) reinterpret_cast<CrbRegion*>(g_devices[g.id].crb)->crb.reset();
  else reinterpret_cast<TisRegion*>(g_devices[g.id].tis)->tis.reset();
  if (g_vtpms[g.id].running()) g_vtpms[g.id].reset();
}

bool attach_tis(Guest& g) {
  auto* dev = new (g_devices[g.id].tis) TisRegion(backend_for(g));
  return add_mmio_region(g, kTpmWindowGpa, kTpmWindowSize, *dev, "TPM TIS");
}

bool attach_crb(Guest& g) {
  auto* dev = new (g_devices[g.id].crb) CrbRegion(backend_for(g));
  return add_mmio_region(g, kTpmWindowGpa, kTpmWindowSize, *dev, "TPM CRB");
}

}  // namespace mamori::vm
