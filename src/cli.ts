import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { buildApp, engineOptions, readConfig } from './app.js';
import { renderAlertText } from './alerts/render-text.js';
import { formatTestAlertResults, sendTestAlert } from './alerts/test-alert.js';
import type { Alert } from './alerts/alert.js';
import { systemClock } from './clock.js';
import { defaultConfig, type VigieConfig } from './config/load.js';
import { formatDoctor, runDoctor } from './doctor.js';
import { checkRules, formatRulesList, loadEngine, runRuleTests } from './engine/index.js';
import { ConfigError, VigieError, errorMessage, formatProblem } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { DEMO_DIR, SHIPPED_RULES_DIR } from './paths.js';
import { createMetrics, instrumentReceivers } from './metrics.js';
import { createScheduler } from './pipeline/scheduler.js';
import { startHealthServer, watchReadiness, type HealthServer } from './server.js';
import { formatSummary, replay } from './replay.js';
import { renderRulesDoc } from './rules-docs.js';

/** Exit codes (DESIGN §7): 0 ok, 1 bad input or config, 2 runtime failure. */
const EXIT_OK = 0;
const EXIT_INPUT = 1;
const EXIT_RUNTIME = 2;

const DEFAULT_CONFIG = 'config/vigie.yml';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

function configPath(opt: string | undefined): string {
  return path.resolve(opt ?? process.env.VIGIE_CONFIG ?? DEFAULT_CONFIG);
}

function loadOrExplain(file: string): VigieConfig {
  if (!fs.existsSync(file)) {
    throw new VigieError('CONFIG_INVALID', `No configuration file at ${file}. Copy config/vigie.example.yml there, or pass -c FILE.`);
  }
  return readConfig(file);
}

/** Writes alerts readably for a person (demo, console). */
function printAlerts(alerts: Alert[], io: Io): void {
  for (const a of alerts) io.out(`${renderAlertText(a)}\n\n`);
}

