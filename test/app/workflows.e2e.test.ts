import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import {
  startScriptedModel,
  structuredResponse,
  toolUseResponse,
  type RecordedModelRequest,
  type ScriptedModel,
} from '../support/scriptedModel.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * research-report end to end on the local host: real SDK clients against the scripted model (Claude
 * roles over the Messages API, the writer over Chat Completions), web_search against a fake Tavily.
 */
const appDir = path.resolve(__dirname, '../..');
const QUESTIONS = ['What is durable execution?', 'How do agents checkpoint tool calls?'];

let host: TestHost;
let model: ScriptedModel;
let search: Server;
const searches: { query: string; authorization: string | undefined }[] = [];

const bodyText = (request: RecordedModelRequest) => JSON.stringify(request.body);
const questionOf = (request: RecordedModelRequest) =>
  QUESTIONS.find((q) => bodyText(request).includes(q)) ?? '?';

const report = {
  title: 'Durable agents',
  summary: 'Checkpoints make agents survive failures.',
  sections: [
    { heading: 'Checkpoints', body: 'Each tool call is recorded.', sources: ['https://example.org/a'] },
  ],
};

async function startFakeTavily(): Promise<Server> {
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      const { query } = JSON.parse(raw) as { query: string };
      searches.push({ query, authorization: request.headers.authorization });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          results: [{ title: `About ${query}`, url: 'https://example.org/a', content: `Facts on ${query}.` }],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  search = await startFakeTavily();
  model = await startScriptedModel({
    ordered: false,
    steps: [
      {
        name: 'plan',
        match: { protocol: 'anthropic', model: 'claude-opus-4-8' },
        respond: structuredResponse({ questions: QUESTIONS }, { inputTokens: 100, outputTokens: 20 }),
      },
      ...QUESTIONS.flatMap((question) => [
        {
          name: `search: ${question}`,
          match: (r: RecordedModelRequest) =>
            r.view?.model === 'claude-haiku-4-5' && !r.view.hasToolResult && questionOf(r) === question,
          respond: toolUseResponse('web_search', { query: question }),
        },
        {
          name: `answer: ${question}`,
          match: (r: RecordedModelRequest) =>
            r.view?.model === 'claude-haiku-4-5' && r.view.hasToolResult && questionOf(r) === question,
          respond: structuredResponse({
            question,
            answer: `Answer to ${question}`,
            confidence: 'high',
            sources: [{ url: 'https://example.org/a', title: 'A' }],
          }),
        },
      ]),
      {
        name: 'report',
        match: { protocol: 'openai', model: 'gpt-5.4' },
        respond: structuredResponse(report, { inputTokens: 300, outputTokens: 80 }),
      },
    ],
  });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'test-anthropic-key',
    ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: model.openaiBaseUrl,
    WEB_SEARCH_PROVIDER: 'tavily',
    TAVILY_API_KEY: 'test-tavily-key',
    WEB_SEARCH_BASE_URL: `http://127.0.0.1:${(search.address() as AddressInfo).port}`,
  });
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
  await new Promise((resolve) => search?.close(resolve));
});

