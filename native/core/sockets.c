// Stream Sockets: sequencing, credit, receive window, retransmission and close reporting of
// services/streamsockets.md over non-blocking BSD sockets and one select() loop.
#include "sockets.h"
#include "nat_wire.h"
#include "nat_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#define TXBUF_OFFSET (SS_RECEIVE_WINDOW * SS_MAX_DATA)
#define TCP_BUF_SIZE (TXBUF_OFFSET + SS_MAX_DATA)
#define FIRST_CLIENT_ID 1
#define LAST_CLIENT_ID 127
#define FIRST_SERVER_ID 128
#define LAST_SERVER_ID 254
/** Room kept for control reports before the loop reads more data. */
#define CONTROL_ROOM 128

uint16_t ss_error_from_errno(int e) {
    switch (e) {
    case 0:
        return SS_ERR_NONE;
    case ECONNREFUSED:
        return SS_ERR_REFUSED;
    case EHOSTUNREACH:
    case ENETUNREACH:
        return SS_ERR_UNREACHABLE;
    case ETIMEDOUT:
        return SS_ERR_TIMEOUT;
    case EADDRINUSE:
        return SS_ERR_ADDRESS_IN_USE;
    case EACCES:
    case EPERM:
        return SS_ERR_PERMISSION_DENIED;
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
        return SS_ERR_RESET;
    case EMFILE:
    case ENFILE:
        return SS_ERR_TOO_MANY_SOCKETS;
    default:
        return SS_ERR_IO_ERROR;
    }
}

int ss_register(uint16_t reg, uint32_t *value) {
    switch (reg) {
    case SS_REG_MAX_SOCKETS:
        *value = SS_MAX_SOCKETS;
        return 1;
    case SS_REG_MAX_DATA:
        *value = SS_MAX_DATA;
        return 1;
    case SS_REG_RECEIVE_WINDOW:
        *value = SS_RECEIVE_WINDOW;
        return 1;
    case SS_REG_RETRANSMIT_TIMEOUT:
        *value = SS_RETRANSMIT_MS;
        return 1;
    case SS_REG_MAX_DATAGRAM:
        *value = SS_MAX_DATAGRAM;
        return 1;
    }
    return 0;
}

static void logf_(ss_core_t *c, const char *fmt, ...) {
    if (!c->log)
        return;
    char line[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->log(line);
}

static void emit(ss_core_t *c, uint16_t code, const void *data, unsigned len) {
    if (c->emit(c->ctx, code, data, len) != 0) {
        c->dropped_reports++;
        logf_(c, "sockets: report 0x%x lost (queue full)", code);
    }
}

static unsigned room(ss_core_t *c) {
    return c->room ? c->room(c->ctx) : 0xffff;
}

static void report_closed(ss_core_t *c, uint8_t id, uint16_t error, const char *fmt, ...) {
    uint8_t p[3 + 64];
    nat_put_u16(p, error);
    p[2] = id;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)p + 3, 64, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n > 63)
        n = 63;
    emit(c, SS_REP_CLOSED, p, 3 + n);
}

static void report_opened(ss_core_t *c, uint8_t id, uint32_t addr_be, uint16_t port) {
    uint8_t p[7];
    memcpy(p, &addr_be, 4);
    nat_put_u16(p + 4, port);
    p[6] = id;
    emit(c, SS_REP_OPENED, p, sizeof(p));
}

static void report_written(ss_core_t *c, uint8_t id, uint16_t seq, uint8_t credit) {
    uint8_t p[4];
    nat_put_u16(p, seq);
    p[2] = id;
    p[3] = credit;
    emit(c, SS_REP_WRITTEN, p, sizeof(p));
}

static ss_socket_t *find(ss_core_t *c, unsigned id) {
    if (id == 0)
        return NULL;
    for (int i = 0; i < SS_MAX_SOCKETS; i++)
        if (c->sock[i].id == id)
            return &c->sock[i];
    return NULL;
}

unsigned ss_count(const ss_core_t *c) {
    unsigned n = 0;
    for (int i = 0; i < SS_MAX_SOCKETS; i++)
        if (c->sock[i].id)
            n++;
    return n;
}

static ss_socket_t *free_slot(ss_core_t *c) {
    for (int i = 0; i < SS_MAX_SOCKETS; i++)
        if (!c->sock[i].id)
            return &c->sock[i];
    return NULL;
}

