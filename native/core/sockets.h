// Stream Sockets (services/streamsockets.md): the contract's logic over BSD sockets. The same code
// runs on lwIP (the dongle's socket task) and on the PC's own sockets (unit tests). One task owns a
// ss_core_t: it feeds commands with ss_command() and turns the select() loop with ss_step().
#pragma once
#include <stdint.h>
#include <stdbool.h>

#define SS_SERVICE_CLASS 0x1b6e3c57
#ifndef SS_MAX_SOCKETS
#define SS_MAX_SOCKETS 8
#endif
#define SS_MAX_DATA 233
#define SS_RECEIVE_WINDOW 4
#define SS_RETRANSMIT_MS 1000
#define SS_MAX_DATAGRAM 1472
#define SS_DATAGRAM_FRAGMENT 228
#define SS_WRITE_CREDIT 4
#define SS_CONNECT_TIMEOUT_MS 10000
/** Retransmit rounds a closing connection waits for its last data reports to be acknowledged. */
#define SS_DRAIN_ROUNDS 8

#define SS_REG_MAX_SOCKETS 0x180
#define SS_REG_MAX_DATA 0x181
#define SS_REG_RECEIVE_WINDOW 0x182
#define SS_REG_RETRANSMIT_TIMEOUT 0x183
#define SS_REG_MAX_DATAGRAM 0x184

#define SS_CMD_LISTEN 0x80
#define SS_CMD_CONNECT 0x81
#define SS_CMD_UDP_BIND 0x82
#define SS_CMD_WRITE 0x83
#define SS_CMD_SEND_TO 0x84
#define SS_CMD_ACK 0x85
#define SS_CMD_CLOSE 0x86
#define SS_CMD_RESET_ALL 0x87

#define SS_REP_OPENED 0x90
#define SS_REP_ACCEPTED 0x91
#define SS_REP_DATA 0x92
#define SS_REP_DATAGRAM 0x93
#define SS_REP_WRITTEN 0x94
#define SS_REP_CLOSED 0x95

enum ss_error {
    SS_ERR_NONE = 0,
    SS_ERR_REFUSED = 1,
    SS_ERR_UNREACHABLE = 2,
    SS_ERR_TIMEOUT = 3,
    SS_ERR_ADDRESS_IN_USE = 4,
    SS_ERR_PERMISSION_DENIED = 5,
    SS_ERR_RESET = 6,
    SS_ERR_TOO_MANY_SOCKETS = 7,
    SS_ERR_BAD_SOCKET = 8,
    SS_ERR_DATA_LOST = 9,
    SS_ERR_BAD_ARGUMENT = 10,
    SS_ERR_IO_ERROR = 11,
};

/** The contract's error for an errno value of the socket layer. */
uint16_t ss_error_from_errno(int e);

/** Hands one report to the Jacdac side; returns 0, or -1 when it cannot be queued now. */
typedef int (*ss_emit_fn)(void *ctx, uint16_t code, const void *data, unsigned len);
/** Free bytes for reports now (NAT_QUEUE_COST per report). */
typedef unsigned (*ss_room_fn)(void *ctx);

enum { SS_FREE = 0, SS_LISTENER, SS_TCP, SS_UDP };
enum { SS_OPEN = 0, SS_CONNECTING, SS_ENDING };

typedef struct {
    uint8_t id; // 0: slot free
    uint8_t kind;
    uint8_t state;
    uint8_t parent; // the listener of an accepted connection
    uint8_t backlog; // listener: connections open at once at most
    uint8_t children; // listener: connections open now
    uint8_t n_unacked; // data reports sent and not acknowledged
    uint8_t first_slot; // window slot of the oldest unacknowledged report
    uint8_t end_error; // the error reported once a closing connection is drained
    uint8_t drain_rounds;
    bool pend_busy; // a write is waiting in txbuf for room in the TCP send buffer
    uint8_t pend_len, pend_off;
    uint16_t pend_seq;
    uint16_t write_seq; // the next write sequence number expected from the client
    uint16_t rx_seq; // the next data sequence number to assign
    uint16_t port;
    uint16_t out_len; // UDP: bytes of the datagram being assembled from send_to fragments
    uint16_t max_dgram; // UDP: the largest datagram the program takes (udp_bind); larger ones are dropped
    int fd;
    uint32_t deadline; // connect timeout
    uint32_t sent_at[SS_RECEIVE_WINDOW];
    uint8_t slot_len[SS_RECEIVE_WINDOW];
    uint8_t *buf; // TCP: window slots then txbuf; UDP: the outgoing datagram
    char end_msg[48];
} ss_socket_t;

typedef struct {
    ss_socket_t sock[SS_MAX_SOCKETS];
    ss_emit_fn emit;
    ss_room_fn room;
    void *ctx;
    void (*log)(const char *msg); // console line, may be NULL
    uint32_t listen_addr; // network byte order: where listeners and UDP sockets bind
    uint32_t now; // the time of the last ss_step(): connect deadlines of commands between steps
    uint32_t dropped_writes; // writes dropped (gap, or the previous one still waiting)
    uint32_t dropped_reports; // reports that found no room (a fault of the sizing)
    uint32_t dropped_datagrams; // larger than the program takes: dropped on arrival
    uint8_t udp_buf[SS_MAX_DATAGRAM + 1]; // one more: a datagram that fills it is too large
} ss_core_t;

void ss_init(ss_core_t *c, ss_emit_fn emit, ss_room_fn room, void *ctx);
/** One command of the contract (code and payload as received). */
void ss_command(ss_core_t *c, uint16_t code, const uint8_t *data, unsigned len);
/** The same at a given time (tests). */
void ss_command_at(ss_core_t *c, uint16_t code, const uint8_t *data, unsigned len, uint32_t now_ms);
/** One turn of the loop: timers at `now_ms`, then select() for at most timeout_ms, then I/O. */
void ss_step(ss_core_t *c, uint32_t now_ms, uint32_t timeout_ms);
/** Closes everything without reports (reset_all, and the end of a test). */
void ss_close_all(ss_core_t *c);
/** Sockets in use. */
unsigned ss_count(const ss_core_t *c);
/** Register values of the contract: 1 with *value set when `reg` is one of ours. */
int ss_register(uint16_t reg, uint32_t *value);
