/*
 * Ring 3 for the service partition (docs/partition.md).
 *
 * partition_enter(UserContext* ctx): saves the VMM's callee-saved
 * registers and RSP (per-CPU vmm_rsp), loads the process's CR3 and
 * registers and IRETQs to ring 3.
 *
 * syscall_entry (IA32_LSTAR): SYSCALL leaves RSP on the user stack (SDM 3A
 * §5.8.8), so the first instructions move to this CPU's kernel stack; the
 * registers go to the UserContext, CR3 back to the VMM's tables, then
 * partition_syscall(ctx) decides: 0 = return to the process (IRETQ with the
 * possibly changed context), 1 = leave to the VMM (partition_enter returns
 * Syscall). User faults come through the IDT and leave with Fault
 * (partition_user_fault).
 */
#define PC_USER_RSP 40
#define PC_KSTACK 48
#define PC_UCTX 56
#define PC_VMM_RSP 64
#define PC_VMM_CR3 72
#define UC_RIP 120
#define UC_RSP 128
#define UC_RFLAGS 136
#define UC_CR3 144
#define USER_CS (0x38 | 3)
#define USER_DS (0x30 | 3)

    .text
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
    jmp     .Lreturn_to_user

/* rdi = UserContext (in VMM memory, which the process's page tables do
 * not map): copy everything onto this CPU's kernel stack (mapped in both),
 * then load the process's CR3, pop the registers and IRETQ to ring 3. */
.Lreturn_to_user:
    mov     %gs:PC_KSTACK, %rsp
    pushq   $USER_DS
    pushq   UC_RSP(%rdi)
    pushq   UC_RFLAGS(%rdi)
    pushq   $USER_CS
    pushq   UC_RIP(%rdi)
    pushq   112(%rdi)
    pushq   104(%rdi)
    pushq   96(%rdi)
    pushq   88(%rdi)
    pushq   80(%rdi)
    pushq   72(%rdi)
    pushq   64(%rdi)
    pushq   56(%rdi)
    pushq   48(%rdi)
    pushq   40(%rdi)
    pushq   32(%rdi)
    pushq   24(%rdi)
    pushq   16(%rdi)
    pushq   8(%rdi)
    pushq   0(%rdi)
    mov     UC_CR3(%rdi), %rax
    mov     %rax, %cr3
    mov     $USER_DS, %eax
    mov     %eax, %ds
    mov     %eax, %es
    pop     %rax
    pop     %rbx
    pop     %rcx
    pop     %rdx
    pop     %rsi
    pop     %rdi
    pop     %rbp
    pop     %r8
    pop     %r9
    pop     %r10
    pop     %r11
    pop     %r12
    pop     %r13
    pop     %r14
    pop     %r15
    iretq

syscall_entry:
    mov     %rsp, %gs:PC_USER_RSP
    mov     %gs:PC_KSTACK, %rsp
    /* the VMM's tables first: the UserContext lives in VMM memory */
    push    %rax
    mov     %gs:PC_VMM_CR3, %rax
    mov     %rax, %cr3
    pop     %rax
    push    %rdi
    mov     %gs:PC_UCTX, %rdi
    mov     %rax, 0(%rdi)
    mov     %rbx, 8(%rdi)
    mov     %rcx, UC_RIP(%rdi)       /* SYSCALL: RCX = return RIP */
    mov     %rcx, 16(%rdi)
    mov     %rdx, 24(%rdi)
    mov     %rsi, 32(%rdi)
    pop     %rax
    mov     %rax, 40(%rdi)
    mov     %rbp, 48(%rdi)
    mov     %r8, 56(%rdi)
    mov     %r9, 64(%rdi)
    mov     %r10, 72(%rdi)
    mov     %r11, UC_RFLAGS(%rdi)    /* SYSCALL: R11 = RFLAGS */
    mov     %r11, 80(%rdi)
    mov     %r12, 88(%rdi)
    mov     %r13, 96(%rdi)
    mov     %r14, 104(%rdi)
    mov     %r15, 112(%rdi)
    mov     %gs:PC_USER_RSP, %rax
    mov     %rax, UC_RSP(%rdi)
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    cld
    call    partition_syscall
    test    %eax, %eax
    jnz     .Lleave_syscall
    mov     %gs:PC_UCTX, %rdi
    jmp     .Lreturn_to_user
.Lleave_syscall:
    xor     %eax, %eax               /* LeaveReason::Syscall */
    jmp     .Lleave

/* Called from the exception handler (VMM CR3 already loaded). */
partition_leave_fault:
    mov     $1, %eax                 /* LeaveReason::Fault */
.Lleave:
    mov     %gs:PC_VMM_RSP, %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    pop     %rbp
    ret
    .section .note.GNU-stack,"",@progbits
