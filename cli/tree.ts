// The whole `conclave` command tree on @effect/cli: kv and cluster defined natively
// (cli/client-commands.ts), every command with its own parser as a pass-through command.
import * as Args from '@effect/cli/Args';
import * as CliConfig from '@effect/cli/CliConfig';
import * as Command from '@effect/cli/Command';
import * as ValidationError from '@effect/cli/ValidationError';
import * as NodeFileSystem from '@effect/platform-node/NodeFileSystem';
import * as NodePath from '@effect/platform-node/NodePath';
import * as NodeTerminal from '@effect/platform-node/NodeTerminal';
import * as Cause from 'effect/Cause';
import * as Console from 'effect/Console';
import * as Effect from 'effect/Effect';
import * as Exit from 'effect/Exit';
import * as Layer from 'effect/Layer';
import * as Option from 'effect/Option';
import { clientCommands, processIo, type Io } from './client-commands.js';
import { ownParserCommands } from './commands.js';

/** A command whose arguments go verbatim to its own parser (treeMain puts `--` in front of
 *  them, so @effect/cli's built-ins such as --help reach that parser too). */
function passThrough(name: string, box: { code: number }) {
  const c = ownParserCommands[name]!;
  return Command.make(name, { args: Args.text({ name: 'ARGS' }).pipe(Args.repeated) }, ({ args }) =>
    Effect.promise(async () => {
      box.code = await (await c.load())(args);
    }),
  ).pipe(Command.withDescription(`${c.summary} (its own options: conclave ${name} --help)`));
}

export function conclaveCommand(io: Io, box: { code: number }) {
  const { kv, cluster } = clientCommands(io, box);
  // The subcommands' parsed values differ in type; the tree only needs them as commands.
  type Any = Command.Command<string, never, never, unknown>;
  const subs: [Any, ...Any[]] = [kv as Any, cluster as Any, ...Object.keys(ownParserCommands).map((n) => passThrough(n, box) as Any)];
  return Command.make('conclave').pipe(Command.withSubcommands(subs));
}

/** Run argv (without the `conclave`) through the tree; returns the exit code. */
export async function treeMain(argv: readonly string[], io: Io = processIo): Promise<number> {
  const box = { code: 0 };
  const run = Command.run(conclaveCommand(io, box), { name: 'conclave', version: '0.1.0' });
  const [name, ...rest] = argv;
  const args = name !== undefined && name in ownParserCommands ? [name, '--', ...rest] : [...argv];
  // @effect/cli writes help and errors in ANSI colors; plain text when not on a terminal.
  const plain = (stream: NodeJS.WriteStream) => stream.isTTY !== true || process.env['NO_COLOR'] !== undefined;
  // eslint-disable-next-line no-control-regex
  const strip = (xs: readonly unknown[]) => xs.map((x) => (typeof x === 'string' ? x.replace(/\x1b\[[0-9;]*m/g, '') : x));
  const withPlainText = <A, E, R>(e: Effect.Effect<A, E, R>) =>
    Console.consoleWith((c) =>
      Effect.withConsole(e, {
        ...c,
        log: (...xs: readonly unknown[]) => c.log(...(plain(process.stdout) ? strip(xs) : xs)),
        error: (...xs: readonly unknown[]) => c.error(...(plain(process.stderr) ? strip(xs) : xs)),
      }),
    );
  const program = run(['node', 'conclave', ...args]).pipe(withPlainText, Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer, CliConfig.layer({ showBuiltIns: false }))));
  const exit = await Effect.runPromiseExit(program);
  if (Exit.isSuccess(exit)) return box.code;
  const failure = Cause.failureOption(exit.cause);
  if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) return 2; // @effect/cli printed why
  io.err(`conclave ${name ?? ''}: internal error: ${Cause.pretty(exit.cause)}\n`);
  return 3;
}
