import { describe, test, expect } from "@devicescript/test"
import { FLAG_BMS_LINK_LOST, FLAG_SD_CARD_ERROR, flagNames, Journal, JOURNAL_SIZE } from "../../src/journal/journal"
import { weekdayFromMonday } from "../../src/platform/clock"

function flags(alarmByte0: number, own: number) {
    const b = Buffer.alloc(8)
    b[0] = alarmByte0
    b[7] = own
    return b
}

describe("errors journal", () => {
    test("an episode opens with its time and closes with the disappearance time", () => {
        const j = new Journal()
        expect(j.update(flags(0, 1 << FLAG_BMS_LINK_LOST), 0, "t1").join(",")).toBe("1")
        expect(j.entries[0].o).toBe("t1")
        expect(j.entries[0].c).toBe("")
        expect(j.update(flags(0, 1 << FLAG_BMS_LINK_LOST), 0, "t2").length).toBe(0) // still active: nothing new
        expect(j.update(flags(0, 0), 0, "t3").join(",")).toBe("1")
        expect(j.entries[0].c).toBe("t3")
        expect(j.last).toBe(1)
    })
    test("a new flag during an episode opens its own entry; names are documented", () => {
        const j = new Journal()
        j.update(flags(0x01, 0), 0, "t1")
        j.update(flags(0x01, 1 << FLAG_SD_CARD_ERROR), 0, "t2")
        expect(j.last).toBe(2)
        expect(flagNames(Buffer.from(j.entries[0].f, "hex")).join(",")).toBe("cell_volt_high_l1")
        expect(flagNames(Buffer.from(j.entries[1].f, "hex")).join(",")).toBe("sd_card_error")
        j.update(flags(0, 1 << FLAG_SD_CARD_ERROR), 0, "t3")
        expect(j.entries[0].c).toBe("t3")
        expect(j.entries[1].c).toBe("")
    })
    test("33 errors wrap to position 1 with the right last record", () => {
        const j = new Journal()
        for (let i = 1; i <= 33; i++) {
            j.update(flags(0, 1 << FLAG_BMS_LINK_LOST), 0, "on" + i)
            j.update(flags(0, 0), 0, "off" + i)
        }
        expect(JOURNAL_SIZE).toBe(32)
        expect(j.last).toBe(1)
        expect(j.entries[0].o).toBe("on33")
        expect(j.entries[1].o).toBe("on2")
        expect(j.entries[31].o).toBe("on32")
    })
})

describe("weekday", () => {
    test("from the date, Monday = 0", () => {
        expect(weekdayFromMonday({ year: 2026, month: 11, day: 21, hour: 0, minute: 0, second: 0 })).toBe(5) // a Saturday
        expect(weekdayFromMonday({ year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0 })).toBe(3) // a Thursday
        expect(weekdayFromMonday({ year: 2000, month: 1, day: 3, hour: 0, minute: 0, second: 0 })).toBe(0) // a Monday
    })
})
