// The alarm bits of reply 0x98 (bytes B0..B6), by name, in the order of Daly's protocol document.
// Bit 8*byte + bit. B7 is the fault code.
// One string, looked up when needed: a table costs neither bytecode (the firmware is near
// DeviceScript's 64 KiB code limit) nor heap that way. Empty names are reserved bits.
const ALARM_TEXT = (
    "cell_volt_high_l1,cell_volt_high_l2,cell_volt_low_l1,cell_volt_low_l2,sum_volt_high_l1,sum_volt_high_l2,sum_volt_low_l1,sum_volt_low_l2," + // B0
    "charge_temp_high_l1,charge_temp_high_l2,charge_temp_low_l1,charge_temp_low_l2,discharge_temp_high_l1,discharge_temp_high_l2,discharge_temp_low_l1,discharge_temp_low_l2," + // B1
    "charge_overcurrent_l1,charge_overcurrent_l2,discharge_overcurrent_l1,discharge_overcurrent_l2,soc_high_l1,soc_high_l2,soc_low_l1,soc_low_l2," + // B2
    "diff_volt_l1,diff_volt_l2,diff_temp_l1,diff_temp_l2,,,,," + // B3
    "charge_mos_temp_high,discharge_mos_temp_high,charge_mos_temp_sensor_error,discharge_mos_temp_sensor_error,charge_mos_adhesion,discharge_mos_adhesion,charge_mos_open_circuit,discharge_mos_open_circuit," + // B4
    "afe_chip_error,voltage_collect_dropped,cell_temp_sensor_error,eeprom_error,rtc_error,precharge_failure,communication_failure,internal_communication_failure," + // B5
    "current_module_fault,sum_voltage_detect_fault,short_circuit_protect_fault,low_volt_forbidden_charge," // B6
)
/** Alarm bits with a place in the table (B0..B6, bit 8*byte + bit). */
export const ALARM_BITS = 52

/** The name of alarm bit `i`, "" for a reserved bit. */
export function alarmName(i: number) {
    let at = 0
    for (let k = 0; k < i; k++) at = ALARM_TEXT.indexOf(",", at) + 1
    return ALARM_TEXT.slice(at, ALARM_TEXT.indexOf(",", at))
}

/** Names of the alarm bits set in the 7 alarm bytes; unnamed (reserved) bits are ignored. */
export function alarmNames(alarmBytes: Buffer) {
    const names: string[] = []
    for (let i = 0; i < ALARM_BITS; i++) if (alarmBytes[i >> 3] & (1 << (i & 7)) && alarmName(i)) names.push(alarmName(i))
    return names
}
