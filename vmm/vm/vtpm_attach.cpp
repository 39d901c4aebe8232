#include "vtpm_attach.hpp"
#include <new>
#include "vmm/lib/format.hpp"
#include "vmm/log.hpp"
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

class TisRegion final : public MmioDevice {
 public:
  explicit TisRegion(vtpm::TpmBackend& b) : tis(b, nullptr) {}
  uint64_t mmio_read(uint64_t off, uint8_t size) override { return tis.mmio_read(off, size); }
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override { tis.mmio_write(off, size, v); }
  vtpm::tis::TisDevice tis;
};

// The CRB model keeps its data buffer in a page-aligned member, so the
// region object is page-aligned too.
class CrbRegion final : public MmioDevice {
 public:
  explicit CrbRegion(vtpm::TpmBackend& b) : crb(b, nullptr) {}
  uint64_t mmio_read(uint64_t off, uint8_t size) override { return crb.mmio_read(off, size); }
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override { crb.mmio_write(off, size, v); }
  vtpm::crb::CrbDevice crb;
};

DetachedEngine g_engines[kMaxGuests];
partition::VtpmEngine g_vtpms[kMaxGuests];
const boot::LoadedFile* g_image;

// The real engine if it starts, else the detached one.
vtpm::TpmBackend& backend_for(Guest& g) {
  g_engines[g.id] = DetachedEngine{};
  g_engines[g.id].guest_name = g.name;
  if (!g_image) {
    LOG_WARN("vm %s: no \\mamori\\vtpm-service on the boot volume: its TPM has no engine", g.name);
    return g_engines[g.id];
  }
  if (!g_vtpms[g.id].start(g.name, *g_image)) {
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

void set_vtpm_image(const boot::LoadedFile* image) { g_image = image; }

const char* vtpm_engine_status(const Guest& g) {
  if (!g.tpm) return "none";
  static char buf[kMaxGuests][96];
  const partition::VtpmEngine& e = g_vtpms[g.id];
  if (!e.running()) return "not attached (commands answer TPM_RC_FAILURE)";
  lib::snformat(buf[g.id], sizeof buf[g.id], "vtpm-service in the service partition, %lu commands, permanent state %lu bytes",
                e.commands(), e.permanent_state_bytes());
  return buf[g.id];
}

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
