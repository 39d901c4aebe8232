/*
 * Multiboot1 entry for the mamori test guests (32-bit protected mode).
 *
 * A Multiboot loader enters with paging off, flat segments, EAX = 0x2BADB002,
 * EBX = Multiboot information, interrupts off, and an undefined ESP and GDTR
 * (Multiboot 0.6.96 §3.2 "Machine state"), so the first job is a stack and a
 * GDT of our own before anything reloads a segment register.
 */

/* Multiboot 0.6.96 §3.1.1: magic, flags, checksum (the three sum to 0). */
#define MB_HEADER_MAGIC   0x1BADB002
#define MB_FLAG_PAGE_ALIGN 0x00000001  /* modules page-aligned (we take none) */
#define MB_FLAG_MEMORY_INFO 0x00000002 /* mem_* and mmap_* wanted */
#define MB_HEADER_FLAGS   (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)

#define KERNEL_CS 0x08   /* GDT entry 1 */
#define KERNEL_DS 0x10   /* GDT entry 2 */
#define STACK_SIZE 16384

/* The header must lie in the first 8 KiB of the file, 4-byte aligned
 * (§3.1.1); the linker script puts .multiboot first in .text. */
        .section .multiboot, "a"
        .align 4
        .long MB_HEADER_MAGIC
        .long MB_HEADER_FLAGS
        .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

        .text
        .code32
        .globl _start
        .type _start, @function
_start:
        cli
        cld
        movl $stack_top, %esp
        /* Keep the loader's EAX/EBX across the GDT switch. */
        movl %eax, %esi
        movl %ebx, %edi
        lgdt gdt_descriptor
        ljmp $KERNEL_CS, $1f
1:      movw $KERNEL_DS, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        xorl %ebp, %ebp          /* end of frame-pointer chain */
        pushl %edi               /* Multiboot information (physical) */
        pushl %esi               /* loader magic */
        call guest_start         /* does not return */
2:      cli
        hlt
        jmp 2b
        .size _start, . - _start

/*
 * Stubs for vectors 0..255: exceptions 0..31, then interrupts. The CPU pushes an error code only for
 * #DF(8), #TS(10), #NP(11), #SS(12), #GP(13), #PF(14), #AC(17), #CP(21),
 * #VC(29), #SX(30) (SDM Vol. 3A 6.13 "Error Code"); the others push a zero
 * so every frame has the same layout (struct guest::TrapFrame).
 */
.macro ISR_NOERR vec
isr_\vec:
        pushl $0
        pushl $\vec
        jmp isr_common
.endm
.macro ISR_ERR vec
isr_\vec:
        pushl $\vec
        jmp isr_common
.endm

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
/* External interrupts 32..255 (no error code): .altmacro's %expr gives
   each stub its number. */
        .altmacro
.macro ISR_AT n
ISR_NOERR %n
.endm
.set vec, 32
.rept 224
ISR_AT vec
.set vec, vec + 1
.endr

isr_common:
        pushal
        movl %esp, %eax
        pushl %eax               /* TrapFrame* */
        call guest_trap          /* may change the saved EIP */
        addl $4, %esp
        popal
        addl $8, %esp            /* vector, error code */
        iretl

        .section .rodata
        .align 4
        .globl guest_isr_table
guest_isr_table:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long isr_\vec
.endr
.macro ISR_PTR n
        .long isr_\n
.endm
.macro ISR_PTR_AT n
ISR_PTR %n
.endm
.set vec, 32
.rept 224
ISR_PTR_AT vec
.set vec, vec + 1
.endr

/* Flat 4 GiB code and data (SDM Vol. 3A 3.4.5 "Segment Descriptors"). */
        .align 8
gdt:
        .quad 0                      /* null */
        .quad 0x00CF9A000000FFFF     /* 0x08: code, base 0, limit 4 GiB, 32-bit, DPL0 */
        .quad 0x00CF92000000FFFF     /* 0x10: data, base 0, limit 4 GiB, DPL0 */
gdt_end:
gdt_descriptor:
        .word gdt_end - gdt - 1
        .long gdt

        .bss
        .align 16
stack_bottom:
        .space STACK_SIZE
stack_top:

        .section .note.GNU-stack, "", @progbits
