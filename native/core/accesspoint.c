#include "accesspoint.h"
#include "nat_wire.h"
#include <stdio.h>
#include <string.h>

bool ap_valid_hostname(const char *name, unsigned len) {
    if (len < 1 || len > 32)
        return false;
    for (unsigned i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}

uint8_t ap_check(const char *ssid, const char *password, uint8_t channel) {
    size_t sl = strlen(ssid), pl = strlen(password);
    if (sl < 1 || sl > 32)
        return AP_BAD_SSID;
    if (pl && (pl < 8 || pl > 63))
        return AP_BAD_PASSWORD;
    if (channel > 13)
        return AP_FAILED;
    return AP_OK;
}

static void logf_line(ap_core_t *c, const char *line) {
    if (c->log)
        c->log(line);
}

void ap_init(ap_core_t *c, const ap_ops_t *ops, void *ops_ctx, const uint8_t ap_ip[4],
             ap_emit_fn emit, void *emit_ctx) {
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->ops_ctx = ops_ctx;
    c->emit = emit;
    c->emit_ctx = emit_ctx;
    memcpy(c->ap_ip, ap_ip, 4);
    strcpy(c->hostname, "esp32c3");
}

static const uint8_t *mode_ip(const ap_core_t *c) {
    static const uint8_t none[4];
    if (c->mode == AP_MODE_ACCESS_POINT)
        return c->ap_ip;
    if (c->mode == AP_MODE_STATION)
        return c->sta_ip;
    return none;
}

static void set_mode(ap_core_t *c, uint8_t mode) {
    if (c->mode == mode)
        return;
    c->mode = mode;
    static const char *const names[] = {"offline", "station", "access point"};
    char line[40];
    snprintf(line, sizeof(line), "Wi-Fi mode: %s", names[mode]);
    logf_line(c, line);
    c->emit(c->emit_ctx, NAT_EVENT(AP_EV_MODE_CHANGED), &mode, 1);
}

static void follow_links(ap_core_t *c) {
    bool sta = c->sta_ip[0] | c->sta_ip[1] | c->sta_ip[2] | c->sta_ip[3];
    set_mode(c, c->ssid[0] ? AP_MODE_ACCESS_POINT : sta ? AP_MODE_STATION : AP_MODE_OFFLINE);
}

void ap_station(ap_core_t *c, const uint8_t *ip) {
    if (ip)
        memcpy(c->sta_ip, ip, 4);
    else
        memset(c->sta_ip, 0, 4);
    follow_links(c);
}

void ap_clients(ap_core_t *c, uint8_t n) {
    c->clients = n;
}

static void start_ap(ap_core_t *c, const uint8_t *d, unsigned len) {
    uint8_t status = AP_FAILED;
    char ssid[64] = "", password[80] = "";
    if (len >= 1) {
        const char *s = (const char *)d + 1;
        unsigned rest = len - 1;
        const char *nul = memchr(s, 0, rest);
        unsigned sl = nul ? (unsigned)(nul - s) : rest;
        const char *p = nul ? nul + 1 : s + rest;
        unsigned pr = (unsigned)((const char *)d + len - p);
        const char *pnul = memchr(p, 0, pr);
        unsigned pl = pnul ? (unsigned)(pnul - p) : pr;
        if (sl >= sizeof(ssid))
            status = AP_BAD_SSID;
        else if (pl >= sizeof(password))
            status = AP_BAD_PASSWORD;
        else {
            memcpy(ssid, s, sl);
            memcpy(password, p, pl);
            status = ap_check(ssid, password, d[0]);
        }
        if (status == AP_OK) {
            if (c->ops->start(c->ops_ctx, ssid, password, d[0]) != 0)
                status = AP_FAILED;
            else {
                strcpy(c->ssid, ssid);
                char line[112];
                snprintf(line, sizeof(line), "access point \"%s\" up (%s, channel %u)", ssid,
                         password[0] ? "WPA2" : "open", d[0]);
                logf_line(c, line);
                follow_links(c);
            }
        }
    }
    c->emit(c->emit_ctx, AP_REP_START_AP, &status, 1);
}

int ap_handle(ap_core_t *c, uint16_t code, const uint8_t *d, unsigned len) {
    switch (code) {
    case AP_CMD_START_AP:
        start_ap(c, d, len);
        return 1;
    case AP_CMD_STOP_AP:
        if (!c->ssid[0])
            return 1;
        c->ops->stop(c->ops_ctx);
        c->ssid[0] = 0;
        c->clients = 0;
        logf_line(c, "access point down");
        follow_links(c);
        return 1;
    case NAT_SET(AP_REG_HOSTNAME): {
        while (len && d[len - 1] == 0)
            len--;
        if (!ap_valid_hostname((const char *)d, len)) {
            logf_line(c, "hostname refused: 1 to 32 characters from a-z, 0-9 and -");
            return 1;
        }
        memcpy(c->hostname, d, len);
        c->hostname[len] = 0;
        c->ops->set_hostname(c->ops_ctx, c->hostname);
        return 1;
    }
    case NAT_GET(AP_REG_HOSTNAME):
        c->emit(c->emit_ctx, code, c->hostname, strlen(c->hostname));
        return 1;
    case NAT_GET(AP_REG_MODE):
        c->emit(c->emit_ctx, code, &c->mode, 1);
        return 1;
    case NAT_GET(AP_REG_IP_ADDRESS):
        c->emit(c->emit_ctx, code, mode_ip(c), 4);
        return 1;
    case NAT_GET(AP_REG_AP_SSID):
        c->emit(c->emit_ctx, code, c->ssid, strlen(c->ssid));
        return 1;
    case NAT_GET(AP_REG_AP_CLIENTS):
        c->emit(c->emit_ctx, code, &c->clients, 1);
        return 1;
    }
    return 0;
}
