import type { FunctionInvoker } from '../functions/types.js';
import type { EpisodePlan } from './episode.js';
import {
  EventType,
  makeEvent,
  replayText,
  type EventTypeValue,
  type HistoryEvent,
  type TaskFailure,
} from './history.js';
import type { InstanceOps } from './instances.js';
import type { DurableStore, WorkItemRow } from './store.js';

export interface CommitContext {
  store: DurableStore;
  invoker: FunctionInvoker;
  instances: InstanceOps;
}

/** What the dispatcher must do once the commit is durable. */
export interface CommitFollowUp {
  /** The appended history events as stored (IsPlayed true). */
  texts: string[];
  /** The same events as later replay payloads carry them (`replayView`). */
  replayTexts: string[];
  work: WorkItemRow[];
  notify: Set<string>;
  armTimer: boolean;
  /** Sub-orchestrations this episode started. */
  childrenStarted: number;
  /** The parent this episode's completion was delivered to, when it was a child. */
  completedChildOf: string | undefined;
}

/**
 * Writes one episode in a single transaction: consumed messages, history (or the reset of
 * continueAsNew), outgoing work, timers, child starts, parent notification and the instance row.
 */
export async function commitEpisode(
  ctx: CommitContext,
  plan: EpisodePlan,
  nextSeq: number,
  now: number,
): Promise<CommitFollowUp> {
  const q = ctx.store.q;
  const row = plan.row;
  const id = row.instance_id;
  const played = plan.events.map((e) => ({ ...e, IsPlayed: true }));
  const texts = played.map((e) => JSON.stringify(e));
  const follow: CommitFollowUp = {
    texts,
    replayTexts: texts.map((text, i) => replayText(text, played[i])),
    work: [],
    notify: new Set<string>(),
    armTimer: false,
    childrenStarted: 0,
    completedChildOf: undefined,
  };
  const deliverToSelf = (event: HistoryEvent): void => {
    q.insertMessage.run(id, row.execution_id, 0, JSON.stringify(event), null);
    follow.notify.add(id);
  };
  const failTask = (type: EventTypeValue, taskId: number, failure: TaskFailure): void =>
    deliverToSelf({ ...makeEvent(type, now, { TaskScheduledId: taskId }), ...failure });

  // The follow-up is rebuilt inside the transaction, so a rolled-back savepoint leaves none behind.
  await ctx.store.groupTx(() => {
    follow.work = [];
    follow.notify = new Set<string>();
    follow.armTimer = false;
    follow.childrenStarted = 0;
    follow.completedChildOf = undefined;
    for (const m of plan.consumed) q.deleteMessage.run(m);
    if (plan.terminated) {
      q.deleteMessages.run(id);
      q.deleteWorkItems.run(id);
    }
    if (plan.continueAsNew) {
      q.setInput.run(id, plan.continueAsNew.input);
      q.deleteHistory.run(id);
      deliverToSelf(
        makeEvent(EventType.ExecutionStarted, now, {
          Name: row.name,
          Input: plan.continueAsNew.input,
          // The new execution keeps the instance's version (DurableTask.Core TaskOrchestrationDispatcher:
          // `Version = completeOrchestratorAction.NewVersion ?? runtimeState.Version`).
          Version: row.version ?? '',
          OrchestrationInstance: { InstanceId: id, ExecutionId: row.execution_id },
        }),
      );
    } else {
      let seq = nextSeq;
      for (const t of follow.texts) q.insertHistory.run(id, seq++, t);
    }
    for (const o of plan.outgoing) {
      switch (o.kind) {
        case 'activity': {
          const reg = ctx.invoker.registrations.get(o.name);
          if (reg?.triggerType.toLowerCase() !== 'activitytrigger') {
            const reason = `The function '${o.name}' doesn't exist, is disabled, or is not an activity function.`;
            failTask(EventType.TaskFailed, o.taskId, { Reason: reason, Details: reason });
            break;
          }
          const r = q.insertWorkItem.run(id, row.execution_id, o.taskId, o.name, o.input);
          follow.work.push({
            id: Number(r.lastInsertRowid),
            instance_id: id,
            execution_id: row.execution_id,
            task_id: o.taskId,
            name: o.name,
            input: o.input,
          });
          break;
        }
        case 'timer': {
          const fired = makeEvent(EventType.TimerFired, o.fireAtMs, {
            TimerId: o.timerId,
            FireAt: new Date(o.fireAtMs).toISOString(),
          });
          q.insertMessage.run(id, row.execution_id, o.fireAtMs, JSON.stringify(fired), o.timerId);
          if (o.fireAtMs <= now) follow.notify.add(id);
          else follow.armTimer = true;
          break;
        }
        case 'cancelTimer':
          q.deleteTimerMessage.run(id, o.timerId);
          break;
        case 'failTask':
          failTask(
            o.sub ? EventType.SubOrchestrationInstanceFailed : EventType.TaskFailed,
            o.taskId,
            o.failure,
          );
          break;
        case 'subOrchestration': {
          const failure = ctx.instances.startChild(o, row, now);
          if (failure !== undefined) {
            failTask(EventType.SubOrchestrationInstanceFailed, o.taskId, {
              Reason: failure,
              Details: failure,
            });
          } else {
            follow.notify.add(o.instanceId);
            follow.childrenStarted += 1;
          }
          break;
        }
      }
    }
    if (plan.notifyParent && row.parent_instance_id !== null) {
      q.insertMessage.run(
        row.parent_instance_id,
        row.parent_execution_id,
        0,
        JSON.stringify({ ...plan.notifyParent, Timestamp: new Date(now).toISOString() }),
        null,
      );
      follow.notify.add(row.parent_instance_id);
      follow.completedChildOf = row.parent_instance_id;
    }
    q.updateInstance.run({ ...row, updated_ms: now, ledger: JSON.stringify(plan.ledger) });
  });
  return follow;
}
