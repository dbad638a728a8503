// File Store service: FATFS through ESP-IDF's VFS at /sdcard, on the microSD card (SPI2) or, in a
// build for the emulator (NATIVE_FS_FLASH=1), on a FAT partition "storage" in flash. A worker task
// serves the requests in order (a card can take its time); answers go back through a queue.
#include "native.h"
#include "filestore.h"
#include "fs_posix.h"
#include "freertos/task.h"
#include <stdlib.h>
#include "esp_vfs_fat.h"
#if !NATIVE_FS_FLASH
#include "driver/sdspi_host.h"
#include "sdmmc_cmd.h"
#endif

#define INBOX_SIZE 1024
#define OUTBOX_SIZE 1024
#define TASK_STACK 4096
#define TASK_PRIORITY 3
#define CARD_CHECK_MS 3000

struct srv_state {
    SRV_COMMON;
};

static native_queue_t inbox, outbox;
static fs_core_t *core;
#if NATIVE_FS_FLASH
static wl_handle_t wl = WL_INVALID_HANDLE;
#else
static sdmmc_card_t *card;
static bool bus_ready;
#endif

static int emit(void *ctx, uint16_t code, const void *data, unsigned len) {
    (void)ctx;
    // answers are small and the inbox holds fewer requests than the outbox has room for answers
    while (nat_queue_push(&outbox.q, code, data, len) != 0)
        vTaskDelay(1);
    native_wake_loop();
    return 0;
}

static bool mount(void) {
    esp_vfs_fat_mount_config_t cfg = {
        .format_if_mount_failed = NATIVE_FS_FLASH, // a blank emulator flash gets a file system
        .max_files = 2,
        .allocation_unit_size = 16 * 1024,
    };
#if NATIVE_FS_FLASH
    return esp_vfs_fat_spiflash_mount_rw_wl(NATIVE_FS_ROOT, "storage", &cfg, &wl) == ESP_OK;
#else
    sdmmc_host_t host = SDSPI_HOST_DEFAULT();
    if (!bus_ready) {
        spi_bus_config_t bus = {
            .mosi_io_num = NATIVE_SD_MOSI,
            .miso_io_num = NATIVE_SD_MISO,
            .sclk_io_num = NATIVE_SD_SCK,
            .quadwp_io_num = -1,
            .quadhd_io_num = -1,
            .max_transfer_sz = 4000,
        };
        if (spi_bus_initialize(host.slot, &bus, SPI_DMA_CH_AUTO) != ESP_OK)
            return false;
        bus_ready = true;
    }
    sdspi_device_config_t slot = SDSPI_DEVICE_CONFIG_DEFAULT();
    slot.gpio_cs = NATIVE_SD_CS;
    slot.host_id = host.slot;
    return esp_vfs_fat_sdspi_mount(NATIVE_FS_ROOT, &host, &slot, &cfg, &card) == ESP_OK;
#endif
}

#if !NATIVE_FS_FLASH
static void unmount(void) {
    if (card)
        esp_vfs_fat_sdcard_unmount(NATIVE_FS_ROOT, card);
    card = NULL;
}
#endif

/** Still there? A card that stopped answering is unmounted and reported gone. */
static void check_card(void) {
#if !NATIVE_FS_FLASH
    if (core->present && sdmmc_get_status(card) != ESP_OK) {
        unmount();
        fs_card_changed(core, false);
        native_log("SD card removed or failing: unmounted");
    } else if (!core->present && mount()) {
        fs_card_changed(core, true);
        native_log("SD card mounted");
    }
#endif
}

static void file_task(void *arg) {
    (void)arg;
    static uint8_t cmd[NAT_MAX_PAYLOAD];
    uint32_t last_check = native_now_ms();
    if (mount()) {
        fs_card_changed(core, true);
        native_log("file store mounted at " NATIVE_FS_ROOT);
    } else {
        native_log("file store: no card");
    }
    for (;;) {
        uint16_t code;
        int n = nat_queue_peek(&inbox.q, &code, cmd);
        if (n >= 0) {
            nat_queue_pop(&inbox.q);
            fs_command(core, code, cmd, n);
            continue;
        }
        if (native_now_ms() - last_check >= CARD_CHECK_MS) {
            last_check = native_now_ms();
            check_card();
        }
        vTaskDelay(pdMS_TO_TICKS(5));
    }
}

static void filestore_process(srv_t *state) {
    native_queue_flush(&outbox, state, state->service_index);
}

static void filestore_handle_packet(srv_t *state, jd_packet_t *pkt) {
    uint16_t code = pkt->service_command;
    bool ours = (code >= FS_CMD_APPEND && code <= FS_CMD_MAKE_FOLDER) ||
                code == NAT_GET(FS_REG_CARD_PRESENT) || code == NAT_GET(FS_REG_FREE_SPACE) ||
                code == NAT_GET(FS_REG_TOTAL_SPACE);
    if (!ours) {
        jd_send_not_implemented(pkt);
        return;
    }
    if (nat_queue_push(&inbox.q, code, pkt->data, pkt->service_size) != 0)
        native_log("file store: request dropped (queue full); the client asks again");
    (void)state;
}

SRV_DEF(filestore, FS_SERVICE_CLASS);

void native_filestore_init(void) {
    SRV_ALLOC(filestore);
    (void)state;
    native_queue_init(&inbox, INBOX_SIZE);
    native_queue_init(&outbox, OUTBOX_SIZE);
    core = calloc(1, sizeof(fs_core_t));
    JD_ASSERT(core);
    fs_init(core, &fs_posix_ops, (void *)NATIVE_FS_ROOT, NATIVE_FS_ROOT, emit, NULL);
    xTaskCreate(file_task, "natfs", TASK_STACK, NULL, TASK_PRIORITY, NULL);
}
