#include "vtpm/service/wire/tpm_header.hpp"

#include "vtpm/service/wire/byte_order.hpp"

namespace mamori::vtpm::wire {

HeaderStatus parse_tpm_header(const uint8_t* buf, size_t len, uint32_t max_size, TpmHeader& out) {
  if (buf == nullptr || len < kTpmHeaderSize) return HeaderStatus::truncated;
  out.tag = load_be16(buf);
  out.size = load_be32(buf + 2);
  out.code = load_be32(buf + 6);
  if (out.size < kTpmHeaderSize) return HeaderStatus::size_below_header;
  if (out.size > max_size) return HeaderStatus::size_above_max;
  return HeaderStatus::ok;
}

size_t make_tpm_error_response(uint8_t* out, size_t cap, uint32_t rc) {
  if (out == nullptr || cap < kTpmHeaderSize) return 0;
  store_be16(out, kTpmStNoSessions);
  store_be32(out + 2, static_cast<uint32_t>(kTpmHeaderSize));
  store_be32(out + 6, rc);
  return kTpmHeaderSize;
}

const char* header_status_name(HeaderStatus s) {
  switch (s) {
    case HeaderStatus::ok: return "ok";
    case HeaderStatus::truncated: return "truncated header";
    case HeaderStatus::size_below_header: return "commandSize smaller than the header";
    case HeaderStatus::size_above_max: return "commandSize larger than the TPM buffer";
  }
  return "?";
}

}  // namespace mamori::vtpm::wire
