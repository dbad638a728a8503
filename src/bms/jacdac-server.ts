// The snapshot as the "Daly BMS" Jacdac service (services/dalybms.md), for Jacdac tools and the host.
import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"
import { wallClock } from "../platform/clock"
import { LINK_ERROR, LINK_OK, LINK_STARTING } from "./link-state"
import { BmsPoller } from "./poller"
import { STATE_NAMES } from "./snapshot"
import { bmsInfo, bmsLink, lastSnapshot, linkChanged } from "./store"

const UNKNOWN_AGE = 0xffffffff
const LINK_NAMES = [LINK_STARTING, LINK_OK, LINK_ERROR]

/** A field of the last snapshot (`fallback` without one or while null), times `scale`, rounded when scaled. */
function field(name: string, scale: number, fallback: any): any {
    const s = lastSnapshot as any
    const v = s ? s[name] : null
    return v === null ? fallback : scale ? Math.round(v * scale) : v
}

class DalyBmsServer extends Server implements ds.DalyBmsServerSpec {
    constructor(private poller: BmsPoller) {
        super(ds.DalyBms.spec)
    }

    link() {
        return LINK_NAMES.indexOf(bmsLink) // ds.DalyBmsLink: Starting, Ok, BmsDataError
    }
    packVoltage() {
        return field("voltageV", 1000, 0)
    }
    current() {
        return field("currentA", 1000, 0)
    }
    soc() {
        return field("socPct", 10, 0)
    }
    remainingCapacity() {
        return field("remainingAh", 1000, 0)
    }
    ratedCapacity() {
        return field("ratedAh", 1000, 0) // mAh; 0 while unknown
    }
    cycles() {
        return field("cycles", 0, 0)
    }
    cellVoltages() {
        return field("cellsMv", 0, [])
    }
    temperatures() {
        return field("tempsC", 0, [])
    }
    switches(): [number, number, number, number, number, number] {
        const s = lastSnapshot
        if (!s) return [0, 0, 0, 0, 0, 0]
        return [s.chargeMos ? 1 : 0, s.dischargeMos ? 1 : 0, s.charger ? 1 : 0, s.load ? 1 : 0, STATE_NAMES.indexOf(s.state), s.digitalIO || 0]
    }
    balancing() {
        return field("balancingBits", 0, Buffer.alloc(0))
    }
    alarms() {
        return field("alarmBits", 0, Buffer.alloc(0))
    }
    faultCode() {
        return field("faultCode", 0, 0)
    }
    age() {
        const s = lastSnapshot
        return s ? ds.millis() - s.readAtMs : UNKNOWN_AGE
    }
    pollStats(): [number, number, number, number] {
        const p = this.poller
        return [p.completedCycles, p.failedRequests, p.lastCycleMs, p.address]
    }
    batteryCode() {
        return bmsInfo.batteryCode || ""
    }
    async setChargeMos(on: boolean) {
        return await this.poller.setSwitch("chg", on)
    }
    async setDischargeMos(on: boolean) {
        return await this.poller.setSwitch("dsg", on)
    }
    async setSoc(soc: number) {
        // a 0xA5 BMS takes SOC and clock together: the poller refuses it without a clock (no bogus date)
        return await this.poller.setSoc(soc / 10, await wallClock())
    }
    async setBalancer(on: boolean) {
        return await this.poller.setSwitch("balancer", on)
    }
    async resetBms() {
        return await this.poller.resetBms()
    }
}

export function serveDalyBms(poller: BmsPoller) {
    const server = new DalyBmsServer(poller)
    startServer(server)
    linkChanged.subscribe(async () => {
        await server.sendEvent(ds.DalyBms.spec.lookup("linkChanged").encode(server.link()))
    })
}
