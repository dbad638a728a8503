#include "nat_bus.h"
#include "nat_wire.h"

int nat_bus_report(const nat_bus_t *bus, unsigned service_index, uint16_t code, const void *data,
                   unsigned len) {
    if (len > NAT_MAX_PAYLOAD)
        return -1;
    if (len <= NAT_BUS_PACKED_MAX)
        return bus->packed(bus->ctx, service_index, code, data, len);
    bus->flush(bus->ctx); // the packets before it go first
    return bus->whole(bus->ctx, service_index, code, data, len);
}
