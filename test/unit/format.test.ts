import { describe, test, expect } from "@devicescript/test"
import { fixed } from "../../src/console/format"

describe("fixed", () => {
    test("pads decimals", () => {
        expect(fixed(53, 1)).toBe("53.0")
        expect(fixed(3.5, 3)).toBe("3.500")
        expect(fixed(0.05, 2)).toBe("0.05")
    })
    test("rounds and keeps the sign", () => {
        expect(fixed(-12.34, 1)).toBe("-12.3")
        expect(fixed(-0.04, 1)).toBe("0.0")
        expect(fixed(51.25, 0)).toBe("51")
    })
})
