// Wi-Fi Access Point service: esp_wifi soft-AP next to the runtime's station (AP+STA), the DHCP
// server of the AP interface at 192.168.4.1, the hostname on DHCP and mDNS ("NAME.local").
// The runtime's Wi-Fi code sets the station mode when it connects; the linker wraps
// esp_wifi_set_mode so that the access point stays up then (STA becomes AP+STA while it runs).
#include "native.h"
#include "accesspoint.h"
#include "mdns.h"
#include "esp_wifi.h"
#include "esp_netif.h"
#include "esp_event.h"
#include "lwip/sockets.h"
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

struct srv_state {
    SRV_COMMON;
    ap_core_t core;
};

static srv_t *the_state;
static esp_netif_t *ap_netif;
static volatile bool ap_running;

// what the mDNS responder (socket task) needs, copied under a lock from the Jacdac loop
static portMUX_TYPE mdns_lock = portMUX_INITIALIZER_UNLOCKED;
static struct {
    char hostname[33];
    uint8_t ap_ip[4], sta_ip[4];
    bool ap_up;
} mdns_view;

static void update_mdns_view(void) {
    ap_core_t *c = &the_state->core;
    portENTER_CRITICAL(&mdns_lock);
    strcpy(mdns_view.hostname, c->hostname);
    memcpy(mdns_view.ap_ip, c->ap_ip, 4);
    memcpy(mdns_view.sta_ip, c->sta_ip, 4);
    mdns_view.ap_up = c->ssid[0] != 0;
    portEXIT_CRITICAL(&mdns_lock);
}

esp_err_t __real_esp_wifi_set_mode(wifi_mode_t mode);

esp_err_t __wrap_esp_wifi_set_mode(wifi_mode_t mode) {
    if (ap_running && mode == WIFI_MODE_STA)
        mode = WIFI_MODE_APSTA;
    else if (ap_running && mode == WIFI_MODE_NULL)
        mode = WIFI_MODE_AP;
    return __real_esp_wifi_set_mode(mode);
}

#if NATIVE_EMULATOR
// The emulator's built-in station loses the access point while the radio scans (the runtime's
// Wi-Fi service scans every few seconds when it has no network): an emulator runtime does not
// scan while the access point runs. A dongle's radio serves both.
esp_err_t __real_esp_wifi_scan_start(const wifi_scan_config_t *config, bool block);

esp_err_t __wrap_esp_wifi_scan_start(const wifi_scan_config_t *config, bool block) {
    if (ap_running)
        return ESP_ERR_WIFI_STATE;
    return __real_esp_wifi_scan_start(config, block);
}
#endif

static int r_start(void *ctx, const char *ssid, const char *password, uint8_t channel) {
    (void)ctx;
    wifi_mode_t mode;
    if (esp_wifi_get_mode(&mode) != ESP_OK) {
        native_log("access point: Wi-Fi is not initialised");
        return -1;
    }
    if (!ap_netif) {
        ap_netif = esp_netif_create_default_wifi_ap();
        if (!ap_netif)
            return -1;
        esp_netif_set_hostname(ap_netif, the_state->core.hostname);
    }
    wifi_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    size_t sl = strlen(ssid);
    memcpy(cfg.ap.ssid, ssid, sl);
    cfg.ap.ssid_len = sl;
    strlcpy((char *)cfg.ap.password, password, sizeof(cfg.ap.password));
    cfg.ap.channel = channel ? channel : 1;
    cfg.ap.authmode = password[0] ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
#if NATIVE_EMULATOR
    // the emulator's built-in station joins open networks only: a runtime built for the emulator
    // (never for a dongle) leaves its access point open
    cfg.ap.authmode = WIFI_AUTH_OPEN;
    native_log("emulator runtime: the access point is open (the emulator's station has no WPA2)");
#endif
    cfg.ap.max_connection = 4;
    ap_running = true;
    esp_err_t err = __real_esp_wifi_set_mode(mode == WIFI_MODE_STA || mode == WIFI_MODE_APSTA
                                                 ? WIFI_MODE_APSTA
                                                 : WIFI_MODE_AP);
    if (err == ESP_OK)
        err = esp_wifi_set_config(WIFI_IF_AP, &cfg);
    if (err == ESP_OK)
        err = esp_wifi_start(); // already started: no harm
    if (err != ESP_OK) {
        ap_running = false;
        DMESG("access point: %s", esp_err_to_name(err));
        return -1;
    }
    return 0;
}

static void r_stop(void *ctx) {
    (void)ctx;
    wifi_mode_t mode;
    ap_running = false;
    if (esp_wifi_get_mode(&mode) == ESP_OK)
        __real_esp_wifi_set_mode(mode == WIFI_MODE_APSTA ? WIFI_MODE_STA : WIFI_MODE_NULL);
}

static void r_set_hostname(void *ctx, const char *name) {
    (void)ctx;
    esp_netif_t *sta = esp_netif_get_handle_from_ifkey("WIFI_STA_DEF");
    if (sta)
        esp_netif_set_hostname(sta, name);
    if (ap_netif)
        esp_netif_set_hostname(ap_netif, name);
    update_mdns_view();
}

