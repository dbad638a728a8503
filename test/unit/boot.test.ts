import { describe, test, expect } from "@devicescript/test"
import { outcomeFor, OUTCOME_AP, OUTCOME_FACTORY, OUTCOME_NORMAL } from "../../src/boot/reset-counter"
import { ledPatternFor, LED_AP_MODE, LED_BMS_ERROR, LED_CONNECTING, LED_FACTORY_RESET, LED_NORMAL, LED_RESET_WINDOW, LED_UPLINK_FAILING, patternSteps } from "../../src/led/patterns"
import { accessPointSsid, passwordFrom } from "../../src/net/wifi"

describe("reset counter", () => {
    test("1-2 normal, 3-5 access point, 6 and more factory defaults", () => {
        expect(outcomeFor(1)).toBe(OUTCOME_NORMAL)
        expect(outcomeFor(2)).toBe(OUTCOME_NORMAL)
        expect(outcomeFor(3)).toBe(OUTCOME_AP)
        expect(outcomeFor(5)).toBe(OUTCOME_AP)
        expect(outcomeFor(6)).toBe(OUTCOME_FACTORY)
        expect(outcomeFor(9)).toBe(OUTCOME_FACTORY)
    })
})

describe("LED", () => {
    const base = { resetWindow: false, factoryReset: false, accessPoint: false, stationConnected: true, bmsError: false, uplinkFailing: false }
    test("the most urgent state wins", () => {
        expect(ledPatternFor(base)).toBe(LED_NORMAL)
        expect(ledPatternFor({ ...base, uplinkFailing: true })).toBe(LED_UPLINK_FAILING)
        expect(ledPatternFor({ ...base, uplinkFailing: true, bmsError: true })).toBe(LED_BMS_ERROR)
        expect(ledPatternFor({ ...base, stationConnected: false, bmsError: true })).toBe(LED_CONNECTING)
        expect(ledPatternFor({ ...base, accessPoint: true, stationConnected: false })).toBe(LED_AP_MODE)
        expect(ledPatternFor({ ...base, accessPoint: true, resetWindow: true })).toBe(LED_RESET_WINDOW)
        expect(ledPatternFor({ ...base, resetWindow: true, factoryReset: true })).toBe(LED_FACTORY_RESET)
    })
    test("the reset window flashes very quickly; every pattern repeats", () => {
        expect(patternSteps(LED_RESET_WINDOW).join(",")).toBe("50,50")
        for (const p of [LED_NORMAL, LED_AP_MODE, LED_CONNECTING, LED_BMS_ERROR, LED_UPLINK_FAILING])
            expect(patternSteps(p).length % 2).toBe(0)
    })
    test("every pattern's on/off durations (the README table)", () => {
        expect(patternSteps(LED_FACTORY_RESET).join(",")).toBe("2000,0")
        expect(patternSteps(LED_AP_MODE).join(",")).toBe("1000,1000")
        expect(patternSteps(LED_CONNECTING).join(",")).toBe("250,250")
        expect(patternSteps(LED_BMS_ERROR).join(",")).toBe("150,250,150,2450")
        expect(patternSteps(LED_UPLINK_FAILING).join(",")).toBe("150,250,150,250,150,2050")
        expect(patternSteps(LED_NORMAL).join(",")).toBe("150,2850")
        expect(patternSteps("").join(",")).toBe("150,2850")
        expect(patternSteps("reset").join(",")).toBe("150,2850") // a prefix of a name is not that name
    })
})

describe("access point name", () => {
    test("SmartBMS- and the device id's last 4 digits", () => {
        expect(accessPointSsid("2ac886d345fc324d")).toBe("SmartBMS-324D")
    })
    test("the password comes from random bytes only, in an alphabet without look-alikes", () => {
        expect(passwordFrom(Buffer.from([0, 1, 30, 31, 255, 100, 7, 8, 9, 10]))).toBe("ab9ahhhjkm")
        const p = passwordFrom(Buffer.from([48, 111, 49, 108, 105, 79, 73, 76, 200, 201]))
        for (const c of ["0", "o", "1", "l", "i"]) expect(p.indexOf(c)).toBe(-1)
    })
})
