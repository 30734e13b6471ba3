import { describe, expect, it } from 'vitest';
import type { ArtifactActivities } from '../../src/activities/artifacts.js';
import { SaveArtifactInput } from '../../src/shared/artifactTypes.js';
import { toolActivityName } from '../../src/shared/names.js';
import type { ToolCallResult } from '../../src/shared/toolTypes.js';
import { loadSettings } from '../../src/config/index.js';
import { parseModelConfig } from '../../src/config/models.js';
import { startOfflineModelServer } from '../../src/offline/offlineModelServer.js';
import { claudeMessagesCreate, createToolRegistry, toolRegistryOf } from '../../src/tools/registry.js';

/** In-memory stand-in for blob storage, with the same input contract as the real activity. */
function memoryArtifacts() {
  const blobs = new Map<string, Buffer>();
  const artifacts: ArtifactActivities = {
    saveArtifact(raw) {
      const input = SaveArtifactInput.parse(raw);
      const bytes = Buffer.from(
        input.content ?? input.contentBase64 ?? '',
        input.content ? 'utf8' : 'base64',
      );
      const blobRef = `mem/${input.runId}/${input.name}`;
      blobs.set(blobRef, bytes);
      return Promise.resolve({ blobRef, bytes: bytes.length });
    },
    loadArtifact(ref) {
      const bytes = blobs.get(ref);
      return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`no ${ref}`));
    },
    loadText: (ref) => artifacts.loadArtifact(ref).then((b) => b.toString('utf8')),
    loadJson: (ref) => artifacts.loadText(ref).then((t) => JSON.parse(t) as unknown),
  };
  return { artifacts, blobs };
}

/** The registry's settings with nothing set: the offline model, no search provider, run_code defaults. */
const settings = loadSettings({});
const { models, web } = settings;

describe('tool registry', () => {
  it('offers run_code, web_search and fetch_url, each as its own activity with a model-ready spec', () => {
    const registry = createToolRegistry({ ...memoryArtifacts(), models, web, runCode: settings.runCode });
    expect(registry.names()).toEqual(['fetch_url', 'run_code', 'web_search']);
    const specs = registry.toolSpecs();
    expect(Object.keys(specs).sort()).toEqual(registry.names());
    for (const [name, spec] of Object.entries(specs)) {
      expect(spec.name).toBe(name);
      expect(spec.description.length).toBeGreaterThan(20);
      expect(spec.inputSchema).toMatchObject({ type: 'object' });
    }
    expect(registry.registrations().map((r) => r.activityName)).toEqual(
      registry.names().map(toolActivityName),
    );
  });

  it('stores files a tool writes under the run, step and tool call, and reads input files', async () => {
    const memory = memoryArtifacts();
    memory.blobs.set('mem/run-9/input/data.csv', Buffer.from('a,b\n1,2\n'));
    const registry = createToolRegistry({ ...memory, models, web, runCode: settings.runCode });
    const runCode = registry.registrations().find((r) => r.activityName === toolActivityName('run_code'));
    const result = (await runCode?.handler({
      runId: 'run-9',
      stepId: 'analyse',
      toolUseId: 'toolu_1',
      name: 'run_code',
      arguments: {
        language: 'javascript',
        code: 'writeFile("out.txt", files["data.csv"].toUpperCase()); 42',
      },
      inputFiles: [
        { name: 'data.csv', blobRef: 'mem/run-9/input/data.csv', contentType: 'text/csv', bytes: 8 },
      ],
    })) as ToolCallResult;
    expect(result.isError, result.content).toBe(false);
    expect(result.artifacts).toEqual([
      { name: 'out.txt', blobRef: 'mem/run-9/analyse/toolu_1/out.txt', contentType: 'text/plain', bytes: 8 },
    ]);
    expect(memory.blobs.get('mem/run-9/analyse/toolu_1/out.txt')?.toString()).toBe('A,B\n1,2\n');
  });

  it('rejects duplicate names and names a provider would refuse', () => {
    const tool = (name: string) => ({
      spec: { name, description: 'd', inputSchema: { type: 'object' } },
      handler: () => Promise.reject(new Error('unused')),
    });
    expect(() => toolRegistryOf([tool('a'), tool('a')])).toThrow('Two tools are named "a"');
    expect(() => toolRegistryOf([tool('has space')])).toThrow();
  });

  it('gives WEB_SEARCH_PROVIDER=claude a Claude client from the model configuration, none offline', async () => {
    expect(claudeMessagesCreate(parseModelConfig({}))).toBeUndefined();
    expect(claudeMessagesCreate(parseModelConfig({ OPENAI_API_KEY: 'k' }))).toBeUndefined();
    const server = await startOfflineModelServer();
    try {
      const create = claudeMessagesCreate(
        parseModelConfig({ ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: server.anthropicBaseUrl }),
      );
      const answer = await create?.({
        model: 'claude-sonnet-4-6',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hello' }],
      });
      expect(answer).toMatchObject({ type: 'message', role: 'assistant' });
      expect(server.requests[0]?.path).toBe('/v1/messages');
      expect(server.requests[0]?.credential).toBeDefined();
    } finally {
      await server.stop();
    }
  });
});
