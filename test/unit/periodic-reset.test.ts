import { describe, test, expect } from "@devicescript/test"
import { afterReset, minuteOf, resetDue, ResetState } from "../../src/maintenance/periodic-reset"

const at = (year: number, month: number, day: number, hour: number, minute: number) => ({ year, month, day, hour, minute, second: 0 })
const fresh: ResetState = { day: "", count: 0, last: "", lastMinute: 0 }
const saturdays = { days: 1 << 5, time: "03:00", max: 2 }

describe("periodic reset schedule", () => {
    test("minutes run on across months, leap days and years", () => {
        expect(minuteOf(at(2026, 3, 1, 0, 10)) - minuteOf(at(2026, 2, 28, 23, 30))).toBe(40)
        expect(minuteOf(at(2024, 3, 1, 0, 0)) - minuteOf(at(2024, 2, 28, 0, 0))).toBe(2 * 1440)
        expect(minuteOf(at(2027, 1, 1, 0, 0)) - minuteOf(at(2026, 12, 31, 23, 59))).toBe(1)
        expect(minuteOf(at(2000, 1, 1, 0, 0))).toBe(0)
    })
    test("only on the chosen days, from the time of day on", () => {
        expect(resetDue(saturdays, fresh, at(2026, 11, 21, 3, 0))).toBe(true) // Saturday 03:00
        expect(resetDue(saturdays, fresh, at(2026, 11, 21, 2, 59))).toBe(false)
        expect(resetDue(saturdays, fresh, at(2026, 11, 22, 3, 30))).toBe(false) // Sunday
    })
    test("never twice within an hour, at most the maximum a day, counted afresh the next day", () => {
        let s = afterReset(fresh, at(2026, 11, 21, 3, 0))
        expect(s.count).toBe(1)
        expect(s.last).toBe("2026-11-21T03:00:00")
        expect(resetDue(saturdays, s, at(2026, 11, 21, 3, 59))).toBe(false)
        expect(resetDue(saturdays, s, at(2026, 11, 21, 4, 0))).toBe(true)
        s = afterReset(s, at(2026, 11, 21, 4, 0))
        expect(s.count).toBe(2)
        expect(resetDue(saturdays, s, at(2026, 11, 21, 9, 0))).toBe(false)
        expect(resetDue(saturdays, s, at(2026, 11, 28, 3, 0))).toBe(true)
        expect(afterReset(s, at(2026, 11, 28, 3, 0)).count).toBe(1)
    })
})
