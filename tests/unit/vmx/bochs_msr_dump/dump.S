/* Boot sector: print CPUID.1:ECX (tag C0DE0001), CPUID.80000008H:EAX (tag
   C0DE8008) and the VMX capability MSRs (0x3A, 0x480-0x491) on port 0xE9 as
   "INDEX HIGHLOW" hex lines; an MSR that #GPs is skipped. */
.code16
.globl _start
_start:
  cli
  xor %ax,%ax
  mov %ax,%ds
  mov %ax,%es
  mov %ax,%ss
  mov $0x7c00,%sp
  movw $gp_handler, 13*4
  movw $0, 13*4+2
  mov $1,%eax
  cpuid
  mov %ecx,%ebp
  mov $0xC0DE0001,%ecx     /* tag for CPUID.1:ECX */
  xor %edx,%edx
  mov %ebp,%eax
  call print_line
  mov $0x80000008,%eax     /* EAX[7:0] = MAXPHYADDR */
  cpuid
  mov %eax,%ebp
  mov $0xC0DE8008,%ecx
  xor %edx,%edx
  mov %ebp,%eax
  call print_line
  mov $msrs,%si
1:
  movl (%si),%ecx
  cmp $0,%ecx
  je done
  movb $0,gp_flag
  xor %eax,%eax
  xor %edx,%edx
  rdmsr
  cmpb $0,gp_flag
  jne 2f
  movl (%si),%ecx
  call print_line
2:
  add $4,%si
  jmp 1b
done:
  mov $'E',%al
  mov $0xe9,%dx
  out %al,%dx
  mov $'\n',%al
  out %al,%dx
  /* Bochs: port 0x8900 "Shutdown" */
  mov $0x8900,%dx
  mov $'S',%al
  out %al,%dx
  mov $'h',%al
  out %al,%dx
  mov $'u',%al
  out %al,%dx
  mov $'t',%al
  out %al,%dx
  mov $'d',%al
  out %al,%dx
  mov $'o',%al
  out %al,%dx
  mov $'w',%al
  out %al,%dx
  mov $'n',%al
  out %al,%dx
3: hlt
  jmp 3b

gp_handler:           /* #GP from RDMSR: skip the 2-byte instruction */
  push %bp
  mov %sp,%bp
  addw $2,2(%bp)
  movb $1,gp_flag
  pop %bp
  iret

/* print "ecx edx eax\n" as hex */
print_line:
  push %eax
  push %edx
  mov %ecx,%eax
  call hex32
  mov $' ',%al
  call putc
  pop %eax
  call hex32
  pop %eax
  call hex32
  mov $'\n',%al
  call putc
  ret
hex32:
  mov $8,%cx
4: rol $4,%eax
  push %eax
  and $0xf,%al
  add $'0',%al
  cmp $'9',%al
  jbe 5f
  add $7,%al
5: call putc
  pop %eax
  loop 4b
  ret
putc:
  push %dx
  mov $0xe9,%dx
  out %al,%dx
  pop %dx
  ret
gp_flag: .byte 0
.p2align 2
msrs:
  .long 0x3a
  .long 0x480,0x481,0x482,0x483,0x484,0x485,0x486,0x487,0x488,0x489,0x48a,0x48b,0x48c,0x48d,0x48e,0x48f,0x490,0x491
  .long 0
.org 510
.byte 0x55,0xaa
