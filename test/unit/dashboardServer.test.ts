import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardState } from '../../cli/dashboard/dashboardState';
import { type DashboardServer, isLoopbackHost, startDashboardServer } from '../../cli/dashboard/server';

const state: DashboardState = {
  status: 'not-running',
  generatedAt: '2026-11-01T00:00:00.000Z',
  dataDir: '/tmp/run',
  startCommand: 'npx shardline up --data-dir /tmp/run',
};

let server: DashboardServer;
beforeAll(async () => {
  server = await startDashboardServer({ state: () => state });
});
afterAll(() => server.close());

/** A GET with an explicit Host header (fetch will not let a test set one). */
function get(path: string, host = `127.0.0.1:${server.port}`) {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers: { host } }, (response) => {
      let body = '';
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard server', () => {
  it('listens on 127.0.0.1 on a free port when none is given', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves the state as JSON', async () => {
    const response = await get('/api/state');
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual(state);
  });

  it('serves the page and its scripts, which load nothing from the network', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    for (const path of ['/dashboard.js', '/charts.js', '/dashboard.css']) {
      const file = await get(path);
      expect(file.status, path).toBe(200);
      expect(file.body, path).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    expect(page.body).not.toMatch(/https?:\/\//);
  });

  it('answers 404 for anything else, including paths that try to leave the page directory', async () => {
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/../server.ts')).status).toBe(404);
    expect((await get('/%2e%2e/server.ts')).status).toBe(404);
  });

  it('refuses a request for another host name (DNS rebinding)', async () => {
    expect((await get('/api/state', `evil.example:${server.port}`)).status).toBe(403);
  });

  it('accepts localhost and 127.0.0.1 on its own port only', () => {
    expect(isLoopbackHost('localhost:8080', 8080)).toBe(true);
    expect(isLoopbackHost('127.0.0.1:8080', 8080)).toBe(true);
    expect(isLoopbackHost('127.0.0.1:8081', 8080)).toBe(false);
    expect(isLoopbackHost(undefined, 8080)).toBe(false);
  });

  it('says which port is taken and what to do', async () => {
    await expect(startDashboardServer({ port: server.port, state: () => state })).rejects.toThrow(
      `port ${server.port} on 127.0.0.1 is in use: pick another with --port, or leave --port out for a free one`,
    );
  });
});