describe('research-report on the local host with the scripted model', () => {
  it('plans, researches each question with web search, writes the report, and accounts for every call', async () => {
    const response = await fetch(`${host.host.url}/api/workflows/research-report?wait=60`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: JSON.stringify({ topic: 'Durable execution for agents', questions: 2 }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    model.assertDone();
    expect(run).toMatchObject({ status: 'Completed', outcome: 'completed', error: null, output: report });

    expect(searches.map((s) => s.query).sort()).toEqual([...QUESTIONS].sort());
    expect(searches.every((s) => s.authorization === 'Bearer test-tavily-key')).toBe(true);

    const worker = model.requests.filter((r) => r.view?.model === 'claude-haiku-4-5');
    expect(worker.every((r) => r.view?.tools.map((t) => t.name).join() === 'web_search,fetch_url')).toBe(
      true,
    );
    const answered = worker.filter((r) => r.view?.hasToolResult);
    expect(answered.every((r) => bodyText(r).includes('Facts on'))).toBe(true);
    const writer = model.requests.find((r) => r.view?.model === 'gpt-5.4');
    for (const question of QUESTIONS)
      expect(bodyText(writer as RecordedModelRequest)).toContain(`Answer to ${question}`);

    const rows = run.ledger?.rows ?? [];
    expect(rows.map((r) => [r.stepId, r.provider, r.deployment, r.calls, r.offline])).toEqual([
      ['plan', 'anthropic', 'claude-opus-4-8', 1, false],
      ['research', 'anthropic', 'claude-haiku-4-5', 4, false],
      ['report', 'openai', 'gpt-5.4', 1, false],
    ]);
    expect(rows[0]?.usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
    expect(rows[2]?.usage).toMatchObject({ inputTokens: 300, outputTokens: 80 });
    expect(rows.every((r) => r.costUsd > 0)).toBe(true);
    expect(run.ledger?.totals.calls).toBe(6);
    expect(run.ledger?.totals.costUsd).toBeGreaterThan(0);
  });
});

describe('data-analysis on the local host with the scripted model', () => {
  it('reads the data file in real JavaScript and Python sandboxes, feeds the results back, and returns the chart', async () => {
    const javascript = [
      'const rows = files["data.csv"].trim().split("\\n").slice(1).map((l) => l.split(","));',
      'const growth = rows.map(([r, a, b]) => [r, Number(b) - Number(a)]);',
      'console.log(JSON.stringify(growth));',
      'growth.sort((x, y) => y[1] - x[1])[0];',
    ].join('\n');
    const python = [
      'import base64, csv',
      'rows = list(csv.DictReader(open("in/data.csv")))',
      'png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")',
      'open("out/chart.png", "wb").write(png)',
      'print("rows", len(rows))',
    ].join('\n');
    const summary = {
      headline: 'North grew most',
      answer: 'North grew by 30.',
      findings: [{ finding: 'North +30', evidence: 'run_code' }],
      caveats: [],
      method: 'Computed in the sandbox.',
    };
    const analyst = (r: RecordedModelRequest) => r.view?.model === 'claude-haiku-4-5';
    const toolResults = (r: RecordedModelRequest) => bodyText(r).split('tool_result').length - 1;
    model.expect(
      {
        name: 'plan',
        match: { model: 'claude-opus-4-8' },
        respond: structuredResponse({
          approach: 'diff',
          steps: ['subtract'],
          columns: ['q1', 'q2'],
          caveats: [],
        }),
      },
      {
        name: 'JavaScript',
        match: (r) => analyst(r) && toolResults(r) === 0,
        respond: toolUseResponse('run_code', { language: 'javascript', code: javascript }),
      },
      {
        name: 'Python chart',
        match: (r) => analyst(r) && toolResults(r) === 1,
        respond: toolUseResponse('run_code', { language: 'python', code: python }),
      },
      {
        name: 'findings',
        match: (r) => analyst(r) && toolResults(r) === 2,
        respond: structuredResponse({
          findings: [{ statement: 'North +30', evidence: 'sandbox' }],
          dataQuality: [],
          code: javascript,
        }),
      },
      { name: 'summary', match: { model: 'gpt-5.4' }, respond: structuredResponse(summary) },
    );
    const response = await fetch(`${host.host.url}/api/workflows/data-analysis?wait=60`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: JSON.stringify({
        question: 'Which region grew most?',
        data: 'region,q1,q2\nnorth,120,150\nsouth,90,95\n',
      }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    model.assertDone();
    expect(run).toMatchObject({ workflow: 'data-analysis', outcome: 'completed', output: summary });
    const afterJs = model.requests.filter((r) => analyst(r) && toolResults(r) === 1).at(-1);
    expect(bodyText(afterJs as RecordedModelRequest)).toContain('[[\\"north\\",30],[\\"south\\",5]]');
    const afterPython = model.requests.filter((r) => analyst(r) && toolResults(r) === 2).at(-1);
    expect(bodyText(afterPython as RecordedModelRequest)).toContain('rows 2');
    expect(bodyText(afterPython as RecordedModelRequest)).toContain('chart.png');
    // The chart itself went back to the model inside the tool result, as a Claude image block.
    const results = ((afterPython?.body as { messages: { content: unknown }[] }).messages ?? [])
      .flatMap((message) =>
        Array.isArray(message.content) ? (message.content as Record<string, unknown>[]) : [],
      )
      .filter((block) => block.type === 'tool_result' && Array.isArray(block.content));
    expect(results).toHaveLength(1);
    expect(results[0]?.content).toContainEqual(
      expect.objectContaining({
        type: 'image',
        source: {
          type: 'base64',
          media_type: 'image/png',
          data: expect.stringMatching(/^iVBORw0KGgo/) as unknown,
        },
      }),
    );
    expect(run.artifacts).toEqual([
      expect.objectContaining({ name: 'chart.png', contentType: 'image/png', bytes: 70 }),
    ]);
    const blobRef = run.artifacts[0]?.blobRef ?? '';
    const [container = '', ...rest] = blobRef.split('/');
    const blob = BlobServiceClient.fromConnectionString(inject('azuriteConnectionString'))
      .getContainerClient(container)
      .getBlobClient(rest.join('/'));
    const png = await blob.downloadToBuffer();
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(run.ledger?.rows?.map((r) => [r.stepId, r.calls])).toEqual([
      ['plan', 1],
      ['analyze', 3],
      ['summary', 1],
    ]);
    // The 1x1 chart: one image of one token, booked with the call that carried it.
    expect(run.ledger?.rows?.find((r) => r.stepId === 'analyze')?.files).toMatchObject({
      images: 1,
      estimatedTokens: 1,
    });
  });
});
