// String.split of DeviceScript 2.16.4 walks the string in bytecode, character by character (about 20
// opcodes each): too slow for the firmware's text tables. This one uses the native indexOf.

export function splitText(s: string, separator: string): string[] {
    const r: string[] = []
    let from = 0
    for (;;) {
        const at = s.indexOf(separator, from)
        if (at < 0) break
        r.push(s.slice(from, at))
        from = at + separator.length
    }
    r.push(s.slice(from))
    return r
}

/**
 * The UTF-8 size of `s`, measured in slices of 200 characters: a copy of a long string in one piece
 * needs a block that a fragmented 64 KB heap may not have.
 */
export function utf8Length(s: string) {
    let n = 0
    for (let i = 0; i < s.length; i += 200) n += Buffer.from(s.slice(i, i + 200)).length
    return n
}
