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
/* External interrupts 32..255 (no error code). */
.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
ISR_NOERR \vec
.endr
.irp vec, 64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95
ISR_NOERR \vec
.endr
.irp vec, 96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127
ISR_NOERR \vec
.endr
.irp vec, 128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159
ISR_NOERR \vec
.endr
.irp vec, 160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191
ISR_NOERR \vec
.endr
.irp vec, 192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207,208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223
ISR_NOERR \vec
.endr
.irp vec, 224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239,240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
ISR_NOERR \vec
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
.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
        .long isr_\vec
.endr
.irp vec, 64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95
        .long isr_\vec
.endr
.irp vec, 96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127
        .long isr_\vec
.endr
.irp vec, 128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159
        .long isr_\vec
.endr
.irp vec, 160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191
        .long isr_\vec
.endr
.irp vec, 192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207,208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223
        .long isr_\vec
.endr
.irp vec, 224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239,240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
        .long isr_\vec
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
