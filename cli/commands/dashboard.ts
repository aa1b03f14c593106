import { PipelineMonitor } from '../dashboard/pipelineMonitor';
import { PortInUseError, startDashboardServer } from '../dashboard/server';
import { CliError } from '../errors';
import type { TargetOptions } from '../main';

export interface DashboardOptions extends TargetOptions {
  port?: number;
  /** The data directory commands use when given none, so the empty state's hint can leave it out. */
  defaultDataDir: string;
}

/** Serves the live dashboard of the local pipeline on 127.0.0.1 until Ctrl-C. */
export async function dashboard(options: DashboardOptions): Promise<void> {
  if (options.target !== 'local') {
    throw new CliError(
      `the dashboard watches the local pipeline only (--target local); for ${options.target} use \`shardline status --target ${options.target}\``,
    );
  }
  const monitor = new PipelineMonitor({
    dataDir: options.dataDir,
    defaultDataDir: options.defaultDataDir,
  });
  monitor.start();
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    server = await startDashboardServer({ port: options.port, state: () => monitor.state() });
  } catch (error) {
    await monitor.stop();
    if (error instanceof PortInUseError) throw new CliError(error.message);
    throw error;
  }
  if (options.json) {
    console.log(JSON.stringify({ url: server.url, port: server.port, dataDir: options.dataDir }));
  } else {
    console.log(`Shardline dashboard: ${server.url}`);
    console.log(
      `  watching ${options.dataDir}; it follows \`shardline up\` as it starts and stops. Ctrl-C stops.`,
    );
  }
  await new Promise<void>((resolvePromise) => {
    const shutdown = () => resolvePromise();
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  await server.close();
  await monitor.stop();
}
