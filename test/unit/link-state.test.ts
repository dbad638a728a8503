import { describe, test, expect } from "@devicescript/test"
import { FAILED_CYCLES_FOR_ERROR, LinkState, LINK_ERROR, LINK_OK, LINK_STARTING } from "../../src/bms/link-state"
import { bmsLink, currentSnapshot, lastSnapshot, pollingPaused, publishLink, publishPaused, publishSnapshot } from "../../src/bms/store"
import { BmsSnapshot } from "../../src/bms/snapshot"

describe("link state", () => {
    test("starting, then ok on the first complete cycle", () => {
        const l = new LinkState()
        expect(l.state).toBe(LINK_STARTING)
        expect(l.succeeded()).toBe(true)
        expect(l.state).toBe(LINK_OK)
        expect(l.succeeded()).toBe(false)
    })
    test("bms_data_error only after the documented number of failed cycles in a row", () => {
        const l = new LinkState()
        l.succeeded()
        for (let i = 1; i < FAILED_CYCLES_FOR_ERROR; i++) expect(l.failed()).toBe(false)
        l.succeeded() // a good cycle in between starts the count again
        for (let i = 1; i < FAILED_CYCLES_FOR_ERROR; i++) l.failed()
        expect(l.state).toBe(LINK_OK)
        expect(l.failed()).toBe(true)
        expect(l.state).toBe(LINK_ERROR)
    })
    test("recovers on the first complete cycle", () => {
        const l = new LinkState()
        for (let i = 0; i < FAILED_CYCLES_FOR_ERROR; i++) l.failed()
        expect(l.state).toBe(LINK_ERROR)
        expect(l.succeeded()).toBe(true)
        expect(l.state).toBe(LINK_OK)
    })
})

describe("bms store", () => {
    // the features read the store's exported `let`s directly: an imported binding must read live
    test("an imported let reads the value published after the import", () => {
        expect(bmsLink).toBe(LINK_STARTING)
        expect(currentSnapshot()).toBe(null)
        publishLink(LINK_OK)
        expect(bmsLink).toBe(LINK_OK)
        const s = { readAtMs: 1 } as BmsSnapshot
        publishSnapshot(s)
        expect(lastSnapshot).toBe(s)
        expect(currentSnapshot()).toBe(s)
        publishPaused(true)
        expect(pollingPaused).toBe(true)
        expect(currentSnapshot()).toBe(null)
        publishPaused(false)
        publishLink(LINK_ERROR)
        expect(bmsLink).toBe(LINK_ERROR)
        expect(currentSnapshot()).toBe(null)
        expect(lastSnapshot).toBe(s)
    })
})
