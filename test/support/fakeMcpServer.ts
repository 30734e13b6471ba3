import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * An MCP server built with the same SDK (McpServer + the Node streamable HTTP transport, stateless), on
 * loopback: a CRM-like `lookup_customer`, a tool whose name needs sanitizing, one that answers an error,
 * one that answers a lot, and one that takes its time. It records every HTTP request and tool call.
 */
export interface FakeMcpServer {
  readonly url: string;
  readonly calls: { tool: string; arguments: unknown }[];
  readonly requests: { method: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

function buildServer(calls: FakeMcpServer['calls']): McpServer {
  const server = new McpServer({ name: 'fake-crm', version: '1.0.0' });
  server.registerTool(
    'lookup_customer',
    {
      description: 'Looks a customer up by id',
      inputSchema: { id: z.string().describe('Customer id') },
      outputSchema: { id: z.string(), name: z.string(), tier: z.string() },
    },
    ({ id }) => {
      calls.push({ tool: 'lookup_customer', arguments: { id } });
      const customer = { id, name: `Customer ${id}`, tier: 'enterprise' };
      return { content: [{ type: 'text', text: JSON.stringify(customer) }], structuredContent: customer };
    },
  );
  server.registerTool(
    'orders.list',
    { description: 'Lists orders', inputSchema: { customer: z.string() } },
    ({ customer }) => {
      calls.push({ tool: 'orders.list', arguments: { customer } });
      return { content: [{ type: 'text', text: `no orders for ${customer}` }] };
    },
  );
  server.registerTool('refuse', { description: 'Always fails', inputSchema: {} }, () => {
    calls.push({ tool: 'refuse', arguments: {} });
    return { isError: true, content: [{ type: 'text', text: 'the CRM is read-only today' }] };
  });
  server.registerTool(
    'dump',
    { description: 'Answers n kilobytes', inputSchema: { kb: z.number() } },
    ({ kb }) => {
      calls.push({ tool: 'dump', arguments: { kb } });
      return { content: [{ type: 'text', text: 'x'.repeat(kb * 1024) }] };
    },
  );
  server.registerTool(
    'slow',
    { description: 'Answers after ms milliseconds', inputSchema: { ms: z.number() } },
    async ({ ms }) => {
      calls.push({ tool: 'slow', arguments: { ms } });
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  return server;
}

export async function startFakeMcpServer(): Promise<FakeMcpServer> {
  const calls: FakeMcpServer['calls'] = [];
  const requests: FakeMcpServer['requests'] = [];
  const http: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', headers: req.headers });
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    // Stateless: a server and transport per request, as the SDK's stateless example does.
    const server = buildServer(calls);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
