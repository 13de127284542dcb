// Command-line options, parsed by node's util.parseArgs in strict mode: unknown options are errors, so
// typos never pass silently. Every option takes a value except the `booleans`. Node's errors are turned
// into short usage messages ("unknown option --x", "--x needs a value").
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string | true>;
}

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseArgs(argv: readonly string[], known: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const options: Options = {};
  for (const name of known) options[name] = { type: 'string' };
  for (const name of booleans) options[name] = { type: 'boolean' };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: attachDashValues(argv, known), options, strict: true, allowPositionals: true });
  } catch (err) {
    throw usageErrorFrom(err, argv, known, booleans);
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    // A repeated option keeps its last value, as before.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (typeof last === 'string') flags.set(name, last);
    else if (last === true) flags.set(name, true);
  }
  return { positionals: parsed.positionals, flags };
}

/**
 * `--lr -0.5`: node reads a value starting with "-" as a missing value; a value is only missing when the next
 * word is another long option (or absent), so such pairs are passed on as `--lr=-0.5`.
 */
function attachDashValues(argv: readonly string[], known: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--') && !arg.includes('=') && known.includes(arg.slice(2)) && next !== undefined && next.startsWith('-') && !next.startsWith('--')) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function usageErrorFrom(err: unknown, argv: readonly string[], known: readonly string[], booleans: readonly string[]): Error {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const named = /'(-{1,2}[^'\s=]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${named ?? message}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // A string option without a value (at the end, or followed by another option).
      const name = named ?? `--${known.find((k) => argv.includes(`--${k}`)) ?? '?'}`;
      if (booleans.includes(name.replace(/^-+/, ''))) return new UsageError(`${name} takes no value`);
      return new UsageError(`${name} needs a value`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(message);
    default:
      return err instanceof Error ? err : new UsageError(message);
  }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = stringFlag(args, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function numberFlag(args: ParsedArgs, name: string, fallback?: number): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}
