/* CMOS RAM and MC146818A real-time clock (see cmos.h). */
#include "devices/cmos.h"

#include <string.h>

#include "devices/bus.h"
#include "devices/devclock.h"

#define SECS_PER_DAY 86400

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), and back. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Floor division for a possibly negative numerator. */
static int64_t floordiv(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static uint64_t now(const struct cmos *c)
{
    return devclock_now(c->clock);
}

static uint64_t ups(const struct cmos *c)
{
    return c->clock->units_per_sec;
}

static bool binary(const struct cmos *c)
{
    return c->ram[CMOS_REG_B] & CMOS_B_DM;
}

static uint8_t to_reg(const struct cmos *c, unsigned v)
{
    return binary(c) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned from_reg(const struct cmos *c, uint8_t v)
{
    return binary(c) ? v : (unsigned)(v >> 4) * 10 + (v & 15);
}

static uint8_t hours_to_reg(const struct cmos *c, unsigned h)
{
    if (c->ram[CMOS_REG_B] & CMOS_B_24H)
        return to_reg(c, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(to_reg(c, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned hours_from_reg(const struct cmos *c, uint8_t v)
{
    if (c->ram[CMOS_REG_B] & CMOS_B_24H)
        return from_reg(c, v);
    return from_reg(c, v & 0x7F) % 12 + (v & 0x80 ? 12 : 0);
}

/* Is byte i one of the clock's time fields? */
static bool time_field(unsigned i)
{
    return i == CMOS_SECONDS || i == CMOS_MINUTES || i == CMOS_HOURS || i == CMOS_WEEKDAY ||
           i == CMOS_DAY || i == CMOS_MONTH || i == CMOS_YEAR || i == CMOS_CENTURY;
}

/* Writes the fields of time t (seconds from 2000-01-01) into f[], in the current format. */
static void fields_of(const struct cmos *c, int64_t t, uint8_t *f)
{
    int64_t day = floordiv(t, SECS_PER_DAY);
    unsigned sod = (unsigned)(t - day * SECS_PER_DAY);
    int64_t y;
    unsigned mon, mday;
    int64_t days = day + days_from_civil(CMOS_EPOCH_YEAR, 1, 1);
    civil_from_days(days, &y, &mon, &mday);
    f[CMOS_SECONDS] = to_reg(c, sod % 60);
    f[CMOS_MINUTES] = to_reg(c, sod / 60 % 60);
    f[CMOS_HOURS] = hours_to_reg(c, sod / 3600);
    f[CMOS_WEEKDAY] = to_reg(c, (unsigned)((days % 7 + 7 + 4) % 7) + 1); /* 1970-01-01: Thu */
    f[CMOS_DAY] = to_reg(c, mday);
    f[CMOS_MONTH] = to_reg(c, mon);
    f[CMOS_YEAR] = to_reg(c, (unsigned)(((y % 100) + 100) % 100));
    f[CMOS_CENTURY] = to_reg(c, (unsigned)floordiv(y, 100) % 100);
}

/* The time the fields in f[] name (out-of-range values are clamped, not rejected). */
static int64_t time_of(const struct cmos *c, const uint8_t *f)
{
    unsigned s = from_reg(c, f[CMOS_SECONDS]), mi = from_reg(c, f[CMOS_MINUTES]);
    unsigned h = hours_from_reg(c, f[CMOS_HOURS]);
    unsigned d = from_reg(c, f[CMOS_DAY]), mo = from_reg(c, f[CMOS_MONTH]);
    int64_t y = (int64_t)from_reg(c, f[CMOS_CENTURY]) * 100 + from_reg(c, f[CMOS_YEAR]);
    mo = mo < 1 ? 1 : mo > 12 ? 12 : mo;
    d = d < 1 ? 1 : d > 31 ? 31 : d;
    int64_t days = days_from_civil(y, mo, d) - days_from_civil(CMOS_EPOCH_YEAR, 1, 1);
    return days * SECS_PER_DAY + (int64_t)(h % 24) * 3600 + (mi % 60) * 60 + s % 60;
}

int64_t cmos_seconds(const struct cmos *c)
{
    if (c->stopped)
        return time_of(c, c->ram);
    return c->base_secs + (int64_t)((now(c) - c->base_time) / ups(c));
}

/* Does the register A / B pair let the clock run? */
static bool runs(const struct cmos *c)
{
    return !(c->ram[CMOS_REG_B] & CMOS_B_SET) && (c->ram[CMOS_REG_A] & CMOS_A_DV) == 0x20;
}

/* Called after a write to A or B: stops the clock into ram[] or starts it from there.
 * phase_origin: the device time a restarted clock counts its seconds from. */
static void start_or_stop(struct cmos *c, uint64_t phase_origin)
{
    bool run = runs(c);
    if (!run && !c->stopped) {
        fields_of(c, cmos_seconds(c), c->ram);
        c->stopped = true;
    } else if (run && c->stopped) {
        c->base_secs = time_of(c, c->ram);
        c->base_time = phase_origin;
        c->stopped = false;
    }
}

void cmos_init(struct cmos *c, struct devclock *clock, uint32_t ram_bytes)
{
    memset(c, 0, sizeof *c);
    c->clock = clock;
    c->ram[CMOS_REG_A] = CMOS_A_DEFAULT;
    c->ram[CMOS_REG_B] = CMOS_B_DEFAULT;
    c->ram[CMOS_REG_D] = CMOS_D_VRT;
    uint32_t base = 640, ext = 0, high = 0;
    if (ram_bytes > (1u << 20))
        ext = (ram_bytes - (1u << 20)) / 1024;
    if (ext > 0xFFFF)
        ext = 0xFFFF;
    if (ram_bytes > (16u << 20))
        high = (ram_bytes - (16u << 20)) / 65536;
    if (high > 0xFFFF)
        high = 0xFFFF;
    c->ram[CMOS_BASEMEM_LO] = (uint8_t)base;
    c->ram[CMOS_BASEMEM_HI] = (uint8_t)(base >> 8);
    c->ram[CMOS_EXTMEM_LO] = c->ram[CMOS_EXTMEM2_LO] = (uint8_t)ext;
    c->ram[CMOS_EXTMEM_HI] = c->ram[CMOS_EXTMEM2_HI] = (uint8_t)(ext >> 8);
    c->ram[CMOS_HIGHMEM_LO] = (uint8_t)high;
    c->ram[CMOS_HIGHMEM_HI] = (uint8_t)(high >> 8);
    c->base_secs = 0;
    c->base_time = 0;
    c->c_read_time = now(c);
}

/* The update cycle (UIP = 1) is the last CMOS_UIP_US of every second of a running clock. */
static bool update_in_progress(const struct cmos *c)
{
    if (c->stopped)
        return false;
    uint64_t u = ups(c), phase = (now(c) - c->base_time) % u;
    uint64_t len = u * CMOS_UIP_US / 1000000;
    return phase >= u - (len ? len : 1);
}

/* Periodic-interrupt rate in Hz from register A's RS bits (0 = off). */
static unsigned periodic_hz(uint8_t a)
{
    unsigned rs = a & CMOS_A_RS;
    if (rs == 0)
        return 0;
    return rs <= 2 ? 256u >> (rs - 1) : 32768u >> (rs - 1);
}

/* Does alarm byte a (0xC0..0xFF: any value) match field value v? */
static bool alarm_matches(uint8_t a, uint8_t v)
{
    return (a & 0xC0) == 0xC0 || a == v;
}

/* Register C: the flags raised since it was last read, then cleared. */
static uint8_t read_reg_c(struct cmos *c)
{
    uint64_t t1 = now(c), t0 = c->c_read_time;
    uint8_t v = 0;
    c->c_read_time = t1;
    if (t1 <= t0)
        return 0;
    unsigned hz = periodic_hz(c->ram[CMOS_REG_A]);
    if (hz && (t1 * hz) / ups(c) != (t0 * hz) / ups(c))
        v |= CMOS_C_PF;
    if (!c->stopped) {
        uint64_t from = t0 > c->base_time ? t0 - c->base_time : 0, to = t1 - c->base_time;
        uint64_t first = from / ups(c) + 1, last = to / ups(c); /* updates in (t0, t1] */
        if (last >= first) {
            v |= CMOS_C_UF;
            if (last - first >= SECS_PER_DAY) {
                v |= CMOS_C_AF; /* every alarm setting matches once a day */
            } else {
                for (uint64_t k = first; k <= last && !(v & CMOS_C_AF); k++) {
                    uint8_t f[CMOS_SIZE];
                    fields_of(c, c->base_secs + (int64_t)k, f);
                    if (alarm_matches(c->ram[CMOS_ALARM_SEC], f[CMOS_SECONDS]) &&
                        alarm_matches(c->ram[CMOS_ALARM_MIN], f[CMOS_MINUTES]) &&
                        alarm_matches(c->ram[CMOS_ALARM_HR], f[CMOS_HOURS]))
                        v |= CMOS_C_AF;
                }
            }
        }
    }
    uint8_t b = c->ram[CMOS_REG_B];
    if (((v & CMOS_C_PF) && (b & CMOS_B_PIE)) || ((v & CMOS_C_AF) && (b & CMOS_B_AIE)) ||
        ((v & CMOS_C_UF) && (b & CMOS_B_UIE)))
        v |= CMOS_C_IRQF;
    return v;
}

uint8_t cmos_read(struct cmos *c, uint8_t index)
{
    unsigned i = index & (CMOS_SIZE - 1);
    if (time_field(i) && !c->stopped) {
        uint8_t f[CMOS_SIZE];
        fields_of(c, cmos_seconds(c), f);
        return f[i];
    }
    switch (i) {
    case CMOS_REG_A:
        return (uint8_t)((c->ram[i] & ~CMOS_A_UIP) | (update_in_progress(c) ? CMOS_A_UIP : 0));
    case CMOS_REG_C:
        return read_reg_c(c);
    case CMOS_REG_D:
        return CMOS_D_VRT;
    default:
        return c->ram[i];
    }
}

void cmos_write(struct cmos *c, uint8_t index, uint8_t value)
{
    unsigned i = index & (CMOS_SIZE - 1);
    uint64_t t = now(c);
    if (time_field(i) && !c->stopped) {
        /* Setting a field of the running clock: the other fields keep their values and the
         * divider its phase. */
        uint8_t f[CMOS_SIZE];
        fields_of(c, cmos_seconds(c), f);
        f[i] = value;
        c->base_secs = time_of(c, f);
        c->base_time = t - (t - c->base_time) % ups(c);
        return;
    }
    switch (i) {
    case CMOS_REG_A: {
        bool was_running = (c->ram[i] & CMOS_A_DV) == 0x20;
        c->ram[i] = value & (uint8_t)~CMOS_A_UIP;
        /* Restarting the divider: the first update comes half a second later. */
        uint64_t half = ups(c) / 2;
        start_or_stop(c, was_running ? c->base_time : (t >= half ? t - half : 0));
        break;
    }
    case CMOS_REG_B: {
        /* SET keeps the divider running: the clock resumes with its old phase. */
        c->ram[i] = value;
        start_or_stop(c, t - (t - c->base_time) % ups(c));
        break;
    }
    case CMOS_REG_C:
    case CMOS_REG_D:
        break; /* read-only */
    default:
        c->ram[i] = value;
        break;
    }
}

static uint32_t cmos_port_read(void *dev, uint16_t port, unsigned size)
{
    struct cmos *c = dev;
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++) {
        uint16_t p = (uint16_t)(port + k);
        uint8_t b = p == CMOS_INDEX_PORT ? 0xFF : cmos_read(c, c->index);
        v |= (uint32_t)b << (8 * k);
    }
    return v;
}

static void cmos_port_write(void *dev, uint16_t port, uint32_t value, unsigned size)
{
    struct cmos *c = dev;
    for (unsigned k = 0; k < size; k++) {
        uint16_t p = (uint16_t)(port + k);
        uint8_t b = (uint8_t)(value >> (8 * k));
        if (p == CMOS_INDEX_PORT) {
            c->index = b & (CMOS_SIZE - 1);
            c->nmi_disabled = b & 0x80;
        } else {
            cmos_write(c, c->index, b);
        }
    }
}

int cmos_attach(struct cmos *c, struct bus *b)
{
    return bus_add_ports(b, CMOS_INDEX_PORT, CMOS_DATA_PORT, cmos_port_read, cmos_port_write, c);
}
