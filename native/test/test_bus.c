// The route of reports to the runtime's bus, against a model of jacdac-c's jd_send(): packets are
// packed into a frame of 236 data bytes (4-byte header each); a packet that does not fit makes it
// send the frame being filled, and when that frame is empty the runtime panics (jd_queue.c:29, seen
// on the chip in the emulator with a full `data` report of 236 bytes).
#include "harness.h"
#include "nat_bus.h"
#include "nat_wire.h"
#include "serial.h"

typedef struct {
    uint8_t fill; // data bytes in the frame being filled
    int panics; // empty frames sent: the runtime's JD_PANIC
    int frames; // frames on the bus
    // every packet in bus order: payload length and first byte
    int n;
    unsigned len[64];
    uint8_t first[64];
} model_t;

static model_t M;

static void model_send_frame(model_t *m) {
    if (m->fill == 0)
        m->panics++;
    else
        m->frames++;
    m->fill = 0;
}

static void model_note(model_t *m, const void *data, unsigned len) {
    if (m->n < 64) {
        m->len[m->n] = len;
        m->first[m->n] = len ? ((const uint8_t *)data)[0] : 0;
        m->n++;
    }
}

static int model_packed(void *ctx, unsigned idx, uint16_t code, const void *data, unsigned len) {
    (void)idx, (void)code;
    model_t *m = ctx;
    if (len + 4 > (unsigned)(NAT_BUS_FRAME_DATA - m->fill)) {
        model_send_frame(m); // jd_send: the frame does not take it: send what is there, try again
        if (len + 4 > NAT_BUS_FRAME_DATA) {
            m->panics++; // JD_ASSERT(trg != NULL)
            return -1;
        }
    }
    m->fill += (uint8_t)((len + 4 + 3) & ~3u);
    model_note(m, data, len);
    return 0;
}

static void model_flush(void *ctx) {
    model_t *m = ctx;
    if (m->fill)
        model_send_frame(m);
}

static int model_whole(void *ctx, unsigned idx, uint16_t code, const void *data, unsigned len) {
    (void)idx, (void)code;
    model_t *m = ctx;
    if (m->fill)
        m->panics++; // would overtake the packets packed before it
    m->frames++;
    model_note(m, data, len);
    return 0;
}

static const nat_bus_t bus = {model_packed, model_flush, model_whole, &M};

static void a_full_data_report_reaches_the_bus_after_the_packets_before_it(void) {
    memset(&M, 0, sizeof(M));
    uint8_t small[13], full[NAT_MAX_PAYLOAD], last[3];
    memset(small, 1, sizeof(small));
    memset(full, 2, sizeof(full));
    memset(last, 3, sizeof(last));
    CHECK_EQ(nat_bus_report(&bus, 4, 0x90, small, sizeof(small)), 0);
    CHECK_EQ(nat_bus_report(&bus, 4, 0x90, full, sizeof(full)), 0); // 3 + 233: a full `data` report
    CHECK_EQ(nat_bus_report(&bus, 4, 0x90, last, sizeof(last)), 0);
    CHECK_EQ(M.panics, 0);
    CHECK_EQ(M.n, 3);
    CHECK_EQ(M.len[1], NAT_MAX_PAYLOAD);
    CHECK(M.first[0] == 1 && M.first[1] == 2 && M.first[2] == 3);
}

static void reports_up_to_232_bytes_share_frames(void) {
    memset(&M, 0, sizeof(M));
    uint8_t d[NAT_BUS_PACKED_MAX];
    memset(d, 5, sizeof(d));
    CHECK_EQ(nat_bus_report(&bus, 1, 0x80, d, 10), 0);
    CHECK_EQ(nat_bus_report(&bus, 1, 0x80, d, 20), 0);
    CHECK_EQ(M.frames, 0); // both still in the frame being filled
    CHECK_EQ(nat_bus_report(&bus, 1, 0x80, d, NAT_BUS_PACKED_MAX), 0);
    CHECK_EQ(M.panics, 0);
    CHECK_EQ(M.n, 3);
}

static void a_report_over_236_bytes_is_refused(void) {
    memset(&M, 0, sizeof(M));
    uint8_t d[NAT_MAX_PAYLOAD + 1] = {0};
    CHECK_EQ(nat_bus_report(&bus, 1, 0x80, d, sizeof(d)), -1);
    CHECK_EQ(M.n, 0);
    CHECK_EQ(M.panics, 0);
}

// the BMS UART: 600 bytes at once become received reports of 236 bytes, all of them on the bus
static uint8_t wire[600];
static unsigned wire_len, wire_off;
static int u_read(void *ctx, uint8_t *buf, unsigned max) {
    (void)ctx;
    unsigned n = wire_len - wire_off < max ? wire_len - wire_off : max;
    memcpy(buf, wire + wire_off, n);
    wire_off += n;
    return (int)n;
}
static int u_write(void *ctx, const uint8_t *d, unsigned l) {
    (void)ctx, (void)d;
    return (int)l;
}
static int u_baud(void *ctx, uint32_t b) {
    (void)ctx, (void)b;
    return 0;
}
static uint32_t u_lost(void *ctx) {
    (void)ctx;
    return 0;
}
static const ser_ops_t uart = {u_read, u_write, u_baud, u_lost};
static int to_bus(void *ctx, uint16_t code, const void *data, unsigned len) {
    (void)ctx;
    return nat_bus_report(&bus, 2, code, data, len);
}

static void a_burst_from_the_bms_uart_reaches_the_bus_without_a_panic(void) {
    memset(&M, 0, sizeof(M));
    ser_core_t S;
    ser_init(&S, &uart, NULL, 9600, to_bus, NULL);
    for (unsigned i = 0; i < sizeof(wire); i++)
        wire[i] = (uint8_t)i;
    wire_len = sizeof(wire), wire_off = 0;
    while (ser_poll(&S))
        ;
    CHECK_EQ(M.panics, 0);
    CHECK_EQ(M.n, 3);
    CHECK_EQ(M.len[0] + M.len[1] + M.len[2], 600u);
    CHECK_EQ(M.first[1], (uint8_t)M.len[0]);
}

void test_bus(void) {
    RUN(a_full_data_report_reaches_the_bus_after_the_packets_before_it);
    RUN(reports_up_to_232_bytes_share_frames);
    RUN(a_report_over_236_bytes_is_refused);
    RUN(a_burst_from_the_bms_uart_reaches_the_bus_without_a_panic);
}