/** A socket number of the client for a new socket: NULL (and `closed` reported) when unusable. */
static ss_socket_t *claim(ss_core_t *c, unsigned id) {
    if (id < FIRST_CLIENT_ID || id > LAST_CLIENT_ID || find(c, id)) {
        report_closed(c, id, SS_ERR_BAD_SOCKET, "socket %u is out of range or in use", id);
        return NULL;
    }
    ss_socket_t *s = free_slot(c);
    if (!s) {
        report_closed(c, id, SS_ERR_TOO_MANY_SOCKETS, "no free socket (at most %d)", SS_MAX_SOCKETS);
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->fd = -1;
    return s;
}

static void release(ss_core_t *c, ss_socket_t *s) {
    if (s->fd >= 0)
        close(s->fd);
    if (s->parent) {
        ss_socket_t *l = find(c, s->parent);
        if (l && l->kind == SS_LISTENER && l->children)
            l->children--;
    }
    free(s->buf);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

static int set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void setup_tcp(ss_socket_t *s, int fd) {
    s->kind = SS_TCP;
    s->fd = fd;
    set_nonblocking(fd);
#ifdef TCP_NODELAY
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#endif
}

/** Destroys a socket without reporting it; a listener takes its connections along (reported). */
static void destroy(ss_core_t *c, ss_socket_t *s, bool report_children) {
    if (s->kind == SS_LISTENER) {
        uint8_t lid = s->id;
        for (int i = 0; i < SS_MAX_SOCKETS; i++) {
            ss_socket_t *ch = &c->sock[i];
            if (ch->id && ch->parent == lid) {
                uint8_t cid = ch->id;
                ch->parent = 0;
                release(c, ch);
                if (report_children)
                    report_closed(c, cid, SS_ERR_NONE, "listener closed");
            }
        }
    }
    release(c, s);
}

void ss_close_all(ss_core_t *c) {
    for (int i = 0; i < SS_MAX_SOCKETS; i++)
        if (c->sock[i].id) {
            c->sock[i].parent = 0;
            release(c, &c->sock[i]);
        }
}

void ss_init(ss_core_t *c, ss_emit_fn emit_fn, ss_room_fn room_fn, void *ctx) {
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < SS_MAX_SOCKETS; i++)
        c->sock[i].fd = -1;
    c->emit = emit_fn;
    c->room = room_fn;
    c->ctx = ctx;
    c->listen_addr = htonl(INADDR_ANY);
}

/** A connection ends: no more reading; `closed` follows once its data reports are acknowledged. */
static void begin_end(ss_socket_t *s, uint16_t error, const char *msg) {
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    s->state = SS_ENDING;
    s->end_error = error;
    s->pend_busy = false;
    snprintf(s->end_msg, sizeof(s->end_msg), "%s", msg);
}

static void end_errno(ss_socket_t *s, int e, const char *what) {
    char msg[48];
    snprintf(msg, sizeof(msg), "%s: %s", what, strerror(e));
    begin_end(s, ss_error_from_errno(e), msg);
}

// ---- commands ----

static void bad_argument(ss_core_t *c, const uint8_t *data, unsigned len, unsigned id_at) {
    if (len <= id_at) {
        logf_(c, "sockets: malformed command of %u bytes ignored", len);
        return;
    }
    uint8_t id = data[id_at];
    ss_socket_t *s = find(c, id);
    if (s)
        destroy(c, s, true);
    report_closed(c, id, SS_ERR_BAD_ARGUMENT, "malformed command");
}

static void bind_failed(ss_core_t *c, ss_socket_t *s, uint16_t port, int e) {
    uint8_t id = s->id;
    release(c, s);
    report_closed(c, id, ss_error_from_errno(e), "cannot bind port %u: %s", port, strerror(e));
}

/** A listener or UDP socket bound: non-blocking, the port it got (when 0, any, was asked), `opened`. */
static void bound_opened(ss_core_t *c, ss_socket_t *s, int fd, uint16_t port) {
    set_nonblocking(fd);
    s->fd = fd;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    s->port = port;
    report_opened(c, s->id, 0, port);
}

static int bound_socket(ss_core_t *c, int type, uint16_t port, int *err) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = c->listen_addr;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

static void cmd_listen(ss_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 4)
        return bad_argument(c, d, len, 2);
    uint16_t port = nat_get_u16(d);
    ss_socket_t *s = claim(c, d[2]);
    if (!s)
        return;
    s->kind = SS_LISTENER;
    s->port = port;
    s->backlog = d[3] ? d[3] : 4;
    int err = 0;
    int fd = bound_socket(c, SOCK_STREAM, port, &err);
    if (fd >= 0 && listen(fd, s->backlog) < 0) {
        err = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        return bind_failed(c, s, port, err);
    bound_opened(c, s, fd, port);
}

static int resolve(const char *host, struct in_addr *out) {
    if (inet_aton(host, out))
        return 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return -1;
    *out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

static void cmd_connect(ss_core_t *c, const uint8_t *d, unsigned len, uint32_t now) {
    if (len < 4)
        return bad_argument(c, d, len, 2);
    uint16_t port = nat_get_u16(d);
    char host[64];
    unsigned hl = len - 3;
    while (hl && d[3 + hl - 1] == 0)
        hl--;
    if (hl >= sizeof(host) || memchr(d + 3, 0, hl) || port == 0)
        return bad_argument(c, d, len, 2);
    memcpy(host, d + 3, hl);
    host[hl] = 0;
    ss_socket_t *s = claim(c, d[2]);
    if (!s)
        return;
    uint8_t id = s->id;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (resolve(host, &a.sin_addr) < 0) {
        release(c, s);
        return report_closed(c, id, SS_ERR_UNREACHABLE, "cannot resolve %s", host);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        int e = errno;
        release(c, s);
        return report_closed(c, id, ss_error_from_errno(e), "socket: %s", strerror(e));
    }
    setup_tcp(s, fd);
    s->port = port;
    s->buf = malloc(TCP_BUF_SIZE);
    if (!s->buf) {
        release(c, s);
        return report_closed(c, id, SS_ERR_TOO_MANY_SOCKETS, "out of memory");
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        report_opened(c, id, a.sin_addr.s_addr, port);
        return;
    }
    if (errno != EINPROGRESS && errno != EWOULDBLOCK) {
        int e = errno;
        release(c, s);
        return report_closed(c, id, ss_error_from_errno(e), "connect to %s:%u: %s", host, port,
                             strerror(e));
    }
    s->state = SS_CONNECTING;
    s->deadline = now + SS_CONNECT_TIMEOUT_MS;
}

static void cmd_udp_bind(ss_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 3)
        return bad_argument(c, d, len, 2);
    uint16_t port = nat_get_u16(d);
    // port u16, socket u8, reserved u8, max_datagram u16 (0 or absent: the server's)
    uint16_t max_dgram = len >= 6 ? nat_get_u16(d + 4) : 0;
    if (max_dgram == 0 || max_dgram > SS_MAX_DATAGRAM)
        max_dgram = SS_MAX_DATAGRAM;
    ss_socket_t *s = claim(c, d[2]);
    if (!s)
        return;
    s->kind = SS_UDP;
    s->max_dgram = max_dgram;
    int err = 0;
    int fd = bound_socket(c, SOCK_DGRAM, port, &err);
    if (fd < 0)
        return bind_failed(c, s, port, err);
    bound_opened(c, s, fd, port);
}

static void cmd_write(ss_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 3)
        return bad_argument(c, d, len, 2);
    uint16_t seq = nat_get_u16(d);
    uint8_t id = d[2];
    const uint8_t *payload = d + 3;
    unsigned n = len - 3;
    ss_socket_t *s = find(c, id);
    if (!s) {
        report_closed(c, id, SS_ERR_BAD_SOCKET, "socket %u is not open", id);
        return;
    }
    if (s->kind != SS_TCP || s->state != SS_OPEN)
        return; // connecting (the client waits for opened) or closing (closed follows)
    if (seq != s->write_seq) {
        if (nat_seq_before(seq, s->write_seq)) {
            // a retransmission of an accepted write: acknowledged again, not sent twice; the one
            // still waiting for the send buffer is acknowledged when it is in
            if (!(s->pend_busy && seq == s->pend_seq))
                report_written(c, id, seq, s->pend_busy ? 0 : SS_WRITE_CREDIT);
        } else {
            c->dropped_writes++; // a write before it was lost on the way: go-back-N
        }
        return;
    }
    if (s->pend_busy) {
        c->dropped_writes++; // no room: the client sends it again after its timeout
        return;
    }
    s->write_seq = (uint16_t)(seq + 1);
    int sent = 0;
    if (n) {
        sent = send(s->fd, payload, n, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                end_errno(s, errno, "send");
                return;
            }
            sent = 0;
        }
    }
    if ((unsigned)sent == n) {
        report_written(c, id, seq, SS_WRITE_CREDIT);
        return;
    }
    // the rest waits for room in the TCP send buffer; `written` once it is in
    memcpy(s->buf + TXBUF_OFFSET, payload + sent, n - sent);
    s->pend_busy = true;
    s->pend_seq = seq;
    s->pend_len = (uint8_t)(n - sent);
    s->pend_off = 0;
}

