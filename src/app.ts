import { createFileConnector, fileConnectorSchema } from '../connectors/file/index.js';
import {
  createGoogleWorkspaceConnector,
  GOOGLE_WORKSPACE_DEFAULT_OVERLAP_MS,
  googleWorkspaceConnectorSchema,
  googleWorkspaceFormats,
  googleWorkspaceSecrets,
  googleWorkspaceStreamSchedule,
} from '../connectors/google-workspace/index.js';
import { createImapConnector, imapConnectorSchema, imapFormats, imapSecrets } from '../connectors/imap/index.js';
import {
  createMicrosoft365Connector,
  microsoft365ConnectorSchema,
  microsoft365Formats,
  microsoft365Secrets,
  microsoft365StreamSchedule,
  purviewCsvTextFormat,
} from '../connectors/microsoft-365/index.js';
import { createDeliveryWorker } from './alerts/delivery.js';
import type { RouteConfig } from './alerts/routing.js';
import { systemClock, type Clock } from './clock.js';
import { loadConfig, type ComponentType, type VigieConfig } from './config/load.js';
import { createMemoryState, loadEngine, type LoadEngineOptions } from './engine/index.js';
import type { Engine } from './engine/types.js';
import { createEnricher } from './enrich/index.js';
import { enrichOptionsFromConfig } from './enrich/from-config.js';
import { ConfigError, errorMessage } from './errors.js';
import type { Logger } from './log.js';
import type { Connector } from './pipeline/connector.js';
import { createFormatRegistry, type FormatRegistry } from './pipeline/formats.js';
import { createProcessor, type Processor } from './pipeline/process.js';
import { Runner, type RunnerOptions, type RunReport, type StreamSettings } from './pipeline/runner.js';
import type { ScheduledStream } from './pipeline/scheduler.js';
import { SHIPPED_RULES_DIR } from './paths.js';
import type { Receiver } from './receivers/receiver.js';
import { buildReceiver, RECEIVER_TYPES } from './receivers/index.js';
import { Store } from './store/store.js';

/**
 * The one file that knows every connector and receiver type. The rest of src/ only sees the
 * contracts in pipeline/connector.ts and receivers/receiver.ts.
 */
export const CONNECTOR_TYPES: Record<string, ComponentType> = {
  file: { schema: fileConnectorSchema },
  imap: { schema: imapConnectorSchema, secrets: imapSecrets },
  'microsoft-365': { schema: microsoft365ConnectorSchema, secrets: microsoft365Secrets },
  'google-workspace': { schema: googleWorkspaceConnectorSchema, secrets: googleWorkspaceSecrets },
};

export { RECEIVER_TYPES };

/** Default overlap per connector type when the config does not set one (DESIGN §4). */
const DEFAULT_OVERLAP_MS: Record<string, number> = { file: 0, imap: 0, 'google-workspace': GOOGLE_WORKSPACE_DEFAULT_OVERLAP_MS };

export function readConfig(file: string): VigieConfig {
  return loadConfig(file, { connectorTypes: CONNECTOR_TYPES, receiverTypes: RECEIVER_TYPES });
}

/** Every raw format the connectors can read, for the file connector and `vigie replay`. */
export function formatRegistry(): FormatRegistry {
  const records = [...microsoft365Formats, ...googleWorkspaceFormats];
  return createFormatRegistry({ records, texts: [...(imapFormats.texts ?? []), purviewCsvTextFormat(records)] });
}

type ConnectorEntry = VigieConfig['connectors'][number];

function buildConnector(entry: ConnectorEntry, config: VigieConfig, formats: FormatRegistry, clock: Clock, log: Logger): Connector {
  switch (entry.type) {
    case 'google-workspace':
      return createGoogleWorkspaceConnector(entry as unknown as Parameters<typeof createGoogleWorkspaceConnector>[0], {
        baseDir: config.baseDir,
        domains: config.organisation.domains,
        clock,
        log,
      });
    case 'microsoft-365':
      return createMicrosoft365Connector(entry as unknown as Parameters<typeof createMicrosoft365Connector>[0], {
        baseDir: config.baseDir,
        domains: config.organisation.domains,
        clock,
        log,
      });
    case 'imap':
      return createImapConnector(entry as unknown as Parameters<typeof createImapConnector>[0], { baseDir: config.baseDir, domains: config.organisation.domains, clock });
    case 'file':
      return createFileConnector(entry as unknown as Parameters<typeof createFileConnector>[0], { baseDir: config.baseDir, formats });
    default:
      throw new ConfigError([{ file: config.file ?? '(config)', path: `connectors.${entry.name}.type`, message: `unknown connector type "${entry.type}"` }]);
  }
}

/** What the engine needs from a config: the rules folder, the overlays, and the lists the config feeds. */
export function engineOptions(config: VigieConfig, clock: Clock, log: Logger): LoadEngineOptions {
  return {
    rulesDir: config.rules.dir ?? SHIPPED_RULES_DIR,
    overlays: config.rules.overlays,
    lists: { 'sensitive-mailboxes': config.organisation.sensitive_mailboxes },
    clock,
    log,
  };
}

