// Streaming access to float32 [N, d] .npy files: only the header is read (and parsed by the strict parser
// of core/npy), rows are then read with positioned reads, so a file larger than RAM works.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { NpyError, parseNpyHeader } from '../npy';

export interface NpyMatrixInfo {
  readonly rows: number;
  readonly cols: number;
  /** Byte offset of the first value. */
  readonly dataOffset: number;
}

const MAX_HEADER_BYTES = 1 << 20;

export function readNpyMatrixInfo(path: string): NpyMatrixInfo {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // Version 1 stores the header length in 2 bytes, versions 2–3 in 4; parseNpyHeader checks the rest.
    const prefix = Buffer.alloc(12);
    const got = readSync(fd, prefix, 0, 12, 0);
    const headerEnd = got < 10 ? got : prefix[6] === 1 ? 10 + prefix.readUInt16LE(8) : 12 + prefix.readUInt32LE(8);
    const headBytes = Buffer.alloc(Math.min(size, headerEnd, 12 + MAX_HEADER_BYTES));
    readSync(fd, headBytes, 0, headBytes.length, 0);
    const header = parseNpyHeader(headBytes, path, { maxHeaderBytes: MAX_HEADER_BYTES });
    if (header.descr !== '<f4' && header.descr !== '=f4') throw new NpyError(path, `expected float32 ('<f4') data, found '${header.descr}'`);
    if (header.shape.length !== 2) throw new NpyError(path, `expected a 2-D [N, d] array, found shape (${header.shape.join(', ')})`);
    const [rows, cols] = header.shape;
    const { dataOffset } = header;
    if (size < dataOffset + rows * cols * 4) {
      throw new NpyError(path, `header promises ${rows}×${cols} float32 values but the file holds ${size - dataOffset} data bytes`);
    }
    return { rows, cols, dataOffset };
  } finally {
    closeSync(fd);
  }
}
