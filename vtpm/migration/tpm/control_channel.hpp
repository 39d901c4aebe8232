// Client of swtpm's control-channel protocol (swtpm include/swtpm/tpm_ioctl.h,
// "socket" flavour: u32 command code then the request, all big-endian),
// which vtpm-service speaks too. Used to lock, export, import and resume
// a vTPM instance.
#pragma once
#include <stdint.h>

#include <optional>
#include <string>
#include <vector>

#include "vtpm/protocol/swtpm_ctrl.hpp"

namespace mamori::vtpm::migration::tpm {

using Bytes = std::vector<uint8_t>;

// The protocol's one definition (commands, flags, blob types).
namespace swtpm = protocol::swtpm;
using swtpm::BlobType;

struct StateBlob {
  Bytes data;
  bool encrypted = false;  // swtpm's own --migration-key encryption applied
};

class ControlChannel {
 public:
  // "HOST:PORT" of a `--ctrl type=tcp` channel, or "unix:PATH".
  explicit ControlChannel(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  uint64_t get_capability();
  // CMD_GET_CONFIG flags (PTM_CONFIG_FLAG_*), or nullopt if the engine
  // does not implement the command.
  std::optional<uint32_t> get_config();
  // Export one blob while the TPM runs. `decrypted` asks swtpm to remove its
  // own migration-key encryption (the mamori path); false returns the blob
  // as swtpm would migrate it itself (the benchmark comparison).
  StateBlob get_state_blob(BlobType type, bool decrypted = true);
  // Import one blob; the TPM must be stopped.
  void set_state_blob(BlobType type, const Bytes& data, bool encrypted = false);
  void stop();
  void init(uint32_t flags = 0);
  void shutdown();

  const std::string& endpoint() const { return endpoint_; }

 private:
  int connect_fd();
  Bytes request(swtpm::Cmd cmd, const Bytes& body, size_t fixed_response);
  std::string endpoint_;
};

}  // namespace mamori::vtpm::migration::tpm
