// A restricted unpickler for torch.save state dicts. It understands the opcodes such a file uses and
// only these globals: collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and
// the torch.*Storage type names inside persistent ids. Any other global, and any opcode that could
// build arbitrary objects, stops the load with an error. Nothing in the file is ever executed.

import { formatError } from '../checkpoints/limits';
import type { DType } from '../checkpoints/dtypes';

export class PickleDict {
  readonly entries = new Map<string | number, PickleValue>();
}
export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}
export interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: DType;
  readonly key: string;
  readonly numel: number;
}
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}
interface StorageType {
  readonly kind: 'storageType';
  readonly dtype: DType;
  readonly name: string;
}
interface Callable {
  readonly kind: 'callable';
  readonly name: string;
  call(args: PickleValue[], where: string): PickleValue;
}
export type PickleValue = null | boolean | number | string | Uint8Array | PickleValue[] | PickleTuple | PickleDict | StorageRef | TensorRef | StorageType | Callable;

const STORAGE_TYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

function intList(where: string, v: PickleValue, what: string): number[] {
  const items = v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items || !items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw formatError(where, `tensor ${what} must be a tuple of non-negative integers`);
  }
  return items as number[];
}

const ALLOWED: Record<string, PickleValue> = {
  'collections OrderedDict': {
    kind: 'callable',
    name: 'collections.OrderedDict',
    call(args, where) {
      if (args.length !== 0) throw formatError(where, 'OrderedDict called with arguments');
      return new PickleDict();
    },
  },
  'torch._utils _rebuild_tensor_v2': {
    kind: 'callable',
    name: 'torch._utils._rebuild_tensor_v2',
    call(args, where) {
      const [storage, offset, size, stride] = args;
      if (args.length < 6 || args.length > 7 || typeof storage !== 'object' || storage === null || !('kind' in storage) || storage.kind !== 'storage') {
        throw formatError(where, '_rebuild_tensor_v2 called with unexpected arguments');
      }
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw formatError(where, 'tensor storage offset is invalid');
      const shape = intList(where, size, 'size');
      const strides = intList(where, stride, 'stride');
      if (shape.length !== strides.length) throw formatError(where, 'tensor size and stride differ in length');
      return { kind: 'tensor', storage, offset, shape, stride: strides };
    },
  },
  'torch._utils _rebuild_parameter': {
    kind: 'callable',
    name: 'torch._utils._rebuild_parameter',
    call(args, where) {
      const t = args[0];
      if (typeof t !== 'object' || t === null || !('kind' in t) || t.kind !== 'tensor') throw formatError(where, '_rebuild_parameter expects a tensor');
      return t;
    },
  },
};
for (const [name, dtype] of Object.entries(STORAGE_TYPES)) ALLOWED[`torch ${name}`] = { kind: 'storageType', dtype, name };

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

export interface UnpickleLimits {
  readonly maxStorageElements: number;
}

/** Reconstructs the pickled value (dicts, tuples, tensor references); refuses everything else. */
export function restrictedUnpickle(bytes: Uint8Array, where: string, limits: UnpickleLimits): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Slot[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw formatError(where, 'pickle ends unexpectedly');
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) throw formatError(where, 'pickle length field is larger than the pickle');
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const utf8 = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b);
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256) throw formatError(where, 'malformed GLOBAL in pickle');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw formatError(where, 'pickle stack underflow');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw formatError(where, 'pickle MARK missing');
    const items = stack.splice(i + 1) as PickleValue[];
    stack.pop();
    return items;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw formatError(where, 'pickle stack underflow');
    return v;
  };
  const resolveGlobal = (module: string, name: string): PickleValue => {
    const allowed = ALLOWED[`${module} ${name}`];
    if (!allowed) {
      throw formatError(
        where,
        `refusing to load: the pickle references ${module}.${name}, which is not part of a tensor state dict ` +
          '(only collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage are allowed); nothing was executed',
      );
    }
    return allowed;
  };
  const setItems = (target: PickleValue, kvs: PickleValue[]) => {
    if (!(target instanceof PickleDict)) throw formatError(where, 'pickle SETITEM on something that is not a dict');
    for (let i = 0; i + 1 < kvs.length; i += 2) {
      const k = kvs[i];
      if (typeof k !== 'string' && typeof k !== 'number') throw formatError(where, 'pickle dict keys must be strings or numbers');
      target.entries.set(k, kvs[i + 1]);
    }
  };

  for (let ops = 0; ; ops++) {
    if (ops > 50_000_000) throw formatError(where, 'pickle too long');
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw formatError(where, 'unsupported pickle protocol');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PickleTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PickleTuple([pop(), b, c]));
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1
        const n = u8();
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw formatError(where, 'pickle integer out of range');
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) throw formatError(where, `pickle memo ${i} is empty`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kvs = popMark();
        setItems(top(), kvs);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw formatError(where, 'pickle APPEND on something that is not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw formatError(where, 'pickle APPENDS on something that is not a list');
        list.push(...items);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw formatError(where, 'malformed STACK_GLOBAL');
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (typeof fn !== 'object' || fn === null || !('kind' in fn) || fn.kind !== 'callable') {
          throw formatError(where, 'refusing to load: the pickle calls something that is not an allowed tensor constructor; nothing was executed');
        }
        if (!(args instanceof PickleTuple)) throw formatError(where, 'pickle REDUCE without an argument tuple');
        stack.push(fn.call(args.items, where));
        break;
      }
      case 0x62: {
        // BUILD: only the attribute dict torch puts on a state dict (_metadata) is accepted, and ignored.
        const state = pop();
        const obj = top();
        if (!(obj instanceof PickleDict) || !(state instanceof PickleDict || state === null)) {
          throw formatError(where, 'refusing to load: the pickle sets state on an object that is not a state dict');
        }
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', torch.XStorage, key, location, numel)
        const pid = pop();
        const items = pid instanceof PickleTuple ? pid.items : undefined;
        const type = items?.[1];
        if (
          !items ||
          items.length !== 5 ||
          items[0] !== 'storage' ||
          typeof type !== 'object' ||
          type === null ||
          !('kind' in type) ||
          type.kind !== 'storageType' ||
          typeof items[2] !== 'string' ||
          typeof items[4] !== 'number'
        ) {
          throw formatError(where, 'refusing to load: unexpected persistent id (only torch storages are allowed)');
        }
        const numel = items[4];
        if (!Number.isSafeInteger(numel) || numel < 0 || numel > limits.maxStorageElements) {
          throw formatError(where, `storage declares ${numel} elements, over the limit; refusing to allocate`);
        }
        if (!/^[A-Za-z0-9_]+$/.test(items[2])) throw formatError(where, 'storage key is not a plain name');
        stack.push({ kind: 'storage', dtype: type.dtype, key: items[2], numel });
        break;
      }
      default:
        throw formatError(
          where,
          `refusing to load: pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} is not used by tensor state dicts; nothing was executed`,
        );
    }
  }
}
