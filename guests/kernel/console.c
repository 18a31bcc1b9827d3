/* The console: COM1, a 16550 UART at ports 0x3F8..0x3FF, wired to IRQ 4.
 *
 * Output is by polling (wait until the transmit holding register is empty, write the byte).
 * Input is interrupt-driven and "cooked", like a terminal in canonical mode: IRQ 4 takes the
 * received bytes, echoes them, handles backspace, and a line becomes readable only when it
 * is complete (Enter). Ctrl-D on an empty line means end of input. */
#include "kernel.h"

#define COM1     0x3F8
#define UART_RBR (COM1 + 0) /* receive buffer (read) / transmit holding register (write) */
#define UART_THR (COM1 + 0)
#define UART_DLL (COM1 + 0) /* divisor latch, with LCR.DLAB set */
#define UART_IER (COM1 + 1) /* interrupt enable */
#define UART_DLM (COM1 + 1)
#define UART_FCR (COM1 + 2) /* FIFO control */
#define UART_LCR (COM1 + 3) /* line control */
#define UART_MCR (COM1 + 4) /* modem control */
#define UART_LSR (COM1 + 5) /* line status */

#define LCR_8N1  0x03 /* 8 data bits, no parity, 1 stop bit */
#define LCR_DLAB 0x80 /* divisor latch access */
#define FCR_OFF  0x00 /* FIFOs off: one byte at a time is plenty for typing, and switching
                       * them on would throw away input that is already waiting */
#define MCR_OUT2 0x0B /* DTR, RTS, OUT2 (on a PC, OUT2 gates the IRQ line) */
#define IER_RDI  0x01 /* interrupt when a byte has been received */
#define LSR_DR   0x01 /* a received byte is waiting */
#define LSR_THRE 0x20 /* the transmitter can take a byte */

#define CTRL_D   0x04
#define LINE_MAX 128  /* the line being typed */
#define READY_MAX 256 /* completed lines waiting for read() */

static char line[LINE_MAX];     /* being edited */
static unsigned line_len;
static char ready[READY_MAX];   /* ring buffer of completed input */
static unsigned ready_head, ready_count;
static bool eof_pending;
static bool last_was_cr;
static uint32_t last_input;

void console_init(void)
{
    outb(UART_IER, 0);
    outb(UART_LCR, LCR_DLAB);
    outb(UART_DLL, 1);          /* divisor 1: 115200 baud */
    outb(UART_DLM, 0);
    outb(UART_LCR, LCR_8N1);
    outb(UART_FCR, FCR_OFF);
    outb(UART_MCR, MCR_OUT2);
}

/* Turns on the receive interrupt, once the PIC is ready for it. The 8259A sees an IRQ as a
 * rising edge: a byte that arrived earlier would hold the line high with no edge to come, and
 * input would stop for good. So enable, then take whatever is already waiting (interrupts are
 * still off in the cpu): from now on every byte makes a new edge. */
void console_start_input(void)
{
    outb(UART_IER, IER_RDI);
    console_irq();
}

void kputc(char c)
{
    while (!(inb(UART_LSR) & LSR_THRE))
        ;
    outb(UART_THR, (uint8_t)c);
}

static void emit(void *ctx, char c)
{
    (void)ctx;
    kputc(c);
}

void kvprintf(const char *fmt, va_list ap)
{
    fmt_vformat(emit, NULL, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

/* Moves the edited line to the ready buffer (what does not fit is dropped). */
static void commit_line(void)
{
    for (unsigned i = 0; i < line_len && ready_count < READY_MAX; i++) {
        ready[(ready_head + ready_count) % READY_MAX] = line[i];
        ready_count++;
    }
    line_len = 0;
}

static void receive(char c)
{
    bool cr = c == '\r';
    if (c == '\n' && last_was_cr) { /* CR LF: one end of line */
        last_was_cr = false;
        return;
    }
    last_was_cr = cr;
    if (c == '\r' || c == '\n') {
        if (line_len < LINE_MAX)
            line[line_len++] = '\n';
        kputc('\n');
        commit_line();
    } else if (c == '\b' || c == 0x7F) {
        if (line_len > 0) {
            line_len--;
            kprintf("\b \b");
        }
    } else if (c == CTRL_D) {
        if (line_len == 0)
            eof_pending = true;
        else
            commit_line();
    } else if (line_len < LINE_MAX - 1 && (uint8_t)c >= ' ') {
        line[line_len++] = c;
        kputc(c);
    }
}

void console_irq(void)
{
    while (inb(UART_LSR) & LSR_DR)
        receive((char)inb(UART_RBR));
    last_input = ticks;
    if (ready_count > 0 || eof_pending) /* a reader has something to return now */
        wake_all(B_READ);
}

/* Up to len bytes of completed input, stopping after a newline (one line per read). */
size_t console_take(char *dst, size_t len)
{
    size_t n = 0;
    while (n < len && ready_count > 0) {
        char c = ready[ready_head];
        ready_head = (ready_head + 1) % READY_MAX;
        ready_count--;
        dst[n++] = c;
        if (c == '\n')
            break;
    }
    return n;
}

bool console_eof(void)
{
    bool e = eof_pending;
    eof_pending = false;
    return e;
}

uint32_t console_last_input(void)
{
    return last_input;
}
