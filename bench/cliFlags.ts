// Command-line flags of the bench scripts: `--name value`, nothing more (the scripts are run by hand or by run-all).

export function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

export function required(name: string): string {
  const v = flag(name);
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}
