// The snapshot as the "Daly BMS" Jacdac service (services/dalybms.md), for Jacdac tools and the host.
import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"
import { wallClock } from "../platform/clock"
import { LINK_ERROR, LINK_OK } from "./link-state"
import { BmsPoller } from "./poller"
import { bmsAddress, bmsInfo, bmsLink, lastSnapshot, linkChanged } from "./store"

const UNKNOWN_AGE = 0xffffffff

class DalyBmsServer extends Server implements ds.DalyBmsServerSpec {
    constructor(private poller: BmsPoller) {
        super(ds.DalyBms.spec)
    }

    link() {
        const l = bmsLink()
        return l === LINK_OK ? ds.DalyBmsLink.Ok : l === LINK_ERROR ? ds.DalyBmsLink.BmsDataError : ds.DalyBmsLink.Starting
    }
    packVoltage() {
        const s = lastSnapshot()
        return s ? Math.round(s.voltageV * 1000) : 0
    }
    current() {
        const s = lastSnapshot()
        return s ? Math.round(s.currentA * 1000) : 0
    }
    soc() {
        const s = lastSnapshot()
        return s ? Math.round(s.socPct * 10) : 0
    }
    remainingCapacity() {
        const s = lastSnapshot()
        return s ? Math.round(s.remainingAh * 1000) : 0
    }
    ratedCapacity() {
        return bmsInfo().ratedMah || 0
    }
    cycles() {
        const s = lastSnapshot()
        return s ? s.cycles : 0
    }
    cellVoltages() {
        const s = lastSnapshot()
        return s ? s.cellsMv : []
    }
    temperatures() {
        const s = lastSnapshot()
        return s ? s.tempsC : []
    }
    switches(): [number, number, number, number, number, number] {
        const s = lastSnapshot()
        if (!s) return [0, 0, 0, 0, 0, 0]
        const state = s.state === "charging" ? 1 : s.state === "discharging" ? 2 : 0
        return [s.chargeMos ? 1 : 0, s.dischargeMos ? 1 : 0, s.charger ? 1 : 0, s.load ? 1 : 0, state, s.digitalInputs | (s.digitalOutputs << 4)]
    }
    balancing() {
        const s = lastSnapshot()
        return s ? s.balancingBits : Buffer.alloc(0)
    }
    alarms() {
        const s = lastSnapshot()
        return s ? s.alarmBits : Buffer.alloc(0)
    }
    faultCode() {
        const s = lastSnapshot()
        return s ? s.faultCode : 0
    }
    age() {
        const s = lastSnapshot()
        return s ? ds.millis() - s.readAtMs : UNKNOWN_AGE
    }
    pollStats(): [number, number, number, number] {
        const p = this.poller
        return [p.completedCycles, p.failedRequests, p.lastCycleMs, bmsAddress()]
    }
    batteryCode() {
        return bmsInfo().batteryCode || ""
    }
    async setChargeMos(on: boolean) {
        return await this.poller.setChargeMos(on)
    }
    async setDischargeMos(on: boolean) {
        return await this.poller.setDischargeMos(on)
    }
    async setSoc(soc: number) {
        const clock = await wallClock()
        if (!clock) return false // the BMS takes SOC and clock together: no bogus date
        return await this.poller.setSoc(soc / 10, clock)
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
