/*
 * The bare-metal layer of tests/cross/check.c: reset entry, and output and
 * exit through semihosting (the debugger's, or QEMU's -semihosting).
 *   Cortex-M3 (ARMv7-M): vector table, reset handler that copies .data and
 *   clears .bss, `bkpt 0xAB`.
 *   RISC-V rv32: _start, the slli/ebreak/srai semihosting sequence.
 * No C library: the memset/memcpy the compiler may call are defined here.
 */
#include <stddef.h>
#include <stdint.h>

int main(void);
void bm_write0(const char *s);
void bm_exit(int status);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
#define ADP_Stopped_ApplicationExit 0x20026u
#define ADP_Stopped_RunTimeErrorUnknown 0x20023u

#if defined(__arm__)
static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#elif defined(__riscv)
static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n.option norvc\n.balign 16\n"
                     "slli x0, x0, 0x1f\nebreak\nsrai x0, x0, 7\n.option pop"
                     : "+r"(a0) : "r"(a1) : "memory");
    return a0;
}
#else
#error "baremetal.c: ARM (Cortex-M) or RISC-V only"
#endif

void bm_write0(const char *s) { (void)semihost(SYS_WRITE0, s); }

void bm_exit(int status)
{
    /* 32-bit semihosting: SYS_EXIT takes the reason itself; QEMU exits 0
       for ApplicationExit and 1 for any other reason. */
    uintptr_t reason = status ? ADP_Stopped_RunTimeErrorUnknown : ADP_Stopped_ApplicationExit;
    (void)semihost(SYS_EXIT, (const void *)reason);
    for (;;) {
    }
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = (unsigned char *)d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = (unsigned char *)d;
    const unsigned char *q = (const unsigned char *)s;
    while (n--) *p++ = *q++;
    return d;
}

/* from the linker script */
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[], __stack_top[];

static void start(void)
{
    uint32_t *d = __data_start, *s = __data_load;
    while (d < __data_end) *d++ = *s++;
    for (d = __bss_start; d < __bss_end; d++) *d = 0;
    bm_exit(main());
}

#if defined(__arm__)
static void fault(void)
{
    bm_write0("FAIL cortex-m3: hard fault\n");
    bm_exit(1);
}
void reset_handler(void) { start(); }
/* initial stack pointer, reset, NMI, hard fault, memory, bus, usage fault */
__attribute__((section(".vectors"), used)) static const void *const vectors[] = {
    __stack_top, (const void *)reset_handler, (const void *)fault, (const void *)fault,
    (const void *)fault, (const void *)fault, (const void *)fault,
};
#else
void c_start(void) { start(); }
__asm__(".section .text.start\n.global _start\n_start:\n"
        ".option push\n.option norelax\nla gp, __global_pointer$\n.option pop\n"
        "la sp, __stack_top\ncall c_start\n1: j 1b\n");
#endif
