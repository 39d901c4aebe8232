// VMX instructions as typed functions (SDM 3C ch. 31). Failures are
// reported through RFLAGS: CF = VMfailInvalid, ZF = VMfailValid (§31.2).
#pragma once
#include <stdint.h>
#include "vmx/vmcs_field.hpp"

namespace mamori::vm {

inline bool vmx_ok(uint8_t cf, uint8_t zf) { return !cf && !zf; }

inline bool vmclear(uint64_t phys) {
  uint8_t cf, zf;
  asm volatile("vmclear %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(phys) : "cc", "memory");
  return vmx_ok(cf, zf);
}
inline bool vmptrld(uint64_t phys) {
  uint8_t cf, zf;
  asm volatile("vmptrld %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(phys) : "cc", "memory");
  return vmx_ok(cf, zf);
}
inline bool vmwrite(vmx::VmcsField f, uint64_t v) {
  uint8_t cf, zf;
  asm volatile("vmwrite %3, %2; setc %0; setz %1"
               : "=r"(cf), "=r"(zf)
               : "r"(static_cast<uint64_t>(f)), "rm"(v)
               : "cc", "memory");
  return vmx_ok(cf, zf);
}
inline bool vmread(vmx::VmcsField f, uint64_t* v) {
  uint8_t cf, zf;
  uint64_t out = 0;
  asm volatile("vmread %3, %2; setc %0; setz %1"
               : "=r"(cf), "=r"(zf), "=rm"(out)
               : "r"(static_cast<uint64_t>(f))
               : "cc", "memory");
  *v = out;
  return vmx_ok(cf, zf);
}
inline uint64_t vmread(vmx::VmcsField f) {
  uint64_t v = 0;
  vmread(f, &v);
  return v;
}
// Typed access (as NOVA's vmcs_t<E>): the value type follows the field's
// width (SDM 3C §25.11.2, Table 25-21 bits 14:13), so callers never cast.
// No failure check: with a current VMCS a VMREAD/VMWRITE of a field every
// VMX CPU has cannot fail (a failure would be a VMM bug), and the checked
// forms above cost a quarter of a CPUID round trip (docs/benchmarks.md).
// Fields a CPU may lack, and the whole-image copies, use the checked forms.
template <vmx::FieldWidth W>
struct VmcsValue {
  using type = uint64_t;  // 64-bit and natural width (64 bits on a 64-bit CPU)
};
template <>
struct VmcsValue<vmx::FieldWidth::bits16> {
  using type = uint16_t;
};
template <>
struct VmcsValue<vmx::FieldWidth::bits32> {
  using type = uint32_t;
};
template <vmx::VmcsField F>
using vmcs_t = typename VmcsValue<vmx::field_width(F)>::type;

template <vmx::VmcsField F>
inline vmcs_t<F> vmread() {
  uint64_t v;
  asm volatile("vmread %1, %0" : "=r"(v) : "r"(static_cast<uint64_t>(F)) : "cc");
  return static_cast<vmcs_t<F>>(v);
}
template <vmx::VmcsField F>
inline void vmwrite(vmcs_t<F> v) {
  asm volatile("vmwrite %1, %0" ::"r"(static_cast<uint64_t>(F)), "r"(static_cast<uint64_t>(v)) : "cc", "memory");
}

inline bool vmxon(uint64_t phys) {
  uint8_t cf, zf;
  asm volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(phys) : "cc", "memory");
  return vmx_ok(cf, zf);
}

struct InveptDescriptor {
  uint64_t eptp, reserved;
};
inline bool invept(uint64_t type, const InveptDescriptor& d) {
  uint8_t cf, zf;
  asm volatile("invept %2, %3; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(d), "r"(type) : "cc", "memory");
  return vmx_ok(cf, zf);
}

}  // namespace mamori::vm
