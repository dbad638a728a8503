// How the native services get into an unmodified devicescript-esp32 runtime: the linker wraps the
// runtime's service start-up (-Wl,--wrap=devs_service_full_init, set by this component's
// CMakeLists.txt). The runtime's own services start first (among them Wi-Fi, which brings up the
// network interfaces); ours follow, in the same Jacdac loop task, before the first announce.
#include "native.h"

void __real_devs_service_full_init(void);

void __wrap_devs_service_full_init(void) {
    __real_devs_service_full_init();
    native_resetreason_init();
    native_bmsserial_init();
    native_wifiap_init();
    native_streamsockets_init();
    native_filestore_init();
    native_log("native services: serial (bms), stream sockets, file store, access point, reset reason");
}

// The runtime calls this (a weak function of its own) when a program ends: 0 when a restart was
// asked for, the panic code of a crash otherwise.
void devs_panic_handler(int exitcode) {
    native_resetreason_program_ended(exitcode);
}
