import { describe, expect, it } from 'vitest';
import { agentLoopOrchestrator } from '../../../src/orchestrators/agentLoop.js';
import {
  COMPACTION_SYSTEM,
  compactedMessages,
  planCompaction,
} from '../../../src/orchestrators/transcript.js';
import type {
  CallModelInput,
  CallModelResult,
  LegacyTranscriptRef,
  ModelMessage,
  TranscriptRef,
} from '../../../src/shared/modelTypes.js';
import { emptyLedger } from '../../../src/orchestrators/ledger.js';
import { AgentLoopInput, type AgentProgress } from '../../../src/shared/runTypes.js';
import type { ToolCallInput } from '../../../src/shared/toolTypes.js';
import { jsonChars } from '../../../src/shared/transcripts.js';
import { FakeOrchestrationContext, drive } from '../../fakes/orchestrationContext.js';
import {
  NOW,
  answer,
  failure,
  runtime,
  scripted,
  structured,
  toolResult,
  toolUse,
  transcriptOf,
  usage,
} from './scriptedRuntime.js';
import { TOOLS, runAgent } from './workflowFixtures.js';

const baseInput = (extra: Partial<AgentLoopInput> = {}): AgentLoopInput => ({
  runId: 'run-1',
  stepId: 'research',
  role: 'worker',
  system: 'Be thorough.',
  prompt: 'Find the tide tables.',
  tools: [TOOLS.web_search, TOOLS.run_code],
  maxTurns: 6,
  ...extra,
});

const echoTool = (input: ToolCallInput) =>
  toolResult(input, `${input.name}(${JSON.stringify(input.arguments)})`, input.name === 'run_code');

/** The transcript a callModel input carries, inline or resolved from its snapshot, as callModel reads it. */
const inline = (input: CallModelInput | undefined): ModelMessage[] => {
  if (!input) throw new Error('expected a model call');
  return transcriptOf(input.messages);
};