export function buildProgram(io: Io = stdio, log: Logger = createLogger()): { program: Command; result: { code: number } } {
  const result = { code: EXIT_OK };
  const program = new Command()
    .name('vigie')
    .description('Watches Microsoft 365, Google Workspace and IMAP mailboxes for the signs of an account takeover.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('run')
    .description('run the daemon: scheduled pulls, delivery, health server; SIGTERM finishes the page in hand and exits')
    .option('-c, --config <file>', 'configuration file', undefined)
    .action(async (o: { config?: string }) => {
      const config = loadOrExplain(configPath(o.config));
      // The metrics read the app's store, so they exist only once the app does: the hooks look them up late.
      let metrics: ReturnType<typeof createMetrics> | undefined;
      const app = buildApp(config, { log, runnerHooks: { onPage: (p) => metrics?.observePage(p), onRun: (r) => metrics?.observeRun(r) } });
      const startedAt = app.clock.now();
      metrics = createMetrics({ store: app.store, clock: app.clock });
      instrumentReceivers(app.receivers, metrics);
      const runner = app.runner;
      const streams = app.streams();
      const readiness = {
        store: app.store,
        clock: app.clock,
        streams: streams.map((s) => ({ source: s.connector.name, stream: s.stream.name, schedule: s.schedule })),
        staleIntervals: config.server.stale_after_intervals,
        maxOutboxAgeMs: config.server.max_outbox_age,
        startedAt,
      };
      let server: HealthServer;
      try {
        server = await startHealthServer({ ...readiness, listen: process.env.VIGIE_LISTEN ?? config.server.listen, metrics, log });
      } catch (err) {
        await app.close();
        throw new VigieError('CONFIG_INVALID', `The health server cannot listen on ${process.env.VIGIE_LISTEN ?? config.server.listen}: ${errorMessage(err)}`);
      }
      const stopWatch = watchReadiness({ ...readiness, receivers: [...app.receivers.keys()], log, onAlert: () => app.delivery.poke() });
      const scheduler = createScheduler({ runner, streams, log });
      const deliveryAbort = new AbortController();
      const deliveryDone = app.delivery.run(deliveryAbort.signal);
      scheduler.start();
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'Stopping: finishing the pages in hand.');
          resolve();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      await scheduler.stop();
      stopWatch();
      deliveryAbort.abort();
      await deliveryDone;
      await server.close();
      await app.close();
      log.info('Stopped cleanly.');
    });

  program
    .command('once')
    .description('one pass of every stream, then deliver and exit (cron-style use)')
    .option('-c, --config <file>', 'configuration file')
    .option('--source <name>', 'only this connector')
    .action(async (o: { config?: string; source?: string }) => {
      const config = loadOrExplain(configPath(o.config));
      if (o.source && !config.connectors.some((c) => c.name === o.source)) {
        throw new VigieError('CONFIG_INVALID', `No connector named "${o.source}" in the configuration.`);
      }
      const app = buildApp(config, { log });
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        const { failures } = await app.runOnce(o.source ? { source: o.source } : undefined, abort.signal);
        // A one-shot run does not wait for group_wait: what is due goes now, grouped.
        const report = await app.delivery.deliverDue(undefined, { flush: true });
        const pending = app.store.outboxCounts().pending;
        io.err(
          `Delivered ${report.delivered} alert message${report.delivered === 1 ? '' : 's'}` +
            (pending ? `; ${pending} waiting for a retry on the next run` : '') +
            (report.dead ? `; ${report.dead} could not be delivered (see the log)` : '') +
            '.\n',
        );
        if (failures.length) {
          for (const f of failures) io.err(`Stream ${f.source}/${f.stream} failed: ${f.error}\n`);
          result.code = EXIT_RUNTIME;
        }
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await app.close();
      }
    });

  program
    .command('check-config')
    .description('validate the configuration, the rules and the overlays; every problem with file:line')
    .option('-c, --config <file>', 'configuration file')
    .action((o: { config?: string }) => {
      const file = configPath(o.config);
      const problems = [];
      let config: VigieConfig | undefined;
      try {
        config = loadOrExplain(file);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
      problems.push(
        ...checkRules(config ? engineOptions(config, systemClock, log) : { rulesDir: SHIPPED_RULES_DIR, overlays: [], clock: systemClock, log }),
      );
      if (problems.length) {
        io.err(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} found:\n`);
        for (const p of problems) io.err(`  ${formatProblem(p)}\n`);
        result.code = EXIT_INPUT;
        return;
      }
      io.out(`${file}: configuration, rules and overlays are valid (${config!.connectors.length} connectors, ${config!.receivers.length} receivers).\n`);
    });

  program
    .command('doctor')
    .description('check every connector (credentials, permissions, licences, audit settings) and receiver, and print which rules are covered')
    .option('-c, --config <file>', 'configuration file')
    .option('--timeout <seconds>', 'limit per check', '30')
    .action(async (o: { config?: string; timeout: string }) => {
      const config = loadOrExplain(configPath(o.config));
      const app = buildApp(config, { log, statePath: ':memory:' });
      try {
        const report = await runDoctor({
          config,
          connectors: app.connectors,
          rules: app.engine.rules,
          clock: app.clock,
          log,
          timeoutMs: Math.max(1, Number(o.timeout) || 30) * 1000,
        });
        io.out(formatDoctor(report));
        if (report.problems) result.code = EXIT_RUNTIME;
      } finally {
        await app.close();
      }
    });

  program
    .command('replay')
    .description('run the rules over exported records (provider JSON/JSONL, server logs, or Vigie events); alerts as JSONL on stdout')
    .argument('<input...>', 'files to read')
    .option('-c, --config <file>', 'configuration file (default: shipped rules, defaults, domains taken from the input)')
    .option('-o, --output <file>', 'write the alerts here instead of stdout')
    .option('--state <file>', 'keep state in this SQLite file instead of memory')
    .option('--notify', 'send the alerts through the configured receivers', false)
    .action(async (inputs: string[], o: { config?: string; output?: string; state?: string; notify: boolean }) => {
      const config = o.config ? loadOrExplain(configPath(o.config)) : undefined;
      if (o.notify && !config) throw new VigieError('CONFIG_INVALID', '--notify needs a configuration file (-c) that declares receivers.');
      const { alerts, summary } = await replay({
        inputs,
        ...(config ? { config } : {}),
        ...(o.state ? { statePath: path.resolve(o.state) } : {}),
        notify: o.notify,
        clock: systemClock,
        log,
      });
      const lines = alerts.map((a) => `${JSON.stringify(a)}\n`).join('');
      if (o.output) fs.writeFileSync(o.output, lines);
      else io.out(lines);
      io.err(`${formatSummary(summary)}\n`);
    });

  program
    .command('demo')
    .description('replay the bundled dataset (a week of a small party, then a takeover) and print the alerts')
    .action(async () => {
      const config = readConfig(path.join(DEMO_DIR, 'vigie.yml'));
      const { alerts, summary } = await replay({
        inputs: config.connectors.flatMap((c) => ((c as unknown as { paths?: string[] }).paths ?? []).map((p) => path.resolve(config.baseDir, p))),
        config,
        notify: false,
        clock: systemClock,
        log,
      });
      io.out(`Vigie demo: ${config.organisation.name}, ${summary.records} events replayed.\n\n`);
      // A story reads in time order; the files were replayed one provider after the other.
      printAlerts([...alerts].sort((a, b) => Date.parse(a.time) - Date.parse(b.time)), io);
      io.out(`${formatSummary(summary)}\n`);
    });

  program
    .command('test-alert')
    .description('send a sample alert through the configured receivers')
    .option('-c, --config <file>', 'configuration file')
    .option('--receiver <name>', 'only this receiver')
    .action(async (o: { config?: string; receiver?: string }) => {
      const config = loadOrExplain(configPath(o.config));
      const app = buildApp(config, { log, statePath: ':memory:' });
      try {
        const results = await sendTestAlert({
          receivers: app.receivers,
          clock: app.clock,
          locale: config.organisation.locale,
          ...(o.receiver ? { receiver: o.receiver } : {}),
        });
        io.out(`${formatTestAlertResults(results)}\n`);
        const failed = results.filter((r) => r.status !== 'ok').length;
        if (failed) result.code = EXIT_RUNTIME;
      } finally {
        await app.close();
      }
    });

  const rules = program.command('rules').description('the rule catalogue');
  rules
    .command('list')
    .description('every rule with its category, severity, status, and whether it is enabled (and why not)')
    .option('-c, --config <file>', 'configuration file (for overlays)')
    .action((o: { config?: string }) => {
      const config = o.config || fs.existsSync(configPath(undefined)) ? loadOrExplain(configPath(o.config)) : defaultConfig();
      const engine = loadEngine(engineOptions(config, systemClock, log));
      io.out(`${formatRulesList(engine)}\n`);
    });
  rules
    .command('docs')
    .description('print the rule reference (docs/rules.md) generated from rules/')
    .action(() => {
      io.out(renderRulesDoc(SHIPPED_RULES_DIR));
    });
  rules
    .command('test')
    .description("run every rule's inline tests")
    .action(() => {
      const results = runRuleTests({ rulesDir: SHIPPED_RULES_DIR, overlays: [], clock: systemClock, log });
      const failed = results.filter((r) => !r.passed);
      for (const r of failed) io.err(`FAIL ${r.rule} — ${r.test}: ${r.message ?? ''}\n`);
      io.out(`${results.length - failed.length} passed, ${failed.length} failed\n`);
      if (failed.length) result.code = EXIT_INPUT;
    });

  return { program, result };
}

/** Runs the CLI and returns the exit code. Errors become a clear message, never a stack trace. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  // The daemon and cron runs log their progress; commands a person reads only log problems.
  const command = argv[2];
  const log = createLogger({ level: process.env.VIGIE_LOG_LEVEL ?? (command === 'run' || command === 'once' ? 'info' : 'warn') });
  const { program, result } = buildProgram(io, log);
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_INPUT;
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return EXIT_INPUT;
    }
    if (err instanceof VigieError && (err.code === 'CONFIG_INVALID' || err.code === 'INPUT_INVALID' || err.code === 'RULES_INVALID')) {
      io.err(`${err.message}\n`);
      return EXIT_INPUT;
    }
    io.err(`vigie: ${errorMessage(err)}\n`);
    log.error({ error: errorMessage(err), code: err instanceof VigieError ? err.code : undefined }, 'Vigie stopped on an error.');
    return EXIT_RUNTIME;
  }
}