static void cmd_send_to(ss_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 10)
        return bad_argument(c, d, len, 8);
    uint32_t addr;
    memcpy(&addr, d, 4);
    uint16_t port = nat_get_u16(d + 4);
    uint16_t seq = nat_get_u16(d + 6);
    uint8_t id = d[8];
    uint8_t more = d[9];
    ss_socket_t *s = find(c, id);
    if (!s || s->kind != SS_UDP) {
        if (s)
            destroy(c, s, true);
        report_closed(c, id, SS_ERR_BAD_SOCKET, "socket %u is not a UDP socket", id);
        return;
    }
    if (!s->buf && !(s->buf = malloc(SS_MAX_DATAGRAM))) {
        release(c, s);
        report_closed(c, id, SS_ERR_IO_ERROR, "out of memory");
        return;
    }
    unsigned n = len - 10;
    if (n > (unsigned)(SS_MAX_DATAGRAM - s->out_len))
        n = SS_MAX_DATAGRAM - s->out_len; // the contract's max_datagram: the rest is cut
    memcpy(s->buf + s->out_len, d + 10, n);
    s->out_len += n;
    if (more) {
        report_written(c, id, seq, SS_WRITE_CREDIT);
        return;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = addr;
    int r = sendto(s->fd, s->buf, s->out_len, 0, (struct sockaddr *)&a, sizeof(a));
    s->out_len = 0;
    if (r < 0) {
        int e = errno;
        release(c, s);
        report_closed(c, id, ss_error_from_errno(e), "send to %s:%u: %s", inet_ntoa(a.sin_addr), port,
                      strerror(e));
        return;
    }
    report_written(c, id, seq, SS_WRITE_CREDIT);
}

