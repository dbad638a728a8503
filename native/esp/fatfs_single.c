// One FatFs in the image. devicescript-esp32 links jacdac-c, which carries its own FatFs
// (storage/ff, for the runtime's SD-card log store "lstore"), while the file store uses ESP-IDF's
// FATFS through its VFS. Both define f_open, f_write, ...; the linker takes ESP-IDF's (pulled first
// by the VFS) and would take jacdac-c's as well for the one function only it has, f_expand, used
// by lstore: two definitions of everything, a failed link. This f_expand keeps jacdac-c's copy
// out. lstore only runs on boards whose configuration has "sd.*" pins; ours has none (the card
// belongs to the file store), and should it ever run, it fails here loudly instead of writing
// through a FatFs built with another configuration.
#include "native.h"

int f_expand(void *file, unsigned long size, unsigned char opt) {
    (void)file;
    (void)size;
    (void)opt;
    native_log("lstore is not available with the native file store (the card is the file store's)");
    return 7; // FR_DENIED
}
