// The errors journal (docs/journal.md): 32 positions, circular (after 32 the next goes to position 1),
// each entry an error episode: when its flags appeared, when they all disappeared (empty while
// active), the flags, and the BMS fault code. "last" is the position written last (0: none). Pure.
import { ALARM_BITS, alarmName } from "../bms/alarms"

export const JOURNAL_SIZE = 32
/** Flag bytes: 0-6 are the BMS alarm bytes of 0x98 (B0-B6), byte 7 the dongle's own flags. */
export const FLAG_BYTES = 8
export const DONGLE_FLAG_NAMES = ["bms_link_lost", "sd_card_error", "ftp_failure", "mqtt_failure", "bms_fault_code", "restarted_after_crash", "watchdog_reboot"]
export const FLAG_BMS_LINK_LOST = 0
export const FLAG_SD_CARD_ERROR = 1
export const FLAG_FTP_FAILURE = 2
export const FLAG_MQTT_FAILURE = 3
export const FLAG_BMS_FAULT_CODE = 4
/** Set at boot after a crash, cleared at the next check: an episode of a few seconds. */
export const FLAG_RESTARTED_AFTER_CRASH = 5
/** Set by the watchdog before it reboots the dongle; cleared after the reboot. */
export const FLAG_WATCHDOG_REBOOT = 6

export interface JournalEntry {
    /** occurrence time */
    o: string
    /** disappearance time, "" while active */
    c: string
    /** flags, 16 hex digits (8 bytes) */
    f: string
    /** BMS fault code when the bms_fault_code flag is set */
    k: number
}

/** Names of the flags set in 8 flag bytes. */
export function flagNames(flags: Buffer) {
    const names: string[] = []
    for (let i = 0; i < ALARM_BITS; i++) if (flags[i >> 3] & (1 << (i & 7)) && alarmName(i)) names.push(alarmName(i))
    for (let i = 0; i < DONGLE_FLAG_NAMES.length; i++) if (flags[7] & (1 << i)) names.push(DONGLE_FLAG_NAMES[i])
    return names
}

function isZero(b: Buffer) {
    for (let i = 0; i < b.length; i++) if (b[i]) return false
    return true
}

export class Journal {
    entries: JournalEntry[] = []
    last = 0

    constructor() {
        for (let i = 0; i < JOURNAL_SIZE; i++) this.entries.push(null)
    }

    /**
     * The active flags now; returns the positions (1-32) whose entry changed. Open entries whose
     * flags have all gone are closed; flags not covered by an open entry open a new entry.
     */
    update(active: Buffer, faultCode: number, time: string): number[] {
        const changed: number[] = []
        const covered = Buffer.alloc(FLAG_BYTES)
        for (let p = 1; p <= JOURNAL_SIZE; p++) {
            const e = this.entries[p - 1]
            if (!e || e.c !== "") continue
            const f = Buffer.from(e.f, "hex")
            let still = false
            for (let i = 0; i < FLAG_BYTES; i++) if (f[i] & active[i]) still = true
            if (!still) {
                e.c = time
                changed.push(p)
            } else for (let i = 0; i < FLAG_BYTES; i++) covered[i] |= f[i]
        }
        const fresh = Buffer.alloc(FLAG_BYTES)
        for (let i = 0; i < FLAG_BYTES; i++) fresh[i] = active[i] & ~covered[i] & 0xff
        if (!isZero(fresh)) {
            const p = (this.last % JOURNAL_SIZE) + 1
            this.entries[p - 1] = { o: time, c: "", f: fresh.toString("hex"), k: fresh[7] & (1 << FLAG_BMS_FAULT_CODE) ? faultCode : 0 }
            this.last = p
            if (changed.indexOf(p) < 0) changed.push(p)
        }
        return changed
    }
}
