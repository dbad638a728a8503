// Loaded into the DeviceScript VM process (node -r): what the host needs of it besides running the
// firmware (host/vm-child.cjs): it ends with its host, dies on request like a crash, and meters its heap.
// The VM belongs to its host runtime: when that process is gone (even killed with SIGKILL, which
// gives it no chance to stop the VM), the VM exits instead of running on as an orphan.
const hostPid = process.ppid
setInterval(() => {
    try {
        process.kill(hostPid, 0)
    } catch {
        process.exit(0)
    }
    if (process.ppid !== hostPid) process.exit(0)
}, 1000).unref()

// The host's key `p` (Dongle.crash()): the VM dies the way it does on a failed assertion in its C
// code (exit code 1 after a message), so the host's crash handling is the one a real crash gets.
process.on("SIGUSR2", () => {
    process.stderr.write("panic requested by the host (key p)\n")
    process.exit(1)
})

// ---------------------------------------------------------------------------------------------
// Heap meter (SMARTBMS_HEAP_LOG=FILE): the firmware's GC heap, read from the VM's WebAssembly memory.
// DeviceScript keeps its objects in one chunk of JD_GC_KB (64) KB, preceded by the collector's
// state: six 32-bit words {first_free, first_chunk, num_alloc, gc_threshold, curr_alloc, ctx}, with
// first_chunk pointing right behind them. The chunk is {next, end} followed by blocks, each starting
// with a header word: tag in the top byte, size in words in the low 24 bits; the free tag is 1 (low
// nibble), and `end` holds the final header (tag 0x4f, size 1). A collection runs when more than
// gc_threshold words (a quarter of the heap) were allocated since the last one (curr_alloc counts
// them), or when an allocation does not fit.
// After every call from JavaScript into the VM (a turn: jd_em_process, a received frame, a socket
// event) the blocks are walked: used and free bytes, the largest free block. Between two
// collections, used - 4 * curr_alloc is the live set the last collection left (nothing is freed in
// between but by a collection); when curr_alloc went down, a collection ran, and the heap held just
// before it what it held at the previous sample plus what was allocated up to the threshold.
// Every WINDOW_MS one JSON line per window is appended to FILE (see scripts/bench-heap.mjs).
// SMARTBMS_HEAP_GC_STRESS=1 makes the VM collect at every allocation (slow; used == live set).
const heapLog = process.env.SMARTBMS_HEAP_LOG
if (heapLog) installHeapMeter(heapLog, process.env.SMARTBMS_HEAP_GC_STRESS === "1")