describe('agentLoop', () => {
  it("passes the step's tool limits and input files to every tool call and returns what the tools produced", () => {
    const chart = {
      name: 'chart.png',
      blobRef: 'agent-artifacts/run-1/chart.png',
      contentType: 'image/png',
      bytes: 68,
    };
    const data = {
      name: 'data.csv',
      blobRef: 'agent-artifacts/run-1/inputs/research/data.csv',
      contentType: 'text/csv',
      bytes: 12,
    };
    const { output, context } = runAgent(baseInput({ toolLimits: { timeoutMs: 2000 }, inputFiles: [data] }), {
      model: scripted([
        toolUse([{ id: 'tu1', name: 'run_code', input: { code: 'plot()' } }]),
        answer('Plotted.'),
      ]),
      tool: (input) => ({ ...toolResult(input, 'files written: chart.png'), artifacts: [chart] }),
    });
    expect(context.calls.find((c) => c.name === 'tool_run_code')?.input).toMatchObject({
      limits: { timeoutMs: 2000 },
      inputFiles: [data],
    });
    expect(output).toMatchObject({ outcome: 'completed', artifacts: [chart] });
  });

  it('books the model calls a tool paid for (the Claude web-search side call) in the step’s ledger', () => {
    const spend = {
      provider: 'anthropic' as const,
      deployment: 'claude-haiku-4-5',
      usage: { inputTokens: 2_000, outputTokens: 300, cacheWriteTokens: 0, cacheReadTokens: 1_000 },
      webSearches: 2,
      costUsd: 0.0236,
      priced: true,
    };
    const { output: finished } = runAgent(baseInput(), {
      model: scripted([
        toolUse([{ id: 'tu1', name: 'web_search', input: { query: 'tides' } }]),
        toolUse([{ id: 'tu2', name: 'web_search', input: { query: 'moon' } }]),
        answer('High tide at 6.'),
      ]),
      tool: (input) => ({ ...toolResult(input, 'results'), spend: [spend] }),
    });
    const output = finished!;
    expect(output.outcome).toBe('completed');
    expect(output.ledger.rows.find((row) => row.role === 'tool:web_search')).toEqual({
      stepId: 'research',
      role: 'tool:web_search',
      provider: 'anthropic',
      deployment: 'claude-haiku-4-5',
      calls: 2,
      usage: { inputTokens: 4_000, outputTokens: 600, cacheWriteTokens: 0, cacheReadTokens: 2_000 },
      costUsd: 0.0472,
      offline: false,
    });
    const modelUsd = output.ledger.rows
      .filter((row) => row.role === 'worker')
      .reduce((sum, row) => sum + row.costUsd, 0);
    expect(output.ledger.totals.costUsd).toBeCloseTo(modelUsd + 0.0472, 10);
  });

  it('runs the requested tool calls in parallel and feeds the results back in order', () => {
    const { output, context, observed } = runAgent(baseInput(), {
      model: scripted([
        toolUse(
          [
            { id: 'tu1', name: 'web_search', input: { query: 'tides' } },
            { id: 'tu2', name: 'run_code', input: { code: '1+1' } },
          ],
          'Let me look.',
        ),
        answer('High tide at 6.'),
      ]),
      tool: echoTool,
    });

    expect(observed.rounds.map((round) => round.map((t) => t.name))).toEqual([
      ['tool_web_search', 'tool_run_code'],
    ]);
    expect(context.calls.filter((c) => c.name === 'tool_web_search')[0]?.input).toEqual({
      runId: 'run-1',
      stepId: 'research',
      toolUseId: 'tu1',
      name: 'web_search',
      arguments: { query: 'tides' },
    });
    expect(observed.models[0]).toMatchObject({
      role: 'worker',
      system: 'Be thorough.',
      tools: [TOOLS.web_search, TOOLS.run_code],
    });
    expect(inline(observed.models[1]).at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', toolUseId: 'tu1', content: 'web_search({"query":"tides"})', isError: false },
        { type: 'tool_result', toolUseId: 'tu2', content: 'run_code({"code":"1+1"})', isError: true },
      ],
    });
    expect(output).toMatchObject({ outcome: 'completed', output: 'High tide at 6.', turns: 2, toolCalls: 2 });
    expect(output?.ledger.rows).toMatchObject([{ stepId: 'research', calls: 2 }]);
    expect(context.customStatuses.at(-1)).toEqual({
      stepId: 'research',
      generation: 0,
      turn: 2,
      maxTurns: 6,
      toolCalls: 2,
      usage: { inputTokens: 200, outputTokens: 100, cacheWriteTokens: 0, cacheReadTokens: 0 },
      costUsd: 0.02,
    } satisfies AgentProgress);
  });

  it('answers a tool outside the allow-list with an error result and calls nothing for it', () => {
    const { observed, context } = runAgent(baseInput({ tools: [TOOLS.web_search] }), {
      model: scripted([
        toolUse([
          { id: 'tu1', name: 'run_code', input: { code: 'rm -rf /' } },
          { id: 'tu2', name: 'web_search', input: { query: 'x' } },
        ]),
        answer('done'),
      ]),
      tool: echoTool,
    });
    expect(context.calls.filter((c) => c.name?.startsWith('tool_')).map((c) => c.name)).toEqual([
      'tool_web_search',
    ]);
    expect(inline(observed.models[1]).at(-1)?.content).toEqual([
      {
        type: 'tool_result',
        toolUseId: 'tu1',
        content: 'Tool "run_code" is not available in this step (available: web_search).',
        isError: true,
      },
      { type: 'tool_result', toolUseId: 'tu2', content: 'web_search({"query":"x"})', isError: false },
    ]);
  });

  it('caps tool output before it enters the transcript', () => {
    const { observed } = runAgent(baseInput({ options: { agent: { toolResultMaxChars: 300 } } }), {
      model: scripted([toolUse([{ id: 'tu1', name: 'web_search' }]), answer('ok')]),
      tool: (input) => toolResult(input, 'x'.repeat(1_000)),
    });
    const block = inline(observed.models[1]).at(-1)?.content[0];
    expect(block?.type === 'tool_result' && block.content).toBe(
      `${'x'.repeat(300)}\n…[truncated 700 characters]`,
    );
  });

  it('continues a paused turn by resending the assistant turn as returned, with no user turn after it', () => {
    const { output, observed } = runAgent(baseInput(), {
      model: scripted([
        answer('Searching the tide tables…', { stopReason: 'pause_turn' }),
        answer('', { stopReason: 'pause_turn' }),
        answer('High tide at 6.'),
      ]),
    });
    const prompt: ModelMessage = { role: 'user', content: [{ type: 'text', text: 'Find the tide tables.' }] };
    const paused: ModelMessage = {
      role: 'assistant',
      content: [{ type: 'text', text: 'Searching the tide tables…' }],
    };
    expect(inline(observed.models[1])).toEqual([prompt, paused]);
    // The second pause came back empty: nothing is appended, so no empty assistant turn goes out.
    expect(inline(observed.models[2])).toEqual([prompt, paused]);
    expect(output).toMatchObject({ outcome: 'completed', output: 'High tide at 6.', turns: 3 });
  });

  it('bounds pause_turn continuations by maxTurns', () => {
    const { output, observed } = runAgent(baseInput({ maxTurns: 2 }), {
      model: scripted([
        answer('Still searching…', { stopReason: 'pause_turn' }),
        answer('Still searching…', { stopReason: 'pause_turn' }),
      ]),
    });
    expect(observed.models).toHaveLength(2);
    expect(output).toMatchObject({ outcome: 'max_turns', turns: 2, text: 'Still searching…' });
  });

  it('returns the structured answer when the step has an outputSchema', () => {
    const { output, observed } = runAgent(baseInput({ outputSchema: { type: 'object' } }), {
      model: scripted([structured({ tide: '6am' })]),
    });
    expect(observed.models[0]?.outputSchema).toEqual({ type: 'object' });
    expect(output).toMatchObject({ outcome: 'completed', output: { tide: '6am' } });
  });

  it('stops at maxTurns with a max_turns outcome and the last text, without running tools it would never read', () => {
    let n = 0;
    const { output, context } = runAgent(baseInput({ maxTurns: 3 }), {
      model: () => toolUse([{ id: `tu${++n}`, name: 'web_search' }], `thinking ${n}`),
      tool: echoTool,
    });
    expect(output).toMatchObject({
      outcome: 'max_turns',
      output: null,
      text: 'thinking 3',
      turns: 3,
      toolCalls: 2,
    });
    expect(context.calls.filter((c) => c.name === 'callModel')).toHaveLength(3);
  });

  it('stops when the budget is spent', () => {
    const { output } = runAgent(baseInput({ budget: { maxCostUsd: 1 } }), {
      model: () => toolUse([{ id: 'tu', name: 'web_search' }], '', { costUsd: 0.4 }),
      tool: echoTool,
    });
    expect(output).toMatchObject({
      outcome: 'budget_exceeded',
      turns: 3,
      error: { kind: 'BudgetExceeded', message: 'spent $1.20 of $1.00 budget (stopped after turn 3)' },
    });
    expect(output?.ledger.totals.costUsd).toBeCloseTo(1.2);
  });

  it('ends with a typed failure when the model fails for good', () => {
    const { output } = runAgent(baseInput(), {
      model: scripted([failure({ retryable: false, kind: 'unauthorized', status: 401, message: 'bad key' })]),
    });
    expect(output).toMatchObject({ outcome: 'failed', error: { stepId: 'research', kind: 'unauthorized' } });
  });

  it('rejects a bad input at once', () => {
    const context = new FakeOrchestrationContext({ ...baseInput(), maxTurns: 0 }, NOW);
    expect(() => drive(agentLoopOrchestrator, context, runtime({}))).toThrow(
      /Invalid agentLoop input: maxTurns/,
    );
  });

  it('continues as new every turnsPerGeneration turns with compacted state, and finishes in the next generation', () => {
    let n = 0;
    const script = {
      model: () => (n++ < 4 ? toolUse([{ id: `tu${n}`, name: 'web_search' }], `turn ${n}`) : answer('final')),
      tool: echoTool,
    };
    const first = runAgent(baseInput({ options: { agent: { turnsPerGeneration: 3 } } }), script);
    expect(first.output).toBeUndefined();
    expect(first.context.calls.at(-1)?.kind).toBe('continueAsNew');
    const next = AgentLoopInput.parse(first.context.continuedAsNew?.input);
    expect(next.state).toMatchObject({ generation: 1, turn: 3, toolCalls: 3, lastText: 'turn 3' });
    expect(next.state?.messages).toHaveLength(7);
    expect(next.state?.ledger.totals.calls).toBe(3);
    expect(next.prompt).toBe('Find the tide tables.');

    const second = runAgent(next, script);
    expect(second.output).toMatchObject({ outcome: 'completed', output: 'final', turns: 5, toolCalls: 4 });
    expect(second.output?.ledger.totals.calls).toBe(5);
    expect(inline(second.observed.models[0])).toEqual(next.state?.messages);
  });

  it('offloads the transcript to blob storage past the threshold and sends only the tail after that', () => {
    let n = 0;
    const { output, observed } = runAgent(
      baseInput({ options: { agent: { transcriptOffloadChars: 1_000 } } }),
      {
        model: () => (n++ < 5 ? toolUse([{ id: `tu${n}`, name: 'web_search' }]) : answer('done')),
        tool: (input) => toolResult(input, 'r'.repeat(400)),
      },
    );
    expect(output?.outcome).toBe('completed');
    const sent = observed.models.map((m) => m.messages);
    expect(sent.slice(0, 2).map((m) => Array.isArray(m) && m.length)).toEqual([1, 3]);
    // Past 1000 characters: a reference to the snapshot, with the messages added since inline.
    const refs = sent.slice(2) as TranscriptRef[];
    expect(refs.every((r) => !Array.isArray(r) && r.ref.container === 'agent-artifacts')).toBe(true);
    expect(refs.every((r) => jsonChars(r.tail ?? []) <= 1_000)).toBe(true);
    // Each call still sees the whole transcript, in order: the task, then two messages per turn.
    observed.models.forEach((model, k) => {
      const transcript = inline(model);
      expect(transcript).toHaveLength(2 * k + 1);
      expect(transcript[0]).toEqual({
        role: 'user',
        content: [{ type: 'text', text: 'Find the tide tables.' }],
      });
    });
    // The snapshots were appended to, each message sent once, never the whole transcript again.
    const appends = observed.appends ?? [];
    expect(appends.length).toBeGreaterThan(1);
    for (const append of appends) {
      expect(jsonChars(append.messages)).toBeLessThanOrEqual(1_000 + 2 * 450);
      expect(append.name).toMatch(/^t\d+-\d+\.json$/);
    }
    const last = appends.at(-1);
    const appended = appends.reduce((sum, a) => sum + a.messages.length, 0);
    expect(appended).toBe((last?.base?.messageCount ?? 0) + (last?.messages.length ?? 0));
    appends.slice(1).forEach((append, i) => {
      const before = appends[i];
      expect(append.base?.messageCount).toBe(
        (before?.base?.messageCount ?? 0) + (before?.messages.length ?? 0),
      );
    });
  });

  describe('instances older than the transcript claim check (unversioned) keep the saveArtifact path', () => {
    it('snapshots the whole transcript with saveArtifact and sends { blobRef, tail }', () => {
      let n = 0;
      const { output, observed } = runAgent(
        baseInput({ options: { agent: { transcriptOffloadChars: 1_000 } } }),
        {
          model: () => (n++ < 5 ? toolUse([{ id: `tu${n}`, name: 'web_search' }]) : answer('done')),
          tool: (input) => toolResult(input, 'r'.repeat(400)),
        },
        'run-1:agent',
        '',
      );
      expect(output?.outcome).toBe('completed');
      expect(observed.appends).toEqual([]);
      const sent = observed.models.map((m) => m.messages);
      expect(sent.slice(0, 2).map((m) => Array.isArray(m) && m.length)).toEqual([1, 3]);
      // Once past 1000 characters: a snapshot, then only the messages added since, until they outgrow it.
      const refs = sent.slice(2) as LegacyTranscriptRef[];
      expect(refs.map((r) => [r.blobRef, r.tail?.length ?? 0])).toEqual([
        ['artifacts/run-1/transcripts/research/5.json', 0],
        ['artifacts/run-1/transcripts/research/5.json', 2],
        ['artifacts/run-1/transcripts/research/9.json', 0],
        ['artifacts/run-1/transcripts/research/9.json', 2],
      ]);
      expect(observed.saves.map((s) => [s.runId, s.name, s.contentType])).toEqual([
        ['run-1', 'transcripts/research/5.json', 'application/json'],
        ['run-1', 'transcripts/research/9.json', 'application/json'],
      ]);
      observed.models.forEach((model, k) => expect(inline(model)).toHaveLength(2 * k + 1));
    });

    it('carries the whole transcript and its blobRef snapshot into the next generation', () => {
      let n = 0;
      const script = {
        model: () =>
          n++ < 4 ? toolUse([{ id: `tu${n}`, name: 'web_search' }], `turn ${n}`) : answer('final'),
        tool: (input: ToolCallInput) => toolResult(input, 'r'.repeat(400)),
      };
      const options = { agent: { turnsPerGeneration: 3, transcriptOffloadChars: 1_000 } };
      const first = runAgent(baseInput({ options }), script, 'run-1:agent', '');
      const next = AgentLoopInput.parse(first.context.continuedAsNew?.input);
      expect(next.state?.messages).toHaveLength(7);
      expect(next.state?.snapshot).toEqual({
        blobRef: 'artifacts/run-1/transcripts/research/5.json',
        messageCount: 5,
        chars: expect.any(Number) as number,
      });
      expect(first.observed.appends).toEqual([]);
      const second = runAgent(next, script, 'run-1:agent', '');
      expect(second.output).toMatchObject({ outcome: 'completed', output: 'final', turns: 5 });
      expect(second.observed.appends).toEqual([]);
      expect(inline(second.observed.models[0])).toEqual(next.state?.messages);
    });

    it('refuses a claim-check snapshot in an unversioned instance instead of mixing the paths', () => {
      const state = {
        generation: 1,
        turn: 1,
        toolCalls: 0,
        messages: [],
        snapshot: {
          ref: { container: 'agent-artifacts', path: 'run-1/t.json', size: 2, sha256: 'a'.repeat(64) },
          messageCount: 1,
          chars: 2,
        },
        lastText: '',
        ledger: emptyLedger(),
        artifacts: [],
      };
      const { output } = runAgent(baseInput({ state }), { model: () => answer('x') }, 'run-1:agent', '');
      expect(output?.outcome).toBe('failed');
      expect(output?.error?.message).toContain(
        'a claim-check transcript snapshot in an instance older than the claim check',
      );
    });
  });

  describe('compaction', () => {
    const WINDOW = 1_500; // tokens, estimated as chars / 4 like the offline model
    const tokensOf = (input: CallModelInput) => Math.ceil(JSON.stringify(input.messages).length / 4);

    /**
     * A model with a small window: it refuses a prompt over the window as the real API does, answers
     * the summarizer, and otherwise calls web_search until it has seen six tool results.
     */
    function smallWindowModel(input: CallModelInput): CallModelResult {
      const prompt = tokensOf(input);
      if (prompt > WINDOW) {
        return failure({
          kind: 'context_window_exceeded',
          retryable: false,
          status: 400,
          message: `prompt is too long: ${prompt} tokens > ${WINDOW} maximum`,
        });
      }
      const limits = { maxTokens: 1_000, contextWindow: WINDOW };
      if (input.system === COMPACTION_SYSTEM) {
        return answer('Searched tides six ways; table A says high tide at 6.', {
          usage: usage(prompt, 20),
          limits,
        });
      }
      const seen = inline(input)
        .flatMap((m) => m.content)
        .filter((b) => b.type === 'tool_result').length;
      const done = inline(input).some((m) => JSON.stringify(m).includes('table A'));
      if (seen >= 6 || (done && seen >= 1))
        return answer('High tide at 6.', { usage: usage(prompt, 5), limits });
      return toolUse([{ id: `tu${seen + 1}`, name: 'web_search', input: { q: `tides ${seen}` } }], '', {
        usage: usage(prompt, 10),
        limits,
      });
    }
    const bulkyTool = (input: ToolCallInput) => toolResult(input, `${input.toolUseId}: ${'t'.repeat(800)}`);

    it('fails with context_window_exceeded when it never compacts', () => {
      const { output } = runAgent(
        baseInput({ role: 'planner', maxTurns: 10, options: { agent: { compactAt: 0.99 } } }),
        {
          model: smallWindowModel,
          tool: bulkyTool,
        },
      );
      expect(output).toMatchObject({ outcome: 'failed', error: { kind: 'context_window_exceeded' } });
    });

    it("summarizes with the workflow's worker when its roles re-point it, and books it under that role", () => {
      const compaction = { role: 'worker', route: { provider: 'openai' as const, deployment: 'gpt-5-mini' } };
      const { output, observed } = runAgent(
        baseInput({ role: 'planner', maxTurns: 10, compaction, options: { agent: { compactKeepTurns: 1 } } }),
        { model: smallWindowModel, tool: bulkyTool },
      );
      expect(output).toMatchObject({ outcome: 'completed' });
      const summaries = observed.models.filter((m) => m.system === COMPACTION_SYSTEM);
      expect(summaries.length).toBeGreaterThan(0);
      expect(summaries.every((m) => m.role === 'worker' && m.route?.deployment === 'gpt-5-mini')).toBe(true);
      // The agent's own turns keep their role and no route.
      expect(
        observed.models.filter((m) => m.system !== COMPACTION_SYSTEM).every((m) => m.route === undefined),
      ).toBe(true);

      const bulk = runAgent(
        baseInput({
          role: 'planner',
          maxTurns: 10,
          compaction: { role: 'bulk' },
          options: { agent: { compactKeepTurns: 1 } },
        }),
        { model: smallWindowModel, tool: bulkyTool },
      );
      const bulkSummaries = bulk.observed.models.filter((m) => m.system === COMPACTION_SYSTEM);
      expect(bulkSummaries.length).toBeGreaterThan(0);
      expect(bulkSummaries.every((m) => m.role === 'bulk' && m.route === undefined)).toBe(true);
      expect(bulk.output?.ledger.rows.map((row) => row.role)).toContain('bulk');
    });

    it('summarizes older turns with the worker role before the window is reached, and completes', () => {
      const { output, observed } = runAgent(
        baseInput({ role: 'planner', maxTurns: 10, options: { agent: { compactKeepTurns: 1 } } }),
        { model: smallWindowModel, tool: bulkyTool },
      );
      expect(output).toMatchObject({ outcome: 'completed', output: 'High tide at 6.' });
      const summaries = observed.models.filter((m) => m.system === COMPACTION_SYSTEM);
      expect(summaries.length).toBeGreaterThan(0);
      expect(summaries.every((m) => m.role === 'worker' && m.stepId === 'research')).toBe(true);
      // The summarizer saw the older tool calls and results as text.
      const asked = JSON.stringify(inline(summaries[0]));
      expect(asked).toContain('[assistant called web_search (tu1)]');
      expect(asked).toContain('[result of tu1]');
      // The next turn: the task, one summary message, then the last turn with its tool result.
      const index = observed.models.indexOf(summaries[0] as CallModelInput);
      const after = inline(observed.models[index + 1]);
      expect(after[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'Find the tide tables.' }] });
      expect(JSON.stringify(after[1])).toContain('Searched tides six ways');
      expect(after.slice(2).map((m) => [m.role, m.content[0]?.type])).toEqual([
        ['assistant', 'tool_use'],
        ['user', 'tool_result'],
      ]);
      expect(observed.models.every((m) => tokensOf(m) <= WINDOW)).toBe(true);
      expect(output?.ledger.rows.map((r) => r.role).sort()).toEqual(['planner', 'worker']);
    });

    it('compacts an unversioned instance in the orchestrator, as it ran before the claim check', () => {
      const { output, observed } = runAgent(
        baseInput({ role: 'planner', maxTurns: 10, options: { agent: { compactKeepTurns: 1 } } }),
        { model: smallWindowModel, tool: bulkyTool },
        'run-1:agent',
        '',
      );
      expect(output).toMatchObject({ outcome: 'completed', output: 'High tide at 6.' });
      expect(observed.appends).toEqual([]);
      const summaries = observed.models.filter((m) => m.system === COMPACTION_SYSTEM);
      expect(summaries.length).toBeGreaterThan(0);
      // The summarizer's prompt went inline, planned by the orchestrator from the transcript it holds.
      expect(Array.isArray(summaries[0]?.messages)).toBe(true);
      expect(JSON.stringify(summaries[0]?.messages)).toContain('[assistant called web_search (tu1)]');
      const index = observed.models.indexOf(summaries[0] as CallModelInput);
      const after = inline(observed.models[index + 1]);
      expect(JSON.stringify(after[1])).toContain('Searched tides six ways');
      expect(observed.models.every((m) => tokensOf(m) <= WINDOW)).toBe(true);
    });

    it('never splits a tool_use from its tool_result and keeps the first message', () => {
      const turn = (id: string): ModelMessage[] => [
        { role: 'assistant', content: [{ type: 'tool_use', id, name: 'web_search', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', toolUseId: id, content: 'r', isError: false }] },
      ];
      const messages: ModelMessage[] = [
        { role: 'user', content: [{ type: 'text', text: 'task' }] },
        ...turn('a'),
        ...turn('b'),
        ...turn('c'),
      ];
      const plan = planCompaction(messages, 2);
      expect(plan?.first).toBe(messages[0]);
      expect(plan?.older).toEqual(turn('a'));
      expect(plan?.recent).toEqual([...turn('b'), ...turn('c')]);
      expect(planCompaction(messages, 3)).toBeUndefined(); // nothing older to summarize
      expect(compactedMessages(plan!, 'S').map((m) => m.role)).toEqual([
        'user',
        'user',
        'assistant',
        'user',
        'assistant',
        'user',
      ]);
    });
  });
});