static void cmd_ack(ss_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 3)
        return bad_argument(c, d, len, 2);
    uint16_t seq = nat_get_u16(d);
    ss_socket_t *s = find(c, d[2]);
    if (!s || s->kind != SS_TCP)
        return;
    while (s->n_unacked) {
        uint16_t front = (uint16_t)(s->rx_seq - s->n_unacked);
        if (nat_seq_before(seq, front))
            break;
        s->first_slot = (s->first_slot + 1) % SS_RECEIVE_WINDOW;
        s->n_unacked--;
    }
}

static void cmd_close(ss_core_t *c, const uint8_t *d, unsigned len) {
    if (len < 1) {
        logf_(c, "sockets: malformed close ignored");
        return;
    }
    uint8_t id = d[0];
    ss_socket_t *s = find(c, id);
    if (!s) {
        report_closed(c, id, SS_ERR_BAD_SOCKET, "socket %u is not open", id);
        return;
    }
    destroy(c, s, true);
    report_closed(c, id, SS_ERR_NONE, "closed");
}

void ss_command_at(ss_core_t *c, uint16_t code, const uint8_t *data, unsigned len, uint32_t now) {
    switch (code) {
    case SS_CMD_LISTEN:
        return cmd_listen(c, data, len);
    case SS_CMD_CONNECT:
        return cmd_connect(c, data, len, now);
    case SS_CMD_UDP_BIND:
        return cmd_udp_bind(c, data, len);
    case SS_CMD_WRITE:
        return cmd_write(c, data, len);
    case SS_CMD_SEND_TO:
        return cmd_send_to(c, data, len);
    case SS_CMD_ACK:
        return cmd_ack(c, data, len);
    case SS_CMD_CLOSE:
        return cmd_close(c, data, len);
    case SS_CMD_RESET_ALL:
        return ss_close_all(c);
    default:
        logf_(c, "sockets: unknown command 0x%x ignored", code);
    }
}

void ss_command(ss_core_t *c, uint16_t code, const uint8_t *data, unsigned len) {
    ss_command_at(c, code, data, len, c->now);
}

// ---- the loop ----

