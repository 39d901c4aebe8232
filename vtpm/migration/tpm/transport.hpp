// How raw TPM 2.0 command bytes reach a TPM: swtpm's TCP data channel, or
// the Linux resource manager /dev/tpmrm0 (the VMM's channel comes later).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration::tpm {

using Bytes = std::vector<uint8_t>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one command and returns the complete response. Throws
  // MigrationError(kTransport) on I/O failure or a response whose
  // header-declared size is inconsistent.
  virtual Bytes transact(protocol::ByteSpan command) = 0;
  virtual std::string describe() const = 0;
};

// "swtpm:HOST:PORT" (data channel of `swtpm socket --server type=tcp`),
// "device:/dev/tpmrm0" or a path starting with /dev/.
std::unique_ptr<Transport> open_transport(const std::string& spec);

std::unique_ptr<Transport> open_swtpm_socket(const std::string& host, uint16_t port);
std::unique_ptr<Transport> open_device(const std::string& path);

// TCP connect helper shared with the vTPM control-channel client.
int tcp_connect(const std::string& host, uint16_t port);
void write_all(int fd, const uint8_t* p, size_t n);
void read_exact(int fd, uint8_t* p, size_t n);

}  // namespace mamori::vtpm::migration::tpm
