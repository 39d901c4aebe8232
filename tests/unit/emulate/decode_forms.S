/*
 * Every instruction form the MMIO decoder must handle (and some it must
 * refuse), assembled by gas. The test reads the bytes and gas's lengths from
 * here and cross-checks the lengths with objdump; the expected semantics
 * are in test_decode_forms.cpp, in the same order (checked by the text).
 *
 * FORM mode, insn  — mode 16, 32 or 64. The bytes go to a data section per
 * mode (never executed); the table entry holds the address, the text, the
 * gas length and the mode.
 */
	.macro FORM mode:req, insn:vararg
	.pushsection .mamori_dec_\mode, "a"
	.code\mode
0:	\insn
1:
	.code64
	.popsection
	.pushsection .rodata.mamori_dec_text, "a"
2:	.asciz "\insn"
	.popsection
	.pushsection .data.mamori_dec_table, "aw"
	.quad 0b, 2b
	.byte 1b - 0b, \mode
	.balign 8
	.popsection
	.endm

	.pushsection .data.mamori_dec_table, "aw"
	.balign 8
	.globl mamori_dec_table_begin
mamori_dec_table_begin:
	.popsection
	.irp m, 16, 32, 64
	.pushsection .mamori_dec_\m, "a"
	.globl mamori_dec_section_\m
mamori_dec_section_\m:
	.popsection
	.endr

/* ---- 64-bit mode ---- */
FORM 64, movb %al, (%rdx)
FORM 64, movb %ah, (%rdx)
FORM 64, movb %sil, (%rdx)
FORM 64, movb %r9b, 0x24(%r10)
FORM 64, movw %ax, (%rdx)
FORM 64, movl %eax, (%rdx)
FORM 64, movl %r8d, 0x18(%rdi)
FORM 64, movq %rax, (%rdx)
FORM 64, movq %r15, 0x12345678(%rsp,%rcx,8)
FORM 64, movb (%rdx), %al
FORM 64, movb 0x24(%rbx), %ch
FORM 64, movb (%rdx), %r11b
FORM 64, movw (%rdx), %ax
FORM 64, movl (%rdx), %eax
FORM 64, movl 0x18(%rip), %eax
FORM 64, movl 0x1000(,%rcx,4), %eax
FORM 64, movl -8(%rbp), %esi
FORM 64, movq (%rdx), %r11
FORM 64, movl %fs:0x10, %eax
FORM 64, addr32 movl (%edx), %eax
FORM 64, movabsl 0xfed40018, %eax
FORM 64, movabsb 0xfed40024, %al
FORM 64, movabsq 0xfed40000, %rax
FORM 64, movabsb %al, 0xfed40024
FORM 64, movabsw %ax, 0xfed40018
FORM 64, movb $0x40, 0x18(%rdx)
FORM 64, movw $0x1234, (%rdx)
FORM 64, movl $0x80000000, (%rdx)
FORM 64, movq $-2, (%rdx)
FORM 64, movzbl (%rdx), %eax
FORM 64, movzbw (%rdx), %ax
FORM 64, movzbq (%rdx), %r8
FORM 64, movzwl 0x18(%rdx), %eax
FORM 64, movsbl (%rdx), %eax
FORM 64, movswq (%rdx), %rax
FORM 64, movslq (%rdx), %rax
FORM 64, rep movsl
FORM 64, rep movsb
FORM 64, rep movsq
FORM 64, movsw
FORM 64, movsb
FORM 64, rep stosl
FORM 64, stosb
FORM 64, .byte 0x48, 0x66, 0x89, 0x02     /* REX before 66: REX ignored, movw */
FORM 64, .byte 0x66, 0x48, 0x89, 0x02     /* 66 then REX.W: movq */
FORM 64, addl %eax, (%rdx)
FORM 64, movl %eax, %edx
FORM 64, .byte 0xf0, 0x89, 0x02           /* lock mov: #UD */
FORM 64, repne movsb
FORM 64, orl $1, 0x18(%rdx)
FORM 64, vmovdqu (%rdx), %ymm0
FORM 64, movnti %eax, (%rdx)
FORM 64, xchgl %eax, (%rdx)
FORM 64, .byte 0xc6, 0xf8, 0x01           /* xabort: C6 with reg 7 */

/* ---- 32-bit protected mode ---- */
FORM 32, movl %eax, (%edx)
FORM 32, movb (%ecx), %al
FORM 32, movl 0xfed40018, %eax
FORM 32, movb %al, 0xfed40000
FORM 32, movw %ax, (%edx)
FORM 32, movl (%ebp), %eax
FORM 32, movl %ss:(%ebx), %eax
FORM 32, movzbl 0x24(%ebx), %eax
FORM 32, movswl (%esi), %eax
FORM 32, movl $5, 0x18(%edx,%ecx,4)
FORM 32, movl (%bx,%si), %eax
FORM 32, rep movsl
FORM 32, rep stosb
FORM 32, incl %eax
FORM 32, arpl %ax, (%edx)

/* ---- 16-bit (real mode, 16-bit protected) ---- */
FORM 16, movb %al, (%bx)
FORM 16, movw %ax, (%bx,%si)
FORM 16, movl %eax, (%di)
FORM 16, movw 0x1234, %ax
FORM 16, movb (%bp), %al
FORM 16, movw 0x10(%bp,%di), %dx
FORM 16, movzbw (%si), %ax
FORM 16, movl (%eax), %ecx
FORM 16, movw $0x55aa, (%bx)
FORM 16, movw %es:(%bx), %ax
FORM 16, rep movsw
FORM 16, rep stosb

	.pushsection .data.mamori_dec_table, "aw"
	.globl mamori_dec_table_end
mamori_dec_table_end:
	.popsection
	.section .note.GNU-stack, "", @progbits
