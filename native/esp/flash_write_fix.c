// devicescript-esp32's settings store (jacdac-c jd_fstor.c) writes a setting of zero bytes, which
// is what deleting a setting is, as flash_program(addr, NULL, 0); its flash.c passes that on to
// esp_flash_write(), which refuses a NULL buffer with ESP_ERR_INVALID_ARG before it looks at the
// length, and flash.c's error check aborts: every deleteSetting() of the firmware crashed the chip
// (the boot loop of issue 12, reproduced on the unmodified runtime). Writing nothing is done: the
// linker routes every call from outside ESP-IDF's flash driver through here.
#include "esp_flash.h"
#include "esp_attr.h"

esp_err_t __real_esp_flash_write(esp_flash_t *chip, const void *buffer, uint32_t address,
                                 uint32_t length);

esp_err_t IRAM_ATTR __wrap_esp_flash_write(esp_flash_t *chip, const void *buffer,
                                           uint32_t address, uint32_t length) {
    if (length == 0)
        return ESP_OK;
    return __real_esp_flash_write(chip, buffer, address, length);
}
