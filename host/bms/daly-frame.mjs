// Daly "A5" frames as the BMS side sees them: 13 bytes, A5 | address | data id | 08 | 8 data | checksum.
export const FRAME_LENGTH = 13
export const START_BYTE = 0xa5
export const REPLY_ADDRESS = 0x01

export function checksum(bytes, length = 12) {
    let sum = 0
    for (let i = 0; i < length; i++) sum += bytes[i]
    return sum & 0xff
}

/** A reply frame from the BMS for `dataId` with up to 8 data bytes (the rest 0). */
export function replyFrame(dataId, data) {
    const frame = Buffer.alloc(FRAME_LENGTH)
    frame[0] = START_BYTE
    frame[1] = REPLY_ADDRESS
    frame[2] = dataId
    frame[3] = 8
    Buffer.from(data).copy(frame, 4, 0, 8)
    frame[12] = checksum(frame)
    return frame
}

/**
 * Splits the bytes the dongle sends into requests. Resynchronises on A5 and drops anything whose
 * length byte or checksum is wrong, exactly like a BMS UART would ignore it.
 */
export class RequestParser {
    constructor() {
        this.pending = Buffer.alloc(0)
    }

    /** @returns {{address:number, dataId:number, data:Buffer}[]} */
    push(bytes) {
        this.pending = Buffer.concat([this.pending, Buffer.from(bytes)])
        const requests = []
        for (;;) {
            const start = this.pending.indexOf(START_BYTE)
            if (start < 0) {
                this.pending = Buffer.alloc(0)
                break
            }
            if (this.pending.length - start < FRAME_LENGTH) {
                this.pending = this.pending.subarray(start)
                break
            }
            const frame = this.pending.subarray(start, start + FRAME_LENGTH)
            if (frame[3] === 8 && checksum(frame) === frame[12]) {
                requests.push({ address: frame[1], dataId: frame[2], data: Buffer.from(frame.subarray(4, 12)) })
                this.pending = this.pending.subarray(start + FRAME_LENGTH)
            } else {
                this.pending = this.pending.subarray(start + 1)
            }
        }
        return requests
    }
}

export function toHex(bytes) {
    return Buffer.from(bytes).toString("hex").toUpperCase().replace(/(..)(?!$)/g, "$1 ")
}