static void send_data(ss_core_t *c, ss_socket_t *s, unsigned k, uint32_t now) {
    unsigned slot = (s->first_slot + k) % SS_RECEIVE_WINDOW;
    uint8_t p[3 + SS_MAX_DATA];
    nat_put_u16(p, (uint16_t)(s->rx_seq - s->n_unacked + k));
    p[2] = s->id;
    memcpy(p + 3, s->buf + slot * SS_MAX_DATA, s->slot_len[slot]);
    emit(c, SS_REP_DATA, p, 3 + s->slot_len[slot]);
    s->sent_at[slot] = now;
}

static void read_tcp(ss_core_t *c, ss_socket_t *s, uint32_t now) {
    while (s->state == SS_OPEN && s->n_unacked < SS_RECEIVE_WINDOW &&
           room(c) >= NAT_QUEUE_COST(3 + SS_MAX_DATA) + CONTROL_ROOM) {
        unsigned slot = (s->first_slot + s->n_unacked) % SS_RECEIVE_WINDOW;
        int n = recv(s->fd, s->buf + slot * SS_MAX_DATA, SS_MAX_DATA, 0);
        if (n > 0) {
            s->slot_len[slot] = (uint8_t)n;
            s->n_unacked++;
            s->rx_seq++;
            send_data(c, s, s->n_unacked - 1, now);
        } else if (n == 0) {
            begin_end(s, SS_ERR_NONE, "closed by the peer");
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                end_errno(s, errno, "receive");
            return;
        }
    }
}

static void flush_pending(ss_core_t *c, ss_socket_t *s) {
    int n = send(s->fd, s->buf + TXBUF_OFFSET + s->pend_off, s->pend_len - s->pend_off,
                 MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            end_errno(s, errno, "send");
        return;
    }
    s->pend_off += n;
    if (s->pend_off >= s->pend_len) {
        s->pend_busy = false;
        report_written(c, s->id, s->pend_seq, SS_WRITE_CREDIT);
    }
}

static void accept_one(ss_core_t *c, ss_socket_t *l) {
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = accept(l->fd, (struct sockaddr *)&a, &al);
    if (fd < 0)
        return;
    unsigned id = FIRST_SERVER_ID;
    while (id <= LAST_SERVER_ID && find(c, id))
        id++;
    ss_socket_t *s = free_slot(c);
    uint8_t *buf = NULL;
    if (l->children >= l->backlog || id > LAST_SERVER_ID || !s || !(buf = malloc(TCP_BUF_SIZE))) {
        close(fd); // accepted and closed at once: the contract's answer to one connection too many
        logf_(c, "sockets: connection to port %u refused (%s)", l->port,
              l->children >= l->backlog ? "backlog full" : "no free socket");
        free(buf);
        return;
    }
    memset(s, 0, sizeof(*s));
    s->id = id;
    setup_tcp(s, fd);
    s->buf = buf;
    s->parent = l->id;
    s->port = ntohs(a.sin_port);
    l->children++;
    uint8_t p[8];
    memcpy(p, &a.sin_addr.s_addr, 4);
    nat_put_u16(p + 4, ntohs(a.sin_port));
    p[6] = l->id;
    p[7] = id;
    emit(c, SS_REP_ACCEPTED, p, sizeof(p));
}

static void read_udp(ss_core_t *c, ss_socket_t *s) {
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int n = recvfrom(s->fd, c->udp_buf, sizeof(c->udp_buf), 0, (struct sockaddr *)&a, &al);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        int e = errno;
        uint8_t id = s->id;
        release(c, s);
        report_closed(c, id, ss_error_from_errno(e), "receive: %s", strerror(e));
        return;
    }
    if (n > s->max_dgram) {
        c->dropped_datagrams++; // larger than the program takes: it never crosses the bus
        return;
    }
    uint8_t p[8 + SS_DATAGRAM_FRAGMENT];
    memcpy(p, &a.sin_addr.s_addr, 4);
    nat_put_u16(p + 4, ntohs(a.sin_port));
    p[6] = s->id;
    for (int off = 0; off == 0 || off < n; off += SS_DATAGRAM_FRAGMENT) {
        int part = n - off < SS_DATAGRAM_FRAGMENT ? n - off : SS_DATAGRAM_FRAGMENT;
        p[7] = off + SS_DATAGRAM_FRAGMENT < n ? 1 : 0;
        memcpy(p + 8, c->udp_buf + off, part);
        emit(c, SS_REP_DATAGRAM, p, 8 + part);
    }
}

