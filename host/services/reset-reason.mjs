// Host emulation of services/resetreason.md: why the program now running was started. The host
// decides it whenever it (re)starts the VM (the chip's reset): the reset button or a first start is
// `power_on`, ds.reboot() is `software`, a VM that crashed is `panic`. A program restart inside a
// running VM (ds.restart(), or DeviceScript restarting a program that threw) reads
// `program_restart` once the previous run acknowledged, or `panic` when the host saw it crash.
import { jd } from "./jacdac.mjs"

export const RESET_REASON_CLASS = 0x1f3c2a91
export const Reason = { Unknown: 0, PowerOn: 1, Software: 2, Panic: 3, Watchdog: 4, ProgramRestart: 5, Brownout: 6 }
export const REASON_NAMES = ["unknown", "power_on", "software", "panic", "watchdog", "program_restart", "brownout"]

export class ResetReasonServer extends jd.JDServiceServer {
    constructor() {
        super(RESET_REASON_CLASS)
        this.reason = this.addRegister(0x180, [Reason.PowerOn])
        this.detail = this.addRegister(0x181, ["power applied"])
        this.acknowledged = false
        this.addCommand(0x80, () => {
            this.acknowledged = true
            this.set(Reason.ProgramRestart, "program started again without a chip reset")
        })
    }

    set(reason, detail = "") {
        this.reason.setValues([reason])
        this.detail.setValues([detail])
    }

    /** The chip resets (a new VM starts) for `reason`. */
    chipReset(reason, detail) {
        this.acknowledged = false
        this.set(reason, detail)
    }

    /** The program crashed inside the running VM, which restarts it: the next start is a panic. */
    programCrashed(detail) {
        this.set(Reason.Panic, detail)
    }
}
