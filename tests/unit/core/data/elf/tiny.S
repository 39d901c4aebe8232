/* A minimal x86-64 program with text, read-only data, data and bss, linked
   by the host toolchain in several layouts (see ../../CMakeLists.txt) so the
   ELF validator is tested on real linker output, not only on hand-made
   headers. It is never run. */
        .text
        .globl _start
_start:
        lea     message(%rip), %rsi
        incq    counter(%rip)
1:      hlt
        jmp     1b

        .section .rodata
message:
        .asciz  "mamori"

        .data
counter:
        .quad   0

        .bss
        .lcomm  buffer, 8192
