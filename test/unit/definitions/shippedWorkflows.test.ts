import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDefinitionErrors } from '../../../src/definitions/errors.js';
import {
  compileExpression,
  compileTemplate,
  evaluate,
  evaluateCondition,
  type ExpressionScope,
} from '../../../src/definitions/expressions.js';
import { validateWorkflowInput } from '../../../src/definitions/inputValidation.js';
import { loadWorkflowDirectory } from '../../../src/definitions/loadWorkflows.js';
import { outputExpressionOf, type Step, type WorkflowDefinition } from '../../../src/definitions/schema.js';

const { definitions, errors } = loadWorkflowDirectory(join(__dirname, '../../../workflows'));

function definition(name: string): WorkflowDefinition {
  const found = definitions.get(name);
  if (!found) throw new Error(`${name} did not load:\n${formatDefinitionErrors(errors)}`);
  return found;
}

function step<K extends Step['kind']>(
  workflow: WorkflowDefinition,
  id: string,
  kind: K,
): Extract<Step, { kind: K }> {
  const found = workflow.steps.find((candidate) => candidate.id === id);
  if (found?.kind !== kind) throw new Error(`${workflow.name} has no ${kind} step "${id}"`);
  return found as Extract<Step, { kind: K }>;
}

function startInput(workflow: WorkflowDefinition, input: unknown): unknown {
  const result = validateWorkflowInput(workflow, input);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

describe('shipped workflows', () => {
  it('all validate cleanly', () => {
    expect(formatDefinitionErrors(errors)).toBe('');
    expect([...definitions.keys()].sort()).toEqual([
      'data-analysis',
      'document-intake',
      'research-report',
      'ticket-triage',
    ]);
  });

  it('travel as plain JSON', () => {
    for (const workflow of definitions.values())
      expect(JSON.parse(JSON.stringify(workflow))).toEqual(workflow);
  });

  describe('document-intake', () => {
    const workflow = definition('document-intake');

    it('declares its document as a file and attaches it to the extraction', () => {
      expect(workflow.steps.map((s) => `${s.id}:${s.kind}`)).toEqual([
        'extract:llm',
        'check:agent',
        'approve:approval',
      ]);
      expect(step(workflow, 'extract', 'llm').attach).toEqual(['input.document']);
      expect(step(workflow, 'check', 'agent').tools).toEqual(['run_code']);
      expect(startInput(workflow, { document: { url: 'https://example.com/invoice.pdf' } })).toEqual({
        document: { url: 'https://example.com/invoice.pdf' },
        approvalThreshold: 1000,
      });
      expect(validateWorkflowInput(workflow, { document: { path: '/etc/passwd' } })).toMatchObject({
        ok: false,
        problems: [
          { path: '/document', message: expect.stringContaining('must be a file reference') as unknown },
        ],
      });
    });

    it('routes to approval only above the threshold', () => {
      const approve = step(workflow, 'approve', 'approval');
      const scope = (total: number, threshold: number): ExpressionScope => ({
        input: { approvalThreshold: threshold },
        steps: { extract: { output: { total } } },
      });
      const when = compileExpression(approve.when ?? '');
      expect(evaluateCondition(when, scope(1000.5, 1000))).toBe(true);
      expect(evaluateCondition(when, scope(1000, 1000))).toBe(false);
      expect(evaluateCondition(when, scope(12, 10))).toBe(true);
    });
  });

  describe('research-report', () => {
    const workflow = definition('research-report');

    it('plans with the planner, researches each question with tools, writes with the writer', () => {
      expect(workflow.steps.map((s) => `${s.id}:${s.kind}`)).toEqual([
        'plan:llm',
        'research:map',
        'report:llm',
        'review:approval',
      ]);
      const research = step(workflow, 'research', 'map');
      expect(research.step).toMatchObject({
        kind: 'agent',
        role: 'worker',
        tools: ['web_search', 'fetch_url'],
        maxTurns: 6,
      });
      expect(step(workflow, 'review', 'approval')).toMatchObject({
        timeout: 'P1D',
        onTimeout: 'continue',
        event: 'review',
      });
      expect(outputExpressionOf(workflow)).toBe('steps.report.output');
    });

    it('renders the per-question prompt and its concurrency', () => {
      const input = startInput(workflow, { topic: 'Ocean tides', concurrency: 2 });
      const scope: ExpressionScope = {
        input,
        steps: { plan: { output: { questions: ['What causes tides?', 'How are they predicted?'] } } },
      };
      const research = step(workflow, 'research', 'map');
      expect(evaluate(compileExpression(research.over), scope)).toEqual([
        'What causes tides?',
        'How are they predicted?',
      ]);
      expect(evaluate(compileExpression(String(research.concurrency)), scope)).toBe(2);
      if (research.step.kind !== 'agent') throw new Error('research runs an agent per question');
      const prompt = evaluate(compileTemplate(research.step.prompt), {
        ...scope,
        locals: { question: 'How are they predicted?', index: 1 },
      });
      expect(prompt).toContain('Research question 2 of 2:\nHow are they predicted?');
      expect(prompt).toContain('The overall topic is: Ocean tides');
    });

    it('asks for approval only when the input requests it, with or without schema defaults applied', () => {
      const when = compileExpression(step(workflow, 'review', 'approval').when ?? '');
      expect(evaluateCondition(when, { input: { topic: 'x' }, steps: {} })).toBe(false);
      expect(evaluateCondition(when, { input: startInput(workflow, { topic: 'xyz' }), steps: {} })).toBe(
        false,
      );
      expect(evaluateCondition(when, { input: { topic: 'x', requireApproval: true }, steps: {} })).toBe(true);
    });

    it('asks the planner for the requested number of questions, defaulting to 4', () => {
      const prompt = compileTemplate(step(workflow, 'plan', 'llm').prompt);
      expect(evaluate(prompt, { input: { topic: 'Tides' }, steps: {} })).toContain(
        'Write exactly 4 research questions',
      );
      expect(evaluate(prompt, { input: { topic: 'Tides', questions: 7 }, steps: {} })).toContain(
        'exactly 7 research',
      );
    });
  });

  describe('data-analysis', () => {
    const workflow = definition('data-analysis');

    it('plans, analyses with run_code, and summarises', () => {
      expect(workflow.steps.map((s) => `${s.id}:${s.kind}`)).toEqual([
        'plan:llm',
        'analyze:agent',
        'summary:llm',
      ]);
      expect(step(workflow, 'analyze', 'agent').tools).toEqual(['run_code']);
    });

    it('shows the planner the CSV header and row count, not the whole file', () => {
      const input = startInput(workflow, {
        question: 'Which region grew most?',
        data: 'region,sales\nnorth,10\nsouth,12\n',
      });
      const prompt = evaluate(compileTemplate(step(workflow, 'plan', 'llm').prompt), { input, steps: {} });
      expect(prompt).toContain('The CSV header is:\nregion,sales\n');
      expect(prompt).toContain('It has 3 lines after the header');
      expect(prompt).not.toContain('north,10');
    });
  });

  describe('ticket-triage', () => {
    const workflow = definition('ticket-triage');
    const first = { category: 'bug', priority: 'normal', confidence: 0.55, summary: 'Export fails.' };
    const second = {
      category: 'outage',
      priority: 'urgent',
      confidence: 0.9,
      summary: 'Exports down for all.',
    };

    it('escalates to the planner only when the first pass is unsure', () => {
      const when = compileExpression(step(workflow, 'escalate', 'llm').when ?? '');
      const after = (confidence: number) => ({
        input: {},
        steps: { classify: { output: { ...first, confidence } } },
      });
      expect(evaluateCondition(when, after(0.55))).toBe(true);
      expect(evaluateCondition(when, after(0.7))).toBe(false);
      expect(evaluateCondition(when, after(1))).toBe(false);
      expect(step(workflow, 'classify', 'llm').role).toBe('worker');
      expect(step(workflow, 'escalate', 'llm').role).toBe('planner');
    });

    it('outputs the escalated result when there is one, else the first', () => {
      const output = compileExpression(outputExpressionOf(workflow));
      expect(evaluate(output, { input: {}, steps: { classify: { output: first } } })).toEqual({
        triage: first,
        escalated: false,
      });
      expect(
        evaluate(output, { input: {}, steps: { classify: { output: first }, escalate: { output: second } } }),
      ).toEqual({ triage: second, escalated: true });
    });

    it('shares one category list and result schema between both passes', () => {
      const classify = step(workflow, 'classify', 'llm');
      const escalate = step(workflow, 'escalate', 'llm');
      expect(escalate.system).toBe(classify.system);
      expect(escalate.outputSchema).toEqual(classify.outputSchema);
    });
  });
});
