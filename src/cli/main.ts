import { UsageError } from './args';
import { commands } from './commands';
import { bundledModelPath } from './commands/modelOption';
import { applyVariant, VARIANT_USAGE } from './variantOption';

function help(): string {
  const lines = ['feature-lens — look inside a language model', '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(12)} ${c.summary}`);
  lines.push('', 'Run `feature-lens <command> --help` for its options. Every command that takes --model also takes:', VARIANT_USAGE);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`feature-lens: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help')) {
    process.stdout.write(`${command.usage}${command.usage.includes('--model') ? `\n${VARIANT_USAGE}` : ''}\n`);
    return 0;
  }
  try {
    return await command.run(applyVariant(rest, command.usage.includes('--model'), () => bundledModelPath()));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`feature-lens ${name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`feature-lens ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`feature-lens: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
