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
