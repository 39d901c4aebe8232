// The one switch of extended processor state (x87, SSE, AVX, AVX-512, ...)
// between guests and vTPM engines on a CPU (SDM 1 ch. 13). The VMM itself
// never uses these registers (-mgeneral-regs-only), so whatever they hold
// in VMX root belongs to the context that ran last; the callers (the
// scheduler for guests, the partition runner for engines) say when a
// context's state goes to or comes from its save area.
//
// Rules that keep one context's state from another (docs/security.md):
// - save and restore always cover every component the VMM manages
//   (mask()), whatever XCR0 the context chose: XCR0 is set to the full
//   mask around XSAVE/XRSTOR, so a guest with XCR0 = x87 cannot leave its
//   XMM registers (nor find another's) in the registers;
// - a new context starts from the architectural init state (XRSTOR with
//   XSTATE_BV = 0, SDM 1 §13.8.1), not from what the registers held;
// - XCR0 is the context's own only while it runs (set_xcr0 before entry).
#pragma once
#include <stdint.h>

namespace mamori::arch::fpu {

// The components the VMM switches and guests may enable (vmm_xcr0_mask of
// CPUID.(0DH)); x87 | SSE without XSAVE. Computed on first use.
uint64_t mask();
bool has_xsave();
// Bytes and 4-KiB frames of one context's save area (contiguous, 64-byte
// aligned: a frame allocation).
uint32_t area_bytes();
uint64_t area_frames();
// Standard-format size for a given XCR0 (CPUID.(0DH,0).EBX as a guest
// with that XCR0 must read it).
uint32_t area_bytes_for(uint64_t xcr0);

// This CPU's registers -> the area at physical `area`.
void save(uint64_t area);
// The area at `area` (written by save) -> this CPU's registers.
void restore(uint64_t area);
// Every managed component to its init state (a fresh context, or a wipe).
void load_init();
// XCR0 for the context about to run (XSETBV only when it differs).
void set_xcr0(uint64_t xcr0);

}  // namespace mamori::arch::fpu
