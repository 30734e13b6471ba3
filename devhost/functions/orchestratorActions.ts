/**
 * The actions in an orchestrator's answer (durable-functions' OrchestratorState), in the order the
 * durable engine numbers them: group by group, with the actions inside `Task.all` / `Task.any`
 * (compound actions) in place of the compound action itself.
 */

/** durable-functions ActionType.WhenAny and ActionType.WhenAll. */
const COMPOUND_ACTION_TYPES: ReadonlySet<unknown> = new Set([11, 12]);

interface ActionLike {
  actionType?: unknown;
  input?: unknown;
  compoundActions?: unknown;
}

/** Calls `visit` on each action in numbering order until it returns false. */
export function forEachAction<A extends ActionLike>(
  groups: readonly A[][],
  visit: (action: A) => boolean,
): void {
  const walk = (list: readonly A[]): boolean => {
    for (const action of list) {
      if (COMPOUND_ACTION_TYPES.has(action.actionType)) {
        const inner = action.compoundActions;
        if (Array.isArray(inner) && !walk(inner as A[])) return false;
      } else if (!visit(action)) return false;
    }
    return true;
  };
  for (const group of groups) if (!walk(group)) return;
}

/**
 * Every episode's answer lists all the actions the orchestration has taken so far, inputs included;
 * the engine reads only the ones past those it already has. Dropping the inputs of the first `known`
 * before the answer is serialized keeps an orchestrator that has started many sub-orchestrations from
 * sending every child's input back on every episode. `result` is the orchestrator's own answer object,
 * changed in place; anything that is not an OrchestratorState is left alone.
 */
export function dropKnownActionInputs(result: unknown, known: number): void {
  if (known <= 0 || typeof result !== 'object' || result === null) return;
  const groups = (result as { actions?: unknown }).actions;
  if (!Array.isArray(groups) || !groups.every((group) => Array.isArray(group))) return;
  let left = known;
  forEachAction(groups as ActionLike[][], (action) => {
    if ('input' in action) action.input = null;
    left -= 1;
    return left > 0;
  });
}
