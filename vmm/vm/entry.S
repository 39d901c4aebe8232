/*
 * The VM entry/exit stub (SDM 3C ch. 26-27). Short on purpose: the VMCS
 * switches RSP/RIP/segments/CRs; this saves what it does not.
 *
 *   EnterResult vmx_enter(arch::Gprs* regs /rdi/, int launched /esi/)
 *
 * `regs` is Guest::regs, followed by Guest::cr2 and Guest::host_rsp
 * (static_asserts in vmm/vm/guest.hpp). As in NOVA, the VMCS host RSP points
 * just past the register file (regs + GPRS_SIZE, written once at VMCS
 * set-up): a VM exit lands at vmx_exit_entry with that RSP and pushes the
 * guest's registers straight into the file (PUSH_GPRS, vmm/arch/gprs.S.inc),
 * then switches back to the stack vmx_enter was called on. No VMWRITE per
 * entry, no copy. The guest's RSP lives in the VMCS (§25.4.1): its slot is
 * zeroed by PUSH_GPRS and never loaded. Host NMI/#DF/#MC run on IST stacks
 * (vmm/arch/descriptors.cpp), so nothing is pushed below the file while RSP
 * points into it; external interrupts are off after a VM exit (§28.5.3
 * clears RFLAGS).
 */
#include "vmm/arch/gprs.S.inc"

#define FRAME_CR2 GPRS_SIZE
#define FRAME_HOST_RSP (GPRS_SIZE + 8)

    .text
    .code64
    .globl vmx_enter, vmx_exit_entry

vmx_enter:
    push    %rbp
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, FRAME_HOST_RSP(%rdi)
    mov     FRAME_CR2(%rdi), %rax
    mov     %rax, %cr2
    mov     %rdi, %rsp              /* the register file */
    test    %esi, %esi              /* launched? decided before the registers are loaded */
    jnz     .Lresume
    POP_GPRS                        /* RSP = regs + GPRS_SIZE, the VMCS host RSP */
    vmlaunch
    jmp     .Lfail
.Lresume:
    POP_GPRS
    vmresume
.Lfail:
    /* VMfailInvalid (CF) -> 1, VMfailValid (ZF) -> 2. RSP is regs +
     * GPRS_SIZE; the guest's values sit in the callee-saved registers
     * until the pops below restore the caller's. */
    mov     $1, %eax
    mov     $2, %ecx
    cmovz   %ecx, %eax
    mov     (FRAME_HOST_RSP - GPRS_SIZE)(%rsp), %rsp
    jmp     .Lreturn

vmx_exit_entry:
    PUSH_GPRS                       /* RSP = regs */
    mov     %cr2, %rax
    mov     %rax, FRAME_CR2(%rsp)
    mov     FRAME_HOST_RSP(%rsp), %rsp
    xor     %eax, %eax
.Lreturn:
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    pop     %rbp
    ret
    .section .note.GNU-stack,"",@progbits
