// The BMS link state: "ok" while replies arrive, "bms_data_error" after FAILED_CYCLES_FOR_ERROR
// cycles in a row without a complete reply (the BMS asleep, unplugged or miswired). Pure.
export const LINK_STARTING = "starting"
export const LINK_OK = "ok"
export const LINK_ERROR = "bms_data_error"
/** Failed cycles in a row before bms_data_error: with REQUEST_ATTEMPTS tries of 0x90 each, about 1 s. */
export const FAILED_CYCLES_FOR_ERROR = 3

export class LinkState {
    state = LINK_STARTING
    failedCycles = 0

    /** A cycle completed; returns true when the state changed. */
    succeeded() {
        this.failedCycles = 0
        const changed = this.state !== LINK_OK
        this.state = LINK_OK
        return changed
    }

    /** A cycle failed; returns true when the state changed. */
    failed() {
        if (++this.failedCycles < FAILED_CYCLES_FOR_ERROR || this.state === LINK_ERROR) return false
        this.state = LINK_ERROR
        return true
    }
}
