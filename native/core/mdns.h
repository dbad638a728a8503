// The smallest mDNS responder: answers A (and ANY) questions for "HOSTNAME.local" with the dongle's
// IPv4 address (RFC 6762). Everything else in a query is ignored.
#pragma once
#include <stdint.h>
#include <stdbool.h>

#define MDNS_PORT 5353
#define MDNS_TTL_S 120

/** The answer to one query datagram, or 0 when it asks nothing about us. `unicast` is set when
 * the answer goes back to the sender only (a QU question, or a one-shot legacy query). */
unsigned mdns_answer(const uint8_t *q, unsigned qlen, uint16_t src_port, const char *hostname,
                     const uint8_t ip[4], uint8_t *out, unsigned out_max, bool *unicast);
