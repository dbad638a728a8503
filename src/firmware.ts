// Identity of this firmware, printed in the boot banner and reported by the API.
export const FIRMWARE_NAME = "smartbms-dongle"
export const FIRMWARE_VERSION = "0.1.0"
