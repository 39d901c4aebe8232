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

/*
 * Exception stubs: push a zero error code where the CPU pushes none
 * (SDM 3A §6.13, Table 6-1), then the vector, then the general registers
 * in ExceptionFrame order, and call exception_dispatch(frame).
 */
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

    .text
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
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
ISR_NOERR 255

isr_common:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    push    %rbp
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, %rdi
    cld
    call    exception_dispatch
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rbp
    pop     %rdi
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
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
