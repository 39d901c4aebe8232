#include "vmx/vmcs_field.hpp"

namespace mamori::vmx {
namespace {
struct FieldName {
  VmcsField field;
  const char* name;
};
constexpr FieldName kNames[] = {
#define MAMORI_X(name, enc) {VmcsField::name, #name},
    MAMORI_VMCS_FIELDS(MAMORI_X)
#undef MAMORI_X
};
constexpr VmcsField kFields[] = {
#define MAMORI_X(name, enc) VmcsField::name,
    MAMORI_VMCS_FIELDS(MAMORI_X)
#undef MAMORI_X
};
}  // namespace

const char* field_name(uint32_t enc) {
  for (const auto& n : kNames)
    if (encoding(n.field) == enc) return n.name;
  return "unknown";
}
const char* field_name(VmcsField f) { return field_name(encoding(f)); }

const VmcsField* all_fields(size_t* count) {
  *count = sizeof(kFields) / sizeof(kFields[0]);
  return kFields;
}

}  // namespace mamori::vmx