static void connected(ss_core_t *c, ss_socket_t *s) {
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    if (err) {
        uint8_t id = s->id;
        uint16_t port = s->port;
        release(c, s);
        report_closed(c, id, ss_error_from_errno(err), "connect to port %u: %s", port, strerror(err));
        return;
    }
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    memset(&a, 0, sizeof(a));
    getpeername(s->fd, (struct sockaddr *)&a, &al);
    s->state = SS_OPEN;
    report_opened(c, s->id, a.sin_addr.s_addr, s->port);
}

static void timers(ss_core_t *c, uint32_t now) {
    for (int i = 0; i < SS_MAX_SOCKETS; i++) {
        ss_socket_t *s = &c->sock[i];
        if (!s->id || s->kind != SS_TCP)
            continue;
        if (s->state == SS_CONNECTING && (int32_t)(now - s->deadline) >= 0) {
            uint8_t id = s->id;
            uint16_t port = s->port;
            release(c, s);
            report_closed(c, id, SS_ERR_TIMEOUT, "connect to port %u timed out", port);
            continue;
        }
        bool resent = false;
        for (unsigned k = 0; k < s->n_unacked; k++) {
            unsigned slot = (s->first_slot + k) % SS_RECEIVE_WINDOW;
            if (now - s->sent_at[slot] >= SS_RETRANSMIT_MS &&
                room(c) >= NAT_QUEUE_COST(3 + SS_MAX_DATA) + CONTROL_ROOM) {
                send_data(c, s, k, now);
                resent = true;
            }
        }
        if (s->state == SS_ENDING) {
            if (resent)
                s->drain_rounds++;
            if (!s->n_unacked) {
                uint8_t id = s->id;
                uint16_t err = s->end_error;
                char msg[48];
                memcpy(msg, s->end_msg, sizeof(msg));
                release(c, s);
                report_closed(c, id, err, "%s", msg);
            } else if (s->drain_rounds > SS_DRAIN_ROUNDS) {
                uint8_t id = s->id;
                unsigned lost = s->n_unacked;
                release(c, s);
                report_closed(c, id, SS_ERR_DATA_LOST, "%u data reports never acknowledged", lost);
            }
        }
    }
}

void ss_step(ss_core_t *c, uint32_t now, uint32_t timeout_ms) {
    c->now = now;
    timers(c, now);
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    int maxfd = -1;
    unsigned r = room(c);
    for (int i = 0; i < SS_MAX_SOCKETS; i++) {
        ss_socket_t *s = &c->sock[i];
        if (!s->id || s->fd < 0)
            continue;
        bool want_r = false, want_w = false;
        switch (s->kind) {
        case SS_LISTENER:
            want_r = r >= CONTROL_ROOM * 2;
            break;
        case SS_UDP:
            want_r = r >= (SS_MAX_DATAGRAM / SS_DATAGRAM_FRAGMENT + 1) * NAT_QUEUE_COST(8 + SS_DATAGRAM_FRAGMENT) + CONTROL_ROOM;
            break;
        case SS_TCP:
            if (s->state == SS_CONNECTING)
                want_w = true;
            else if (s->state == SS_OPEN) {
                // a full receive window stops reading: the peer sees TCP flow control
                want_r = s->n_unacked < SS_RECEIVE_WINDOW &&
                         r >= NAT_QUEUE_COST(3 + SS_MAX_DATA) + CONTROL_ROOM;
                want_w = s->pend_busy;
            }
            break;
        }
        if (want_r)
            FD_SET(s->fd, &rd);
        if (want_w)
            FD_SET(s->fd, &wr);
        if ((want_r || want_w) && s->fd > maxfd)
            maxfd = s->fd;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int n = select(maxfd + 1, &rd, &wr, NULL, &tv);
    if (n <= 0)
        return;
    for (int i = 0; i < SS_MAX_SOCKETS; i++) {
        ss_socket_t *s = &c->sock[i];
        if (!s->id || s->fd < 0)
            continue;
        int fd = s->fd;
        bool rr = FD_ISSET(fd, &rd), ww = FD_ISSET(fd, &wr);
        if (!rr && !ww)
            continue;
        switch (s->kind) {
        case SS_LISTENER:
            accept_one(c, s);
            break;
        case SS_UDP:
            read_udp(c, s);
            break;
        case SS_TCP:
            if (s->state == SS_CONNECTING) {
                connected(c, s);
                break;
            }
            if (ww && s->pend_busy)
                flush_pending(c, s);
            if (rr && s->id && s->state == SS_OPEN)
                read_tcp(c, s, now);
            break;
        }
    }
}
