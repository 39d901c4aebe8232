/*
 * The last instructions of the loader, copied to a page of their own that
 * the new page tables map read+execute at its identity address (everything
 * else identity-mapped is NX), so the CR3 switch does not pull the code out
 * from under itself.
 *
 *   rdi = BootInfo (physical, identity-mapped)   -> VMM entry argument
 *   rsi = new CR3 (PML4 built by the loader)
 *   rdx = VMM entry (link address, high half)
 */
    .text
    .globl mamori_handoff_begin, mamori_handoff_end
    .code64
mamori_handoff_begin:
    cli
    mov     %rdx, %r8
    /* IA32_EFER.NXE (SDM 3A §4.1.1): the new tables use bit 63 */
    mov     $0xC0000080, %ecx
    rdmsr
    or      $0x800, %eax
    wrmsr
    mov     %rsi, %cr3
    jmp     *%r8
mamori_handoff_end:
    .section .note.GNU-stack,"",@progbits
