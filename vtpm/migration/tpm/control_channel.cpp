#include "vtpm/migration/tpm/control_channel.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/format/limits.hpp"
#include "vtpm/migration/tpm/transport.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration::tpm {

namespace {

constexpr uint32_t kTpmSuccess = swtpm::kResSuccess;
constexpr size_t kResultSize = swtpm::kResultSize;
constexpr size_t kGetStateRespHeader = swtpm::kGetStateRespHdrSize;  // tpm_result, state_flags, totlength, length

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

void put_u32(Bytes& b, uint32_t v) {
  uint8_t be[4];
  protocol::store_be32(be, v);
  b.insert(b.end(), be, be + 4);
}

uint32_t get_u32(const uint8_t* p) { return protocol::load_be32(p); }

[[noreturn]] void vtpm_failed(const char* what, uint32_t rc) {
  throw MigrationError(Refusal::kVtpmError, std::string(what) + " failed with result " + std::to_string(rc));
}

}  // namespace

int ControlChannel::connect_fd() {
  if (endpoint_.rfind("unix:", 0) == 0) {
    std::string path = endpoint_.substr(5);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) throw MigrationError(Refusal::kUsage, "unix socket path too long");
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      int e = errno;
      if (fd >= 0) close(fd);
      throw MigrationError(Refusal::kTransport, "cannot connect to vTPM control " + path + ": " + std::strerror(e));
    }
    return fd;
  }
  size_t colon = endpoint_.rfind(':');
  if (colon == std::string::npos) throw MigrationError(Refusal::kUsage, "vTPM control endpoint must be HOST:PORT");
  unsigned long port = std::strtoul(endpoint_.c_str() + colon + 1, nullptr, 10);
  if (port == 0 || port > 65535) throw MigrationError(Refusal::kUsage, "bad port in " + endpoint_);
  return tpm::tcp_connect(endpoint_.substr(0, colon), static_cast<uint16_t>(port));
}

// One command per connection: swtpm handles a control connection command by
// command, and a fresh connection keeps a failed exchange from poisoning
// the next one.
Bytes ControlChannel::request(swtpm::Cmd cmd, const Bytes& body, size_t fixed_response) {
  Fd c{connect_fd()};
  Bytes msg;
  put_u32(msg, static_cast<uint32_t>(cmd));
  msg.insert(msg.end(), body.begin(), body.end());
  tpm::write_all(c.fd, msg.data(), msg.size());
  Bytes rsp(fixed_response);
  tpm::read_exact(c.fd, rsp.data(), rsp.size());
  if (cmd == swtpm::kGetConfig && get_u32(rsp.data()) == kTpmSuccess) {
    // only a successful GET_CONFIG carries the flags word after the result
    rsp.resize(2 * kResultSize);
    tpm::read_exact(c.fd, rsp.data() + kResultSize, kResultSize);
  }
  if (cmd == swtpm::kGetStateBlob) {
    uint32_t rc = get_u32(rsp.data());
    uint32_t length = get_u32(rsp.data() + 12);
    if (rc != kTpmSuccess) return rsp;
    if (length > kMaxBlobSize) throw MigrationError(Refusal::kVtpmError, "vTPM state blob over the size limit");
    rsp.resize(kGetStateRespHeader + length);
    tpm::read_exact(c.fd, rsp.data() + kGetStateRespHeader, length);
  }
  return rsp;
}

uint64_t ControlChannel::get_capability() {
  Bytes r = request(swtpm::kGetCapability, {}, 8);
  return protocol::load_be64(r.data());
}

std::optional<uint32_t> ControlChannel::get_config() {
  // ptm_getconfig response: u32 tpm_result, u32 flags
  Bytes r = request(swtpm::kGetConfig, {}, kResultSize);
  if (get_u32(r.data()) != kTpmSuccess) return std::nullopt;
  return get_u32(r.data() + 4);
}

StateBlob ControlChannel::get_state_blob(BlobType type, bool decrypted) {
  Bytes body;
  put_u32(body, decrypted ? swtpm::kStateFlagDecrypted : 0);  // state_flags
  put_u32(body, static_cast<uint32_t>(type));
  put_u32(body, 0);  // offset: the socket flavour returns the rest of the blob in one go
  Bytes r = request(swtpm::kGetStateBlob, body, kGetStateRespHeader);
  uint32_t rc = get_u32(r.data());
  if (rc != kTpmSuccess) vtpm_failed((std::string("GET_STATEBLOB ") + swtpm::blob_type_name(type)).c_str(), rc);
  uint32_t flags = get_u32(r.data() + 4);
  uint32_t totlength = get_u32(r.data() + 8);
  uint32_t length = get_u32(r.data() + 12);
  if (totlength != length) throw MigrationError(Refusal::kVtpmError, "partial state blob returned");
  StateBlob b;
  b.encrypted = (flags & swtpm::kStateFlagEncrypted) != 0;
  b.data.assign(r.begin() + kGetStateRespHeader, r.end());
  return b;
}

void ControlChannel::set_state_blob(BlobType type, const Bytes& data, bool encrypted) {
  Bytes body;
  put_u32(body, encrypted ? swtpm::kStateFlagEncrypted : 0);
  put_u32(body, static_cast<uint32_t>(type));
  put_u32(body, static_cast<uint32_t>(data.size()));
  body.insert(body.end(), data.begin(), data.end());
  Bytes r = request(swtpm::kSetStateBlob, body, kResultSize);
  if (uint32_t rc = get_u32(r.data()); rc != kTpmSuccess)
    vtpm_failed((std::string("SET_STATEBLOB ") + swtpm::blob_type_name(type)).c_str(), rc);
}

void ControlChannel::stop() {
  Bytes r = request(swtpm::kStop, {}, kResultSize);
  if (uint32_t rc = get_u32(r.data()); rc != kTpmSuccess) vtpm_failed("STOP", rc);
}

void ControlChannel::init(uint32_t flags) {
  Bytes body;
  put_u32(body, flags);
  Bytes r = request(swtpm::kInit, body, kResultSize);
  if (uint32_t rc = get_u32(r.data()); rc != kTpmSuccess) vtpm_failed("INIT", rc);
}

void ControlChannel::shutdown() {
  Bytes r = request(swtpm::kShutdown, {}, kResultSize);
  if (uint32_t rc = get_u32(r.data()); rc != kTpmSuccess) vtpm_failed("SHUTDOWN", rc);
}

}  // namespace mamori::vtpm::migration::tpm
