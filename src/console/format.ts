// Number formatting for the console and logs (DeviceScript has no Number.prototype.toFixed).

/** `value` with exactly `decimals` digits after the point: fixed(-0.05, 1) → "-0.1". */
export function fixed(value: number, decimals: number) {
    const scale = Math.pow(10, decimals)
    const negative = value < 0
    const units = Math.round(Math.abs(value) * scale)
    if (decimals === 0) return (negative && units ? "-" : "") + units
    const whole = Math.idiv(units, scale)
    let frac = "" + (units - whole * scale)
    while (frac.length < decimals) frac = "0" + frac
    return (negative && units ? "-" : "") + whole + "." + frac
}
