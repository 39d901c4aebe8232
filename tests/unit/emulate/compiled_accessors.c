/*
 * MMIO accessors as the guests' TPM drivers write them, compiled by the
 * system C compiler at build time (-O2, no CET/stack protector so each
 * function starts with its access). test_decode_compiled.cpp decodes the
 * machine code the compiler chose.
 *
 * edk2 MdePkg/Library/BaseIoLibIntrinsic (IoLib.c, C variant):
 *   MmioRead8 (Address) { return *(volatile UINT8 *)Address; } etc.
 * Linux arch/x86/include/asm/io.h build_mmio_read/build_mmio_write:
 *   asm volatile("mov" size " %1,%0" : reg (ret) : "m" (*(volatile type *)addr) : barrier)
 * Linux arch/x86/lib/iomem.c rep_movs: "rep ; movsl" + movsw/movsb tail.
 */
#include <stddef.h>
#include <stdint.h>

uint8_t edk2_mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
uint16_t edk2_mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
uint32_t edk2_mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
uint64_t edk2_mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
void edk2_mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
void edk2_mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
void edk2_mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
void edk2_mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

uint8_t linux_readb(const volatile void *addr) {
  uint8_t ret;
  __asm__ volatile("movb %1,%0" : "=q"(ret) : "m"(*(volatile uint8_t *)addr) : "memory");
  return ret;
}
uint16_t linux_readw(const volatile void *addr) {
  uint16_t ret;
  __asm__ volatile("movw %1,%0" : "=r"(ret) : "m"(*(volatile uint16_t *)addr) : "memory");
  return ret;
}
uint32_t linux_readl(const volatile void *addr) {
  uint32_t ret;
  __asm__ volatile("movl %1,%0" : "=r"(ret) : "m"(*(volatile uint32_t *)addr) : "memory");
  return ret;
}
uint64_t linux_readq(const volatile void *addr) {
  uint64_t ret;
  __asm__ volatile("movq %1,%0" : "=r"(ret) : "m"(*(volatile uint64_t *)addr) : "memory");
  return ret;
}
void linux_writeb(uint8_t val, volatile void *addr) {
  __asm__ volatile("movb %0,%1" : : "q"(val), "m"(*(volatile uint8_t *)addr) : "memory");
}
void linux_writew(uint16_t val, volatile void *addr) {
  __asm__ volatile("movw %0,%1" : : "r"(val), "m"(*(volatile uint16_t *)addr) : "memory");
}
void linux_writel(uint32_t val, volatile void *addr) {
  __asm__ volatile("movl %0,%1" : : "r"(val), "m"(*(volatile uint32_t *)addr) : "memory");
}
void linux_writeq(uint64_t val, volatile void *addr) {
  __asm__ volatile("movq %0,%1" : : "r"(val), "m"(*(volatile uint64_t *)addr) : "memory");
}

/* rep_movs with global labels at its string instructions. */
void linux_rep_movs(void *to, const void *from, size_t n) {
  unsigned long d0, d1, d2;
  __asm__ volatile(
      ".globl mamori_site_rep_movsl\n"
      "mamori_site_rep_movsl:\n\t"
      "rep ; movsl\n\t"
      "testb $2,%b4\n\t"
      "je 1f\n\t"
      ".globl mamori_site_movsw\n"
      "mamori_site_movsw:\n\t"
      "movsw\n"
      "1:testb $1,%b4\n\t"
      "je 2f\n\t"
      ".globl mamori_site_movsb\n"
      "mamori_site_movsb:\n\t"
      "movsb\n"
      "2:"
      : "=&c"(d0), "=&D"(d1), "=&S"(d2)
      : "0"(n / 4), "q"(n), "1"((long)to), "2"((long)from)
      : "memory");
}
