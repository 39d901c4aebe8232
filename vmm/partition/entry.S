/*
 * Ring 3 for the service partition (docs/partition.md, docs/security.md).
 *
 * partition_enter(UserContext* ctx): saves the VMM's callee-saved
 * registers and RSP (per-CPU vmm_rsp), puts IA32_KERNEL_GS_BASE aside (a
 * guest's SWAPGS runs on the real MSR), loads the process's CR3 and
 * registers and IRETQs to ring 3.
 *
 * SWAPGS discipline (as Linux's entry_64.S): in ring 0 IA32_GS_BASE is this
 * CPU's PerCpu; in ring 3 it is the process's, and the PerCpu address waits
 * in IA32_KERNEL_GS_BASE, which ring 3 cannot read or write. Every way into
 * ring 0 from ring 3 (SYSCALL here; exceptions and interrupts in
 * vmm/arch/entry.S, by the saved CS.RPL) swaps before its first %gs use;
 * every way back swaps after its last. Ring 3 can set its own GS base (a
 * selector load; no WRGSBASE: CR4.FSGSBASE is clear) and it then only
 * changes what ring 3 itself sees.
 *
 * syscall_entry (IA32_LSTAR): SYSCALL leaves RSP on the user stack and
 * masks RFLAGS with IA32_FMASK (IF, TF, DF, AC, NT, IOPL clear; SDM 3A
 * §5.8.8), so the first instructions swap GS and move to this CPU's kernel
 * stack; the register file (PUSH_GPRS) goes there, CR3 back to the VMM's
 * tables, then partition_syscall(gprs, user_rsp) copies it into the
 * UserContext and decides: 0 = return to the process (IRETQ with the
 * possibly changed context), 1 = leave to the VMM (partition_enter returns
 * Syscall). User faults come through the IDT and leave with Fault
 * (partition_user_fault).
 */
#include "vmm/arch/gprs.S.inc"
#include "vmm/percpu.S.inc"

#define UC_RIP 128
#define UC_RSP 136
#define UC_RFLAGS 144
#define UC_CR3 152
#define USER_CS (0x38 | 3)
#define USER_DS (0x30 | 3)
#define KERNEL_DS 0x10

    .section .text.partition_entry, "ax"
    .code64
    .globl partition_enter, syscall_entry, partition_leave_fault

partition_enter:
    push    %rbp
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, %gs:PC_VMM_RSP
    mov     %rdi, %gs:PC_UCTX
    mov     $MSR_KERNEL_GS_BASE, %ecx
    rdmsr
    mov     %eax, %gs:PC_SAVED_KGS
    mov     %edx, %gs:PC_SAVED_KGS+4
    xor     %eax, %eax               /* the process starts with GS base 0 */
    xor     %edx, %edx
    wrmsr
    jmp     .Lreturn_to_user

/* rdi = UserContext (in VMM memory, which the process's page tables do
 * not map): copy it onto this CPU's kernel stack (mapped in both), then
 * load the process's CR3, pop the registers, swap GS and IRETQ. */
.Lreturn_to_user:
    mov     %gs:PC_KSTACK, %rsp
    pushq   $USER_DS
    pushq   UC_RSP(%rdi)
    pushq   UC_RFLAGS(%rdi)
    pushq   $USER_CS
    pushq   UC_RIP(%rdi)
    .irp off, GPR_R15, GPR_R14, GPR_R13, GPR_R12, GPR_R11, GPR_R10, GPR_R9, GPR_R8, GPR_RDI, GPR_RSI, GPR_RBP, GPR_RSP, GPR_RBX, GPR_RDX, GPR_RCX, GPR_RAX
    pushq   \off(%rdi)
    .endr
    mov     UC_CR3(%rdi), %rax
    mov     %rax, %gs:PC_USER_CR3
    mov     %rax, %cr3
    mov     $USER_DS, %eax
    mov     %eax, %ds
    mov     %eax, %es
    POP_GPRS
    swapgs
    iretq

syscall_entry:
    swapgs
    mov     %rsp, %gs:PC_USER_RSP
    mov     %gs:PC_KSTACK, %rsp
    PUSH_GPRS                        /* the process's arch::Gprs, on the kernel stack */
    mov     %gs:PC_VMM_CR3, %rax
    mov     %rax, %cr3
    mov     $KERNEL_DS, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %rsp, %rdi
    mov     %gs:PC_USER_RSP, %rsi
    cld
    call    partition_syscall
    test    %eax, %eax
    jnz     .Lleave_syscall
    mov     %gs:PC_UCTX, %rdi
    jmp     .Lreturn_to_user
.Lleave_syscall:
    xor     %eax, %eax               /* LeaveReason::Syscall */
    jmp     .Lleave

/* Called from the exception handler (VMM CR3 and GS already loaded). */
partition_leave_fault:
    mov     $1, %eax                 /* LeaveReason::Fault */
.Lleave:
    mov     %gs:PC_VMM_RSP, %rsp
    mov     %rax, %r8
    mov     $KERNEL_DS, %eax
    mov     %eax, %ds
    mov     %eax, %es
    /* Selectors ring 3 may have loaded into FS/GS are dropped: loading the
     * null selector clears the base it names (done with the process's base
     * swapped in, so the VMM's stays), then the saved KERNEL_GS_BASE. */
    swapgs
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    swapgs
    mov     $MSR_KERNEL_GS_BASE, %ecx
    mov     %gs:PC_SAVED_KGS, %eax
    mov     %gs:PC_SAVED_KGS+4, %edx
    wrmsr
    mov     %r8, %rax
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    pop     %rbp
    ret
    .section .note.GNU-stack,"",@progbits
