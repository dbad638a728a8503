"use strict"
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
// SMARTBMS_HEAP_CENSUS=FILE (with SMARTBMS_HEAP_LOG) also appends, every 2 s, what the heap holds by
// kind (strings, buffers, arrays, maps, activations...) with the largest blocks and a string's first
// characters: with SMARTBMS_HEAP_GC_STRESS=1 that is the live set, the way to find what holds memory.
// Each collection that leaves more than any before also writes one (marked afterGc): what was live at
// the worst moment; SMARTBMS_HEAP_CENSUS_RECORDS=1 writes only those.
// host/vm.mjs installs it, once per process, before the first VM starts; it meters the VM started last.

function installHeapMeter(file, gcStress, censusFile) {
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
        if (censusFile && process.env.SMARTBMS_HEAP_CENSUS_LOW && s.free < lowRecord) {
            // the least free space so far (garbage included): what filled the heap near an OutOfMemory
            lowRecord = s.free
            try {
                fs.appendFileSync(censusFile, JSON.stringify({ t: Date.now(), free: s.free, largest: s.largest, lowFree: true, ...census(w, g) }) + "\n")
            } catch (e) {
                process.stderr.write(`heap census: ${e.message}\n`)
            }
        }
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
            if (censusFile && live > liveRecord) {
                // right after a collection that left the most so far: the census is (nearly) the live set
                liveRecord = live
                try {
                    fs.appendFileSync(censusFile, JSON.stringify({ t: Date.now(), live, afterGc: true, ...census(w, g) }) + "\n")
                } catch (e) {
                    process.stderr.write(`heap census: ${e.message}\n`)
                }
            }
            const before = gcStress ? prev.used : Math.min(s.heap, prev.used + 4 * (s.threshold + 1 - prev.curr))
            win.beforeGcMax = Math.max(win.beforeGcMax, before)
        }
        prev = s
        if (Date.now() - win.start >= WINDOW_MS) flush()
    }

    const KINDS = ["null", "free", "bytes", "array", "map", "buffer", "string", "bound_function", "activation", "half_static_map", "short_map", "packet", "string_jmp", "image", "?", "final"]
    let lastCensus = 0
    let liveRecord = 0
    let lowRecord = Infinity
    /** By kind: blocks and bytes, and the 16 largest blocks (a string's or buffer's first bytes shown). */
    function census(w, g) {
        const bytes = new Uint8Array(w.buffer)
        const end = w[g + 7] >> 2
        const kinds = {}
        const big = []
        for (let i = g + 8; i < end; ) {
            const h = w[i]
            const size = h & SIZE_MASK
            if (size === 0) break
            const kind = KINDS[(h >>> TAG_SHIFT) & TAG_MASK]
            if (kind !== "free") {
                const k = (kinds[kind] ??= { n: 0, bytes: 0 })
                k.n++
                k.bytes += size * 4
                big.push({ kind, bytes: size * 4, at: i })
            }
            i += size
        }
        // maps and arrays own the storage block their data pointer (at +12) names: grouped by their
        // keys (a map) so that "44 maps {id,kind,def...}" shows what kind of object holds the bytes
        const storageOf = at => {
            const p = (w[at + 3] >> 2) - 1 // the storage starts right behind its block's header
            return p > g + 8 && p < end && ((w[p] >>> TAG_SHIFT) & TAG_MASK) === 2 ? (w[p] & SIZE_MASK) * 4 : 0
        }
        const shapes = {}
        for (const b of big) {
            if (b.kind !== "map" && b.kind !== "array") continue
            const own = storageOf(b.at)
            let shape = b.kind
            if (b.kind === "map") {
                const n = bytes[b.at * 4 + 8] | (bytes[b.at * 4 + 9] << 8)
                const data = w[b.at + 3] >> 2 // key, value, key, value...
                const keys = []
                for (let k = 0; k < Math.min(n, 6); k++) keys.push(keyName(w, bytes, data + 4 * k))
                shape = `{${keys.join(",")}${n > 6 ? ",+" + (n - 6) : ""}}`
            } else {
                const n = bytes[b.at * 4 + 8] | (bytes[b.at * 4 + 9] << 8)
                shape = `array[${n}]`
                if (n > 40) {
                    // a long array: its first elements say what it is
                    const data = w[b.at + 3] >> 2
                    const first = []
                    for (let k = 0; k < 3; k++) first.push(valueText(w, bytes, data + 2 * k))
                    shape += ` [${first.join(",")}...]`
                }
            }
            const e = (shapes[shape] ??= { n: 0, bytes: 0 })
            e.n++
            e.bytes += b.bytes + own
        }
        // storage blocks no map or array owns (fibers, globals, closures' environments...), by size
        const owned = new Set()
        for (const b of big) if ((b.kind === "map" || b.kind === "array") && storageOf(b.at)) owned.add((w[b.at + 3] >> 2) - 1)
        const loose = {}
        for (const b of big) if (b.kind === "bytes" && !owned.has(b.at)) loose[b.bytes] = (loose[b.bytes] ?? 0) + 1
        kinds.looseBytes = Object.entries(loose).sort((a, b) => b[0] * b[1] - a[0] * a[1]).slice(0, 12).map(([k, v]) => `${v}x${k}`).join(" ")
        // suspended frames by function: an activation is {header, pc/maxpc, closure, caller, func, slots...};
        // func points at the function's descriptor in the image, whose name index is at +12
        const frames = {}
        for (const b of big) {
            if (b.kind !== "activation") continue
            const func = w[b.at + 4]
            const idx = bytes[func + 12] | (bytes[func + 13] << 8)
            let name = `fn@${func}`
            if (idx >> 14 === 2) {
                if (!imageStrings) imageStrings = loadImageStrings()
                name = imageStrings[idx & 0x3fff] ?? name
            } else if (idx >> 14 === 1) name = builtinName(idx & 0x3fff)
            const e = (frames[name] ??= { n: 0, bytes: 0 })
            e.n++
            e.bytes += b.bytes
        }
        kinds.frames = Object.entries(frames).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 24).map(([k, v]) => `${v.n}x ${v.bytes} ${k}`).join(", ")
        const shapeList = Object.entries(shapes).sort((a, b) => b[1].bytes - a[1].bytes).map(([k, v]) => `${v.n}x ${v.bytes} ${k}`)
        big.sort((a, b) => b.bytes - a.bytes)
        const top = big.slice(0, 16).map(b => {
            const off = b.kind === "string" ? b.at * 4 + 6 : b.kind === "buffer" ? b.at * 4 + 12 : b.kind === "string_jmp" ? b.at * 4 + 12 : -1
            const text = off < 0 ? undefined : Buffer.from(bytes.subarray(off, off + 40)).toString("latin1").replace(/[^\x20-\x7e]/g, ".")
            return text === undefined ? `${b.kind} ${b.bytes}` : `${b.kind} ${b.bytes} ${JSON.stringify(text)}`
        })
        return { kinds, top, shapes: shapeList }
    }

    // a map key: a heap string, or a string of the program image (its ASCII table), or a built-in name
    let imageStrings = null
    function valueText(w, bytes, at) {
        const hi = w[at + 1]
        if (hi === 0xffffffff) return String(w[at] | 0)
        if (hi === 4 || hi === 8) return JSON.stringify(keyName(w, bytes, at))
        if (hi < 16) return `handle${hi}:${w[at]}`
        return String(new Float64Array(w.buffer, at * 4, 1)[0])
    }

    function keyName(w, bytes, at) {
        const lo = w[at]
        const hi = w[at + 1]
        if (hi === 8) {
            const p = lo >> 2
            const tag = (w[p] >>> TAG_SHIFT) & TAG_MASK
            if (tag === 6) return Buffer.from(bytes.subarray(lo + 6, lo + 6 + Math.min(20, bytes[lo + 4] | (bytes[lo + 5] << 8)))).toString("latin1")
            return KINDS[tag]
        }
        if (hi === 4) {
            const kind = lo >> 14
            const idx = lo & 0x3fff
            if (kind === 2) {
                if (!imageStrings) imageStrings = loadImageStrings()
                return imageStrings[idx] ?? `ascii#${idx}`
            }
            return kind === 1 ? builtinName(idx) : `str#${lo}`
        }
        return `?${hi}`
    }

    // the VM's built-in strings ("inline", "wait", "push"...): the compiler's table, read once
    let builtinStrings = null
    function builtinName(idx) {
        if (!builtinStrings) {
            builtinStrings = []
            try {
                const cli = fs.readFileSync(require.resolve("@devicescript/cli/built/devicescript-cli.cjs"), "utf8")
                const at = cli.indexOf("BUILTIN_STRING__VAL = [")
                builtinStrings = JSON.parse(cli.slice(cli.indexOf("[", at), cli.indexOf("]", at) + 1).replace(/,\s*\]$/, "]"))
            } catch (e) {}
        }
        return builtinStrings[idx] ?? `builtin#${idx}`
    }

    function loadImageStrings() {
        try {
            const img = fs.readFileSync(process.env.SMARTBMS_HEAP_IMAGE || require("path").join(__dirname, "../built/firmware.devs"))
            const sec = i => [img.readUInt32LE(32 + 8 * i), img.readUInt32LE(36 + 8 * i)]
            const [aStart, aLen] = sec(4)
            const [dStart] = sec(7)
            const r = []
            for (let i = 0; i < aLen / 2; i++) {
                const o = dStart + img.readUInt16LE(aStart + 2 * i)
                r.push(img.subarray(o, img.indexOf(0, o)).toString("latin1"))
            }
            return r
        } catch (e) {
            return []
        }
    }

    function flush() {
        if (censusFile && gc >= 0 && Date.now() - lastCensus >= 2000 && !process.env.SMARTBMS_HEAP_CENSUS_RECORDS) {
            lastCensus = Date.now()
            try {
                fs.appendFileSync(censusFile, JSON.stringify({ t: lastCensus, ...census(memoryWords(), gc) }) + "\n")
            } catch (e) {
                process.stderr.write(`heap census: ${e.message}\n`)
            }
        }
        if (win.n || win.bad) {
            const r = { t: Date.now(), pid: process.pid, ...win }
            for (const k of ["freeMin", "largestMin", "liveMin"]) if (r[k] === Infinity) r[k] = null
            try {
                fs.appendFileSync(file, JSON.stringify(r) + "\n")
            } catch {} // the log's folder is gone (a bench cleaned up before the process exits)
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
        exportsRef = exp // a new VM (the chip reset): its own memory, heap and stress setting
        words = null
        gc = -1
        prev = null
        stressOn = false
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

module.exports = { installHeapMeter }
