/*
 * VMM entry from the loader, and the exception/interrupt stubs.
 * Assembly only where it must be: everything else is C++.
 */
    .section .text.entry, "ax"
    .code64
    .globl _start
_start:
    /* rdi = BootInfo (physical, identity-mapped). Own stack from .bss. */
    lea     bsp_stack_top(%rip), %rsp
    xor     %ebp, %ebp
    call    vmm_main
1:  cli
    hlt
    jmp     1b

/* Entry of application processors after the real-mode trampoline:
 * rdi = CPU index, rsp already set to that CPU's stack. */
    .globl ap_entry64
ap_entry64:
    xor     %ebp, %ebp
    call    ap_main
2:  cli
    hlt
    jmp     2b

#include "vmm/arch/gprs.S.inc"
#include "vmm/percpu.S.inc"

/*
 * Exception stubs: push a zero error code where the CPU pushes none
 * (SDM 3A §6.13, Table 6-1), then the vector, then the register file
 * (PUSH_GPRS): an arch::ExceptionFrame, given to exception_dispatch.
 *
 * Nothing here trusts a register ring 3 controls (docs/security.md, "Ring
 * 3 to ring 0"): from ring 3 (CS.RPL = 3 in the frame the CPU pushed) the
 * GS base is the process's, so SWAPGS comes first, and CR3 is the
 * process's, so the VMM's tables are loaded before any C code runs. NMI,
 * #DF and #MC ("paranoid", on IST stacks) can also arrive in ring 0
 * between SWAPGS and IRETQ, where neither CS nor the GS base tells which
 * GS is live: they take this CPU's record from above the top of their own
 * IST stack (descriptors.cpp puts it there) and write IA32_GS_BASE, and
 * put the interrupted GS base and CR3 back on the way out.
 */
#define XF_VECTOR (GPRS_SIZE + 0)
#define XF_CS (GPRS_SIZE + 24)
#define XF_IST_TOP (GPRS_SIZE + 56)

.macro ISR_NOERR vec
    .globl isr_\vec
isr_\vec:
    pushq   $0
    pushq   $\vec
    jmp     isr_common
.endm
.macro ISR_ERR vec
    .globl isr_\vec
isr_\vec:
    pushq   $\vec
    jmp     isr_common
.endm
.macro ISR_PARANOID vec, cpu_pushes_error
    .globl isr_\vec
isr_\vec:
    .if \cpu_pushes_error == 0
    pushq   $0
    .endif
    pushq   $\vec
    jmp     isr_paranoid
.endm

    .section .text.partition_entry, "ax"
ISR_NOERR 0
ISR_NOERR 1
ISR_PARANOID 2, 0
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_PARANOID 8, 1
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_PARANOID 18, 0
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31
ISR_NOERR 224
ISR_NOERR 240
ISR_NOERR 255

isr_common:
    testb   $3, 24(%rsp)             /* CS of the interrupted code (vector, error, rip, cs) */
    jz      1f
    swapgs                           /* from ring 3: the VMM's GS base (IA32_KERNEL_GS_BASE) */
1:  PUSH_GPRS
    pushq   $2                       /* AC clear (an interrupt gate leaves it: SMAP must hold), DF clear */
    popfq
    testb   $3, XF_CS(%rsp)
    jz      2f
    mov     %gs:PC_VMM_CR3, %rax     /* the process's tables map no VMM code beyond this page */
    mov     %rax, %cr3
2:  mov     %rsp, %rdi
    call    exception_dispatch
    testb   $3, XF_CS(%rsp)
    jz      3f
    /* back to ring 3 (an interrupt the process continues after) */
    mov     %gs:PC_USER_CR3, %rax
    mov     %rax, %cr3
    POP_GPRS
    add     $16, %rsp
    swapgs
    iretq
3:  POP_GPRS
    add     $16, %rsp
    iretq

isr_paranoid:
    PUSH_GPRS
    pushq   $2
    popfq
    mov     $MSR_GS_BASE, %ecx
    rdmsr
    shl     $32, %rdx
    or      %rax, %rdx
    mov     %rdx, %r12               /* the interrupted GS base (callee-saved across the call) */
    mov     XF_IST_TOP(%rsp), %rax   /* this CPU's PerCpu, stored above the IST stack's top */
    mov     %rax, %rdx
    shr     $32, %rdx
    wrmsr
    mov     %cr3, %r13
    mov     %gs:PC_VMM_CR3, %rax
    test    %rax, %rax               /* 0 before the partition is set up: the VMM's tables are live */
    jz      1f
    mov     %rax, %cr3
1:  mov     %rsp, %rdi
    call    exception_dispatch
    mov     %r13, %cr3
    mov     $MSR_GS_BASE, %ecx
    mov     %r12, %rax
    mov     %r12, %rdx
    shr     $32, %rdx
    wrmsr
    POP_GPRS
    add     $16, %rsp
    iretq

    .section .rodata
    .globl isr_table
    .balign 8
isr_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad isr_\v
    .endr

    .bss
    .balign 4096
bsp_stack:
    .skip 65536
bsp_stack_top:
    .section .note.GNU-stack,"",@progbits