function installHeapMeter(file, gcStress) {
    const fs = require("fs")
    const WINDOW_MS = 250
    const TAG_SHIFT = 24
    const TAG_FREE = 0x1
    const TAG_MASK = 0xf
    const HEADER_FINAL = ((0x4f << TAG_SHIFT) | 1) >>> 0
    const SIZE_MASK = 0xffffff

    let exportsRef = null // the VM's exports (memory, jd_em_*)
    let words = null // Uint32Array over the memory, renewed when the memory grows
    let gc = -1 // word index of the collector's state, -1 until found
    let depth = 0
    let prev = null // the previous sample {used, curr}
    let stressOn = false
    let win = newWindow()

    function newWindow() {
        return { start: Date.now(), n: 0, usedMax: 0, usedLast: 0, freeMin: Infinity, largestMin: Infinity, blocksMax: 0, gcs: 0, liveMin: Infinity, liveMax: 0, beforeGcMax: 0, bad: 0, heap: 0, driftMax: 0 }
    }

    function memoryWords() {
        const buf = exportsRef.memory.buffer
        if (!words || words.buffer !== buf) words = new Uint32Array(buf)
        return words
    }

    // the collector's state: first_chunk points right behind it, the chunk's `end` holds the final
    // header, and the threshold is a quarter of the chunk in words
    function isGcAt(w, i) {
        const chunk = w[i + 1]
        if (chunk !== (i + 6) * 4 || w[i + 6] !== 0) return false
        const end = w[i + 7]
        if (end & 3 || end <= chunk || end >= w.byteLength || w[end >> 2] !== HEADER_FINAL) return false
        return w[i + 3] === Math.floor((end + 4 - chunk) / 16)
    }

    function findGc(w) {
        if (gc >= 0 && isGcAt(w, gc)) return gc
        for (let i = 0; i + 8 < w.length; i++) if (w[i + 1] === (i + 6) * 4 && isGcAt(w, i)) return i
        return -1
    }

    /** Walks the chunk's blocks; null if they do not end exactly at `end` (not a consistent heap). */
    function walk(w, g) {
        const start = g + 8
        const end = w[g + 7] >> 2
        let used = 0
        let free = 0
        let largest = 0
        let blocks = 0
        let i = start
        while (i < end) {
            const h = w[i]
            const size = h & SIZE_MASK
            if (size === 0 || i + size > end) return null
            if (((h >>> TAG_SHIFT) & TAG_MASK) === TAG_FREE) {
                free += size
                if (size > largest) largest = size
            } else used += size
            blocks++
            i += size
        }
        if (i !== end) return null
        // the free list: the blocks collections and splits left free; a block the VM frees itself
        // (jd_gc_free: an array's storage outgrown, say) is free but on no list until the next sweep
        let listed = 0
        let n = 0
        for (let b = w[g] >> 2; b && n <= blocks; b = w[b + 1] >> 2, n++) {
            if (b < start || b >= end || ((w[b] >>> TAG_SHIFT) & TAG_MASK) !== TAG_FREE) return null
            listed += w[b] & SIZE_MASK
        }
        if (n > blocks || listed > free) return null
        return { heap: (end + 1 - (g + 6)) * 4, used: used * 4, free: free * 4, unlisted: (free - listed) * 4, largest: largest * 4, blocks, curr: w[g + 4], threshold: w[g + 3] }
    }

    // what the last collection left: what is in use now, plus what the VM freed itself since, minus
    // what was allocated since
    const liveLeft = s => s.used + s.unlisted - 4 * s.curr

    function sample() {
        const w = memoryWords()
        const g = findGc(w)
        if (g < 0) return
        if (g !== gc) {
            gc = g
            prev = null // a new program (the VM restarts it after a panic): a new heap
        }
        if (gcStress && !stressOn) {
            exportsRef.jd_em_devs_enable_gc_stress(1)
            stressOn = true
        }
        const s = walk(w, g)
        if (!s) {
            win.bad++
            return
        }
        win.n++
        win.heap = s.heap
        win.usedLast = s.used
        win.usedMax = Math.max(win.usedMax, s.used)
        win.freeMin = Math.min(win.freeMin, s.free)
        win.largestMin = Math.min(win.largestMin, s.largest)
        win.blocksMax = Math.max(win.blocksMax, s.blocks)
        if (prev && s.curr >= prev.curr && !gcStress) {
            // no collection in between: the live set left by the last one is unchanged
            const drift = Math.abs(liveLeft(s) - liveLeft(prev))
            win.driftMax = Math.max(win.driftMax, drift)
        }
        if (prev && (s.curr < prev.curr || gcStress)) {
            // a collection ran since the previous sample
            win.gcs++
            const live = liveLeft(s)
            win.liveMin = Math.min(win.liveMin, live)
            win.liveMax = Math.max(win.liveMax, live)
            const before = gcStress ? prev.used : Math.min(s.heap, prev.used + 4 * (s.threshold + 1 - prev.curr))
            win.beforeGcMax = Math.max(win.beforeGcMax, before)
        }
        prev = s
        if (Date.now() - win.start >= WINDOW_MS) flush()
    }

    function flush() {
        if (win.n || win.bad) {
            const r = { t: Date.now(), pid: process.pid, ...win }
            for (const k of ["freeMin", "largestMin", "liveMin"]) if (r[k] === Infinity) r[k] = null
            fs.appendFileSync(file, JSON.stringify(r) + "\n")
        }
        win = newWindow()
    }

    function wrapExports(exp) {
        const wrapped = {}
        for (const [name, v] of Object.entries(exp)) {
            if (typeof v !== "function" || !name.startsWith("jd_em_")) {
                wrapped[name] = v
                continue
            }
            wrapped[name] = function (...args) {
                depth++
                try {
                    return v.apply(this, args)
                } finally {
                    if (--depth === 0) {
                        try {
                            sample()
                        } catch (e) {
                            process.stderr.write(`heap meter: ${e.message}\n`)
                        }
                    }
                }
            }
        }
        exportsRef = exp
        return wrapped
    }

    const instantiate = WebAssembly.instantiate
    WebAssembly.instantiate = async function (...args) {
        const r = await instantiate.apply(this, args)
        if (r instanceof WebAssembly.Instance) return r // instantiate(module): not the VM's path
        if (!r.instance.exports.jd_em_process) return r
        return { module: r.module, instance: { exports: wrapExports(r.instance.exports) } }
    }
    setInterval(flush, WINDOW_MS).unref()
    process.on("exit", flush)
}