export interface AppOptions {
  /** Observers of the runner (the daemon's metrics): called after each page and each run. */
  runnerHooks?: Pick<RunnerOptions, 'onPage' | 'onRun'>;
  clock?: Clock;
  log: Logger;
  /** Overrides `state.path` (`:memory:` for replay). */
  statePath?: string;
  /** Where console receivers write (default stdout). */
  write?: (s: string) => void;
  /** Build only these receivers (`vigie replay` without `--notify` builds none). */
  withReceivers?: boolean;
  engine?: Engine;
  /** Keep detector state in memory, not in the store (replays without a state file). */
  memoryDetectorState?: boolean;
}

export interface App {
  config: VigieConfig;
  clock: Clock;
  log: Logger;
  store: Store;
  engine: Engine;
  processor: Processor;
  runner: Runner;
  connectors: Connector[];
  receivers: Map<string, Receiver>;
  delivery: ReturnType<typeof createDeliveryWorker>;
  streams(filter?: { source?: string }): ScheduledStream[];
  /** One pass of every (or one source's) stream, in order. Failures are reported, not thrown. */
  runOnce(filter?: { source?: string }, signal?: AbortSignal): Promise<{ reports: RunReport[]; failures: Array<{ source: string; stream: string; error: string }> }>;
  close(): Promise<void>;
}

export function buildApp(config: VigieConfig, opts: AppOptions): App {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  for (const warning of config.warnings ?? []) log.warn({ warning }, 'Configuration warning.');
  // Rules and receivers are built before the store opens: a bad config never touches the state.
  const engine =
    opts.engine ??
    loadEngine(engineOptions(config, clock, log.child({ component: 'engine' })));
  const receivers = new Map<string, Receiver>();
  if (opts.withReceivers !== false) {
    for (const r of config.receivers) receivers.set(r.name, buildReceiver(r, { clock, locale: config.organisation.locale, ...(opts.write ? { write: opts.write } : {}) }));
  }
  const formats = formatRegistry();
  const connectors = config.connectors.filter((c) => c.enabled).map((c) => buildConnector(c, config, formats, clock, log.child({ component: 'connector', source: c.name })));
  const store = Store.open({ path: opts.statePath ?? config.state.path, clock });
  const delivery = createDeliveryWorker({
    store,
    receivers,
    clock,
    log: log.child({ component: 'delivery' }),
    retryBudgetMs: config.delivery.retry_budget,
    initialBackoffMs: config.delivery.initial_backoff,
    maxBackoffMs: config.delivery.max_backoff,
    groupWaitMs: config.delivery.group_wait,
    locale: config.organisation.locale,
  });
  const processor = createProcessor({
    store,
    engine,
    enrich: createEnricher(enrichOptionsFromConfig(config, config.rules.dir ?? SHIPPED_RULES_DIR)),
    routes: config.routes as RouteConfig[],
    receivers: [...receivers.keys()],
    clock,
    log,
    seenTtlMs: config.state.seen_ttl,
    silences: config.silences ?? [],
    ...(opts.memoryDetectorState ? { detectorState: createMemoryState() } : {}),
  });
  const runner = new Runner({ store, processor, clock, log, onCommit: () => delivery.poke(), retentionMs: config.state.history_days * 86_400_000, ...opts.runnerHooks });

  const entryOf = (c: Connector) => config.connectors.find((e) => e.name === c.name)!;
  const streams = (filter?: { source?: string }): ScheduledStream[] =>
    connectors
      .filter((c) => !filter?.source || c.name === filter.source)
      .flatMap((c) => {
        const e = entryOf(c);
        return c.streams.map((stream) => {
          const settings: StreamSettings = {
            backfillMs: e.backfill,
            overlapMs: e.overlap ?? DEFAULT_OVERLAP_MS[e.type] ?? 0,
            learnFromBackfill: stream.kind === 'log' ? stream.learnFromBackfill ?? true : false,
          };
          const schedule =
            e.type === 'microsoft-365'
              ? (microsoft365StreamSchedule(e as never, stream.name) ?? e.schedule)
              : e.type === 'google-workspace'
                ? googleWorkspaceStreamSchedule(e as never, stream.name, e.schedule)
                : e.schedule;
          return { connector: c, stream, schedule, settings };
        });
      });

  return {
    config,
    clock,
    log,
    store,
    engine,
    processor,
    runner,
    connectors,
    receivers,
    delivery,
    streams,
    async runOnce(filter, signal = new AbortController().signal) {
      const reports: RunReport[] = [];
      const failures: Array<{ source: string; stream: string; error: string }> = [];
      for (const s of streams(filter)) {
        try {
          reports.push(await runner.runStream(s.connector, s.stream, s.settings, signal));
        } catch (err) {
          failures.push({ source: s.connector.name, stream: s.stream.name, error: errorMessage(err) });
        }
        if (signal.aborted) break;
      }
      return { reports, failures };
    },
    async close() {
      for (const c of connectors) await c.close?.();
      store.close();
    },
  };
}
