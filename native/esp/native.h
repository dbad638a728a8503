// The chip side of the native services: glue between jacdac-c's service framework (the Jacdac loop
// task of devicescript-esp32) and the portable core in ../core.
#pragma once
#include <stdint.h>
#include <stdbool.h>
#include "jd_protocol.h"
#include "nat_queue.h"
#include "nat_wire.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"

// Pins and ports: the board file's `$bmsUart` and `$sdCard` (boards/smartbms_dongle.board.json)
#ifndef NATIVE_BMS_UART
#define NATIVE_BMS_UART 1
#define NATIVE_BMS_TX 4
#define NATIVE_BMS_RX 5
#define NATIVE_BMS_BAUD 9600
#endif
#ifndef NATIVE_SD_SCK
#define NATIVE_SD_SCK 6
#define NATIVE_SD_MOSI 7
#define NATIVE_SD_MISO 2
#define NATIVE_SD_CS 10
#endif
#define NATIVE_FS_ROOT "/sdcard"
#define NATIVE_AP_IP {192, 168, 4, 1}

/** A hand-over queue between a worker task and the Jacdac loop (locked by a FreeRTOS mutex). */
typedef struct {
    nat_queue_t q;
    SemaphoreHandle_t mutex;
} native_queue_t;

void native_queue_init(native_queue_t *nq, uint16_t size);
/** Sends the queued packets of a service (Jacdac loop only): reports on the route of core/nat_bus.h
 * (jd_send, or a frame of their own over 232 bytes), events with jd_send_event_ext. */
void native_queue_flush(native_queue_t *nq, srv_t *srv, unsigned service_index);
/** From the Jacdac loop: a report, register value or event of a service, sent now. */
int native_send(srv_t *srv, unsigned service_index, uint16_t code, const void *data, unsigned len);
/** A console line (DMESG and the ESP log). */
void native_log(const char *line);
/** Milliseconds since boot. */
uint32_t native_now_ms(void);
/** Wakes the Jacdac loop: something was queued for it. */
void native_wake_loop(void);

// the services (each: srv_*.c)
void native_bmsserial_init(void);
void native_streamsockets_init(void);
void native_filestore_init(void);
void native_wifiap_init(void);
void native_resetreason_init(void);
/** mDNS: the socket task turns it (non-blocking). */
void native_mdns_poll(void);
/** Reset reason: the runtime ended a program (0: a restart asked for). */
void native_resetreason_program_ended(int code);
