import { describe, expect, it } from 'vitest';
import { dropKnownActionInputs, forEachAction } from '../../devhost/functions/orchestratorActions.js';
import type { FunctionInvoker } from '../../devhost/functions/types.js';
import { engineAppInvoker, openEngine, started } from './engineHarness.js';

/** An OrchestratorState as durable-functions answers: groups, with Task.all (12) and Task.any (11) inside. */
interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string;
  isCanceled?: boolean;
  compoundActions?: Action[];
}

function answer(): { isDone: boolean; actions: Action[][]; customStatus: unknown } {
  return {
    isDone: false,
    actions: [
      [{ actionType: 2, functionName: 'child', input: { n: 0 }, instanceId: 'c0' }],
      [
        {
          actionType: 12,
          compoundActions: [
            { actionType: 0, functionName: 'work', input: 'one' },
            { actionType: 11, compoundActions: [{ actionType: 5, fireAt: 'soon', isCanceled: false }] },
            { actionType: 0, functionName: 'work', input: 'two' },
          ],
        },
      ],
      [{ actionType: 4, input: { next: true } }],
    ],
    customStatus: { kept: true },
  };
}

describe('orchestrator actions', () => {
  it('visits actions in the engine numbering order, compound actions replaced by their members', () => {
    const seen: string[] = [];
    forEachAction(answer().actions, (action) => {
      seen.push(`${action.actionType}:${action.functionName ?? ''}`);
      return true;
    });
    expect(seen).toEqual(['2:child', '0:work', '5:', '0:work', '4:']);
  });

  it('drops the inputs of the known actions only, and keeps everything else of them', () => {
    const state = answer();
    dropKnownActionInputs(state, 3);
    const [first, compound, last] = state.actions;
    expect(first?.[0]).toEqual({ actionType: 2, functionName: 'child', input: null, instanceId: 'c0' });
    expect(compound?.[0]?.compoundActions).toEqual([
      { actionType: 0, functionName: 'work', input: null },
      { actionType: 11, compoundActions: [{ actionType: 5, fireAt: 'soon', isCanceled: false }] },
      { actionType: 0, functionName: 'work', input: 'two' },
    ]);
    expect(last).toEqual([{ actionType: 4, input: { next: true } }]);
    expect(state.customStatus).toEqual({ kept: true });
  });

  it('leaves an answer alone when nothing is known or it is not an orchestrator state', () => {
    const state = answer();
    dropKnownActionInputs(state, 0);
    expect(state).toEqual(answer());
    const other = { actions: 'not a list' };
    dropKnownActionInputs(other, 5);
    expect(other).toEqual({ actions: 'not a list' });
    expect(() => dropKnownActionInputs(null, 2)).not.toThrow();
  });
});

describe('an orchestrator episode on the engine', () => {
  it('tells the worker which actions it has, and gets back only the new ones with their inputs', async () => {
    const inner = await engineAppInvoker();
    const answers: { known: number | undefined; json: string }[] = [];
    const invoker: FunctionInvoker = {
      registrations: inner.registrations,
      invoke: async (name, input) => {
        const output = await inner.invoke(name, input);
        const json = output.returnValue && 'json' in output.returnValue ? output.returnValue.json : '';
        if (name === 'sequence') answers.push({ known: input.knownOrchestratorActions, json });
        return output;
      },
    };
    const h = await openEngine({ invoker });
    try {
      const id = started(h.engine.start({ orchestratorName: 'sequence' }));
      expect((await h.engine.waitForCompletion(id)).output).toEqual([
        'Hello Tokyo',
        'Hello Seattle',
        { n: 3 },
      ]);
    } finally {
      await h.close();
    }
    expect(answers.map((answer) => answer.known)).toEqual([0, 1, 2, 3]);
    // Each answer lists every call so far, with the input of the new one only.
    const inputsIn = (json: string) =>
      (JSON.parse(json) as { actions: { input?: unknown }[][] }).actions.flat().map((action) => action.input);
    expect(answers.map((answer) => inputsIn(answer.json))).toEqual([
      ['"Tokyo"'],
      [null, '"Seattle"'],
      [null, null, { n: 3 }],
      [null, null, null],
    ]);
  });
});
