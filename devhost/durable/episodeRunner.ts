import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import { isTerminal, planEpisode, type EpisodeEnv, type EpisodePlan } from './episode.js';
import { commitEpisode } from './episodeCommit.js';
import { replayText } from './history.js';
import type { InstanceOps } from './instances.js';
import type { DurableStore } from './store.js';

/** An instance's history as the joined JSON the replay payload embeds (`replayText`), kept between episodes. */
interface CachedHistory {
  joined: string;
  count: number;
  nextSeq: number;
  /** What `replayText` left out of the stored events (their inputs), for the wire meter. */
  leftOutChars: number;
  /**
   * Names this entry's `joined` to the invoker (`InvocationInput.triggerPrefix`): `joined` only grows by
   * appending while the entry lives, and a new entry (after a rewrite, continueAsNew or a restart) gets
   * a new key, so the history a language worker kept under a key always begins the next payload.
   */
  prefixKey: string;
}

/** Runs orchestrator episodes: reads an instance's messages, plans the episode, commits it. */
export class EpisodeRunner {
  readonly #cache = new Map<string, CachedHistory>();
  #entries = 0;

  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly env: EpisodeEnv,
    private readonly instances: InstanceOps,
    private readonly dispatcher: Dispatcher,
    private readonly onTerminal: (instanceId: string) => void,
  ) {}

  /** Drops the cached history of an instance whose stored history was rewritten elsewhere. */
  invalidate(id: string): void {
    this.#drop(id);
  }

  #drop(id: string): void {
    const h = this.#cache.get(id);
    if (!h) return;
    this.#cache.delete(id);
    this.env.invoker.forgetTriggerPrefix?.(h.prefixKey);
  }

  async run(id: string): Promise<void> {
    const q = this.store.q;
    const messages = q.visibleMessages.all(id, this.clock.now());
    if (messages.length === 0) return;
    const row = q.getInstance.get(id);
    if (!row || isTerminal(row.status)) {
      this.store.tx(() => {
        for (const m of messages) q.deleteMessage.run(m.id);
      });
      return;
    }
    const history = this.#history(id);
    const plan = await planEpisode(this.env, row, messages, history);
    if (!plan || this.dispatcher.stopping) return;
    await this.#commit(plan, history);
    if (plan.more) this.dispatcher.runAgain(id);
  }

  #history(id: string): CachedHistory {
    let h = this.#cache.get(id);
    if (!h) {
      const rows = this.store.q.history.all(id);
      const texts = rows.map((r) => replayText(r.event));
      h = {
        joined: texts.join(','),
        count: rows.length,
        nextSeq: (rows.at(-1)?.seq ?? -1) + 1,
        leftOutChars: rows.reduce((sum, r, i) => sum + r.event.length - (texts[i]?.length ?? 0), 0),
        prefixKey: `${id}#${++this.#entries}`,
      };
      this.#cache.set(id, h);
    }
    return h;
  }

  async #commit(plan: EpisodePlan, history: CachedHistory): Promise<void> {
    const row = plan.row;
    const id = row.instance_id;
    const ctx = { store: this.store, invoker: this.env.invoker, instances: this.instances };
    const { texts, replayTexts, work, notify, armTimer, childrenStarted, completedChildOf } =
      await commitEpisode(ctx, plan, history.nextSeq, this.clock.now());
    if (plan.continueAsNew || isTerminal(row.status)) {
      this.#drop(id);
      this.dispatcher.forgetOutstanding(id);
    } else {
      history.joined += (history.count > 0 ? ',' : '') + replayTexts.join(',');
      history.count += replayTexts.length;
      for (const [i, text] of replayTexts.entries())
        history.leftOutChars += (texts[i]?.length ?? 0) - text.length;
      history.nextSeq += replayTexts.length;
    }
    for (const w of work) this.dispatcher.enqueueWork(w);
    this.dispatcher.childrenStarted(id, childrenStarted);
    for (const n of notify) {
      if (n === completedChildOf) this.dispatcher.childFinished(n);
      else this.dispatcher.notify(n);
    }
    if (armTimer) this.dispatcher.armTimer();
    if (isTerminal(row.status)) this.onTerminal(id);
  }
}
