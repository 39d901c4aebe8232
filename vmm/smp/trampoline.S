/*
 * Application-processor start-up code (SDM 3A §8.4.4.1 / §9.9): copied to a
 * page below 1 MiB, entered in real mode at CS:IP = page:0 by the SIPI.
 * Real mode -> protected mode -> IA-32e mode with the VMM's CR3, then a far
 * jump to ap_entry64 in the high half. The BSP patches the
 * parameter block; APs take CPU indices with a locked ticket, so a
 * broadcast SIPI (no MADT) and targeted SIPIs share this code.
 */
    .section .rodata
    .code16
    .globl ap_trampoline_begin, ap_trampoline_end
    .balign 16
ap_trampoline_begin:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    movzwl  %ax, %ebx
    shl     $4, %ebx                  /* ebx = linear address of this page */
    lea     4096(%ebx), %esp          /* stack: top of this page */
    /* gdt pointer's base was patched to the page's linear address */
    lgdtl   (tp_gdt_ptr - ap_trampoline_begin)
    mov     %cr0, %eax
    or      $1, %eax                  /* CR0.PE */
    mov     %eax, %cr0
    /* far jump to 32-bit code: offset patched (page + tp_pm32 offset) */
    .byte   0x66, 0xEA
tp_pm32_target:
    .long   0
    .word   0x08

    .code32
tp_pm32:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     %cr4, %eax
    or      $(1 << 5), %eax           /* CR4.PAE */
    mov     %eax, %cr4
    mov     (tp_cr3 - ap_trampoline_begin)(%ebx), %eax
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx         /* IA32_EFER: LME | NXE */
    rdmsr
    or      $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov     %cr0, %eax
    or      $((1 << 31) | (1 << 16)), %eax   /* CR0.PG | CR0.WP */
    mov     %eax, %cr0
    /* No stack in 32-bit mode: several APs may run this at once (a
     * broadcast SIPI). Direct far jump, offset patched by the BSP. */
    .byte   0xEA
tp_lm64_ptr:
    .long   0                         /* patched: page + (tp_lm64 - begin) */
    .word   0x18

    .code64
tp_lm64:
    /* The upper halves of registers are undefined after the switch from
     * compatibility mode (SDM 3A §3.4.1.1): zero-extend the page address. */
    mov     %ebx, %ebx
    /* Take a CPU index (ticket), then that CPU's stack from the table. */
    /* (the page is read+execute now: the ticket lives in the VMM's data) */
    mov     $1, %eax
    mov     (tp_ticket - ap_trampoline_begin)(%rbx), %rcx
    lock xadd %eax, (%rcx)
    cmp     (tp_max_index - ap_trampoline_begin)(%rbx), %eax
    jae     3f
    mov     %eax, %edi
    mov     (tp_stacks - ap_trampoline_begin)(%rbx), %rcx
    mov     (%rcx,%rdi,8), %rsp
    mov     (tp_entry - ap_trampoline_begin)(%rbx), %rax
    jmp     *%rax
3:  cli                               /* more CPUs than the VMM supports */
    hlt
    jmp     3b

    .balign 16
    /* Accessed bits pre-set: the page is read-only once paging is on, and
     * loading a descriptor whose A bit is clear writes it (SDM 3A §3.4.5.1). */
tp_gdt:
    .quad   0
    .quad   0x00CF9B000000FFFF        /* 0x08: 32-bit code */
    .quad   0x00CF93000000FFFF        /* 0x10: data */
    .quad   0x00AF9B000000FFFF        /* 0x18: 64-bit code */
tp_gdt_end:
tp_gdt_ptr:
    .word   tp_gdt_end - tp_gdt - 1
    .long   0                         /* patched: page + (tp_gdt - begin) */
    .balign 8
    .balign 8
    /* parameter block (see smp.cpp: TrampolineParams) */
    .globl ap_trampoline_params
ap_trampoline_params:
tp_cr3:        .quad 0
tp_stacks:     .quad 0                /* VMM address of uint64_t stack_top[max] */
tp_entry:      .quad 0
tp_ticket:     .quad 0                /* VMM address of the next CPU index (uint32_t) */
tp_max_index:  .quad 0
ap_trampoline_end:

    .globl ap_tp_offsets
    .balign 8
ap_tp_offsets:
    .quad tp_pm32_target - ap_trampoline_begin
    .quad tp_pm32 - ap_trampoline_begin
    .quad tp_gdt_ptr + 2 - ap_trampoline_begin
    .quad tp_gdt - ap_trampoline_begin
    .quad ap_trampoline_params - ap_trampoline_begin
    .quad tp_lm64_ptr - ap_trampoline_begin
    .quad tp_lm64 - ap_trampoline_begin
    .section .note.GNU-stack,"",@progbits
