// Client of swtpm's control-channel protocol (swtpm include/swtpm/tpm_ioctl.h,
// "socket" flavour: u32 command code then the request, all big-endian),
// which vtpm-service speaks too. Used to lock, export, import and resume
// a vTPM instance.
#pragma once
#include <stdint.h>

#include <optional>
#include <string>
#include <vector>

namespace mamori::migration::vtpm {

using Bytes = std::vector<uint8_t>;

// Control commands (tpm_ioctl.h enum, socket numbering).
enum class CtrlCmd : uint32_t {
  kGetCapability = 1,
  kInit = 2,
  kShutdown = 3,
  kGetStateBlob = 12,
  kSetStateBlob = 13,
  kStop = 14,
  kGetConfig = 15,
};

// PTM_BLOB_TYPE_*
enum class BlobType : uint32_t { kPermanent = 1, kVolatile = 2, kSaveState = 3 };

inline constexpr uint32_t kStateFlagDecrypted = 1;  // PTM_STATE_FLAG_DECRYPTED: ask for plaintext
inline constexpr uint32_t kStateFlagEncrypted = 2;  // PTM_STATE_FLAG_ENCRYPTED
inline constexpr uint32_t kInitDeleteVolatile = 1;  // PTM_INIT_FLAG_DELETE_VOLATILE
inline constexpr uint32_t kConfigFileKey = 1;       // PTM_CONFIG_FLAG_FILE_KEY
inline constexpr uint32_t kConfigMigrationKey = 2;  // PTM_CONFIG_FLAG_MIGRATION_KEY

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
  Bytes request(CtrlCmd cmd, const Bytes& body, size_t fixed_response);
  std::string endpoint_;
};

const char* to_string(BlobType t);

}  // namespace mamori::migration::vtpm
