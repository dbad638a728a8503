// Wi-Fi Access Point (services/wifiaccesspoint.md): argument rules, the hostname, and the mode the
// dongle is in (station, access point, offline) with its address. The radio is behind ap_ops_t.
#pragma once
#include <stdint.h>
#include <stdbool.h>

#define AP_SERVICE_CLASS 0x1d0a8f43
#define AP_REG_HOSTNAME 0x80
#define AP_REG_MODE 0x180
#define AP_REG_IP_ADDRESS 0x181
#define AP_REG_AP_SSID 0x182
#define AP_REG_AP_CLIENTS 0x183
#define AP_CMD_START_AP 0x80
#define AP_REP_START_AP 0x80
#define AP_CMD_STOP_AP 0x81
#define AP_EV_MODE_CHANGED 0x80

enum ap_mode { AP_MODE_OFFLINE = 0, AP_MODE_STATION = 1, AP_MODE_ACCESS_POINT = 2 };
enum ap_status { AP_OK = 0, AP_BAD_SSID = 1, AP_BAD_PASSWORD = 2, AP_FAILED = 3 };

typedef struct {
    /** Start the soft-AP (password "" = open); 0 or -1. */
    int (*start)(void *ctx, const char *ssid, const char *password, uint8_t channel);
    void (*stop)(void *ctx);
    /** The DHCP hostname and mDNS name changed. */
    void (*set_hostname)(void *ctx, const char *name);
} ap_ops_t;

typedef int (*ap_emit_fn)(void *ctx, uint16_t code, const void *data, unsigned len);

typedef struct {
    const ap_ops_t *ops;
    void *ops_ctx;
    ap_emit_fn emit;
    void *emit_ctx;
    void (*log)(const char *line);
    char hostname[33];
    char ssid[33];
    uint8_t mode;
    uint8_t clients;
    uint8_t ap_ip[4];
    uint8_t sta_ip[4]; // 0.0.0.0: the station link is down
} ap_core_t;

void ap_init(ap_core_t *c, const ap_ops_t *ops, void *ops_ctx, const uint8_t ap_ip[4],
             ap_emit_fn emit, void *emit_ctx);
/** Returns 1 when `code` is one of the service's, 0 otherwise (the caller answers not-implemented). */
int ap_handle(ap_core_t *c, uint16_t code, const uint8_t *data, unsigned len);
/** The station got an address (or lost it: NULL). */
void ap_station(ap_core_t *c, const uint8_t *ip);
void ap_clients(ap_core_t *c, uint8_t n);
/** The validity rules of the contract. */
bool ap_valid_hostname(const char *name, unsigned len);
uint8_t ap_check(const char *ssid, const char *password, uint8_t channel);