static const ap_ops_t radio = {r_start, r_stop, r_set_hostname};

static int emit(void *ctx, uint16_t code, const void *data, unsigned len) {
    srv_t *state = ctx;
    return native_send(state, state->service_index, code, data, len);
}

// Wi-Fi and IP events run in the default event loop: the task of the Jacdac loop
static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data) {
    ap_core_t *c = &the_state->core;
    if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
        ip_event_got_ip_t *ev = data;
        ap_station(c, (const uint8_t *)&ev->ip_info.ip.addr);
    } else if (base == WIFI_EVENT && id == WIFI_EVENT_STA_DISCONNECTED) {
        ap_station(c, NULL);
    } else if (base == WIFI_EVENT &&
               (id == WIFI_EVENT_AP_STACONNECTED || id == WIFI_EVENT_AP_STADISCONNECTED)) {
        wifi_sta_list_t list;
        if (esp_wifi_ap_get_sta_list(&list) == ESP_OK)
            ap_clients(c, (uint8_t)list.num);
    }
    update_mdns_view();
}

static void wifiap_process(srv_t *state) {
    (void)state;
}

static void wifiap_handle_packet(srv_t *state, jd_packet_t *pkt) {
    if (!ap_handle(&state->core, pkt->service_command, pkt->data, pkt->service_size))
        jd_send_not_implemented(pkt);
    update_mdns_view();
}

SRV_DEF(wifiap, AP_SERVICE_CLASS);

void native_wifiap_init(void) {
    SRV_ALLOC(wifiap);
    the_state = state;
    static const uint8_t ip[4] = NATIVE_AP_IP;
    ap_init(&state->core, &radio, NULL, ip, emit, state);
    state->core.log = native_log;
    update_mdns_view();
    esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_event, NULL);
    esp_event_handler_register(WIFI_EVENT, WIFI_EVENT_STA_DISCONNECTED, on_event, NULL);
    esp_event_handler_register(WIFI_EVENT, WIFI_EVENT_AP_STACONNECTED, on_event, NULL);
    esp_event_handler_register(WIFI_EVENT, WIFI_EVENT_AP_STADISCONNECTED, on_event, NULL);
}

// ---- mDNS (turned by the socket task) ----

static int mdns_fd = -1;
static uint32_t joined_ap, joined_sta; // interface addresses whose group membership is set

static void join(uint32_t *joined, const uint8_t ip[4]) {
    uint32_t addr;
    memcpy(&addr, ip, 4);
    if (addr == *joined || !addr)
        return;
    struct ip_mreq m;
    m.imr_multiaddr.s_addr = inet_addr("224.0.0.251");
    m.imr_interface.s_addr = addr;
    if (setsockopt(mdns_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) == 0)
        *joined = addr;
}

void native_mdns_poll(void) {
    char hostname[33];
    uint8_t ap_ip[4], sta_ip[4];
    bool ap_up;
    portENTER_CRITICAL(&mdns_lock);
    strcpy(hostname, mdns_view.hostname);
    memcpy(ap_ip, mdns_view.ap_ip, 4);
    memcpy(sta_ip, mdns_view.sta_ip, 4);
    ap_up = mdns_view.ap_up;
    portEXIT_CRITICAL(&mdns_lock);
    if (!ap_up && !(sta_ip[0] | sta_ip[1] | sta_ip[2] | sta_ip[3]))
        return; // no network yet
    if (mdns_fd < 0) {
        mdns_fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (mdns_fd < 0)
            return;
        int one = 1;
        setsockopt(mdns_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(MDNS_PORT)};
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(mdns_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
            close(mdns_fd);
            mdns_fd = -1;
            return;
        }
        fcntl(mdns_fd, F_SETFL, O_NONBLOCK);
    }
    if (ap_up)
        join(&joined_ap, ap_ip);
    join(&joined_sta, sta_ip);
    static uint8_t q[512], out[128];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    int n = recvfrom(mdns_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    if (n <= 0)
        return;
    // the address on the querier's side: the AP's for its own subnet, else the station's
    uint32_t src = from.sin_addr.s_addr;
    const uint8_t *ip = (ap_up && memcmp(&src, ap_ip, 3) == 0) ? ap_ip : sta_ip;
    bool unicast = false;
    unsigned len = mdns_answer(q, n, ntohs(from.sin_port), hostname, ip, out, sizeof(out), &unicast);
    if (!len)
        return;
    struct sockaddr_in to = from;
    if (!unicast) {
        to.sin_addr.s_addr = inet_addr("224.0.0.251");
        to.sin_port = htons(MDNS_PORT);
        struct in_addr ifa;
        memcpy(&ifa.s_addr, ip, 4);
        setsockopt(mdns_fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa));
    }
    sendto(mdns_fd, out, len, 0, (struct sockaddr *)&to, sizeof(to));
}
