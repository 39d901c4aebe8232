/*
 * The VM entry/exit stub (SDM 3C ch. 26-27). Short on purpose: the VMCS
 * switches RSP/RIP/segments/CRs; this saves what it does not.
 *
 *   EnterResult vmx_enter(GuestRegs* regs /rdi/, int launched /esi/)
 *
 * Host RSP in the VMCS is set on every entry to the stub's frame, where the
 * regs pointer sits at 0(%rsp); the exit lands at vmx_exit_entry with that
 * RSP (host RIP in the VMCS).
 */
    .text
    .code64
    .globl vmx_enter, vmx_exit_entry

#define VMCS_HOST_RSP 0x6C14

vmx_enter:
    push    %rbp
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    push    %rdi                    /* regs pointer at 0(%rsp) */
    mov     $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax
    jbe     .Lfail                  /* CF or ZF: VMWRITE failed */
    mov     120(%rdi), %rax         /* guest CR2 */
    mov     %rax, %cr2
    mov     %esi, %eax              /* launched? (before rsi is overwritten) */
    test    %eax, %eax
    mov     8(%rdi), %rbx
    mov     16(%rdi), %rcx
    mov     24(%rdi), %rdx
    mov     32(%rdi), %rsi
    mov     48(%rdi), %rbp
    mov     56(%rdi), %r8
    mov     64(%rdi), %r9
    mov     72(%rdi), %r10
    mov     80(%rdi), %r11
    mov     88(%rdi), %r12
    mov     96(%rdi), %r13
    mov     104(%rdi), %r14
    mov     112(%rdi), %r15
    mov     0(%rdi), %rax           /* mov does not touch the flags of test */
    mov     40(%rdi), %rdi
    jnz     .Lresume
    vmlaunch
    jmp     .Lfail
.Lresume:
    vmresume
.Lfail:
    /* VMfailInvalid (CF) -> 1, VMfailValid (ZF) -> 2 */
    mov     $1, %eax
    mov     $2, %ecx
    cmovz   %ecx, %eax
    pop     %rdi
    jmp     .Lreturn

vmx_exit_entry:
    push    %rdi                    /* guest rdi; regs pointer now at 8(%rsp) */
    mov     8(%rsp), %rdi
    mov     %rax, 0(%rdi)
    mov     %rbx, 8(%rdi)
    mov     %rcx, 16(%rdi)
    mov     %rdx, 24(%rdi)
    mov     %rsi, 32(%rdi)
    pop     %rax
    mov     %rax, 40(%rdi)
    mov     %rbp, 48(%rdi)
    mov     %r8, 56(%rdi)
    mov     %r9, 64(%rdi)
    mov     %r10, 72(%rdi)
    mov     %r11, 80(%rdi)
    mov     %r12, 88(%rdi)
    mov     %r13, 96(%rdi)
    mov     %r14, 104(%rdi)
    mov     %r15, 112(%rdi)
    mov     %cr2, %rax
    mov     %rax, 120(%rdi)
    pop     %rdi                    /* the regs pointer */
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
