#include "native.h"
#include "nat_bus.h"
#include "esp_log.h"
#include "esp_timer.h"
#include <stdlib.h>
#include <string.h>

static void queue_lock(void *m) {
    xSemaphoreTake((SemaphoreHandle_t)m, portMAX_DELAY);
}

static void queue_unlock(void *m) {
    xSemaphoreGive((SemaphoreHandle_t)m);
}

void native_queue_init(native_queue_t *nq, uint16_t size) {
    nq->mutex = xSemaphoreCreateMutex();
    uint8_t *buf = malloc(size);
    JD_ASSERT(nq->mutex && buf);
    nat_queue_init(&nq->q, buf, size);
    nq->q.lock = queue_lock;
    nq->q.unlock = queue_unlock;
    nq->q.lock_ctx = nq->mutex;
}

static int bus_packed(void *ctx, unsigned service_index, uint16_t code, const void *data,
                      unsigned len) {
    (void)ctx;
    return jd_send(service_index, code, data, len);
}

static void bus_flush(void *ctx) {
    (void)ctx;
    jd_tx_flush();
}

// a report of 233..236 bytes: a frame of its own, as the VM sends its packets (jd_send_pkt)
static int bus_whole(void *ctx, unsigned service_index, uint16_t code, const void *data,
                     unsigned len) {
    (void)ctx;
    static jd_frame_t frame; // the Jacdac loop only; jd_send_pkt copies it into the send queue
    jd_packet_t *pkt = (jd_packet_t *)&frame;
    memset(&frame, 0, sizeof(frame));
    pkt->device_identifier = jd_device_id(); // a report: flags 0, the sender's id
    pkt->service_size = (uint8_t)len;
    pkt->service_index = (uint8_t)service_index;
    pkt->service_command = code;
    memcpy(pkt->data, data, len);
    return jd_send_pkt(pkt);
}

static const nat_bus_t bus = {bus_packed, bus_flush, bus_whole, NULL};

int native_send(srv_t *srv, unsigned service_index, uint16_t code, const void *data, unsigned len) {
    if (NAT_IS_EVENT(code)) {
        jd_send_event_ext(srv, code & 0x7fff, data, len);
        return 0;
    }
    return nat_bus_report(&bus, service_index, code, data, len);
}

void native_queue_flush(native_queue_t *nq, srv_t *srv, unsigned service_index) {
    static uint8_t buf[NAT_MAX_PAYLOAD];
    uint16_t code;
    int n;
    // a bounded number per turn of the loop: the frame queue to the VM is not endless either
    for (int i = 0; i < 8 && (n = nat_queue_peek(&nq->q, &code, buf)) >= 0; i++) {
        if (native_send(srv, service_index, code, buf, n) != 0)
            break;
        nat_queue_pop(&nq->q);
    }
}

void native_log(const char *line) {
    DMESG("%s", line);
    ESP_LOGI("native", "%s", line);
}

uint32_t native_now_ms(void) {
    return (uint32_t)(esp_timer_get_time() / 1000);
}

void native_wake_loop(void) {
    jdesp_wake_main();
}
