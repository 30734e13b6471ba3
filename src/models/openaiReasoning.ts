import { isReasoningModelName } from '../shared/openaiModels.js';
import type { EnvReader } from '../config/envReader.js';

/**
 * Which OpenAI deployments are reasoning models. Azure deployment names are free text, so the name guess
 * (o-series and gpt-5*, not `-chat`; src/shared/openaiModels.ts) can be overridden per deployment:
 * `OPENAI_REASONING_DEPLOYMENTS` lists names that are reasoning models whatever they are called,
 * `OPENAI_NON_REASONING_DEPLOYMENTS` names that are not. Both apply to Azure OpenAI and OpenAI.
 */
export interface OpenAIReasoningSettings {
  readonly reasoningDeployments: readonly string[];
  readonly nonReasoningDeployments: readonly string[];
}

export function isReasoningDeployment(deployment: string, settings?: OpenAIReasoningSettings): boolean {
  if (settings?.nonReasoningDeployments.includes(deployment)) return false;
  if (settings?.reasoningDeployments.includes(deployment)) return true;
  return isReasoningModelName(deployment);
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);

export function readOpenAIReasoning(env: EnvReader): OpenAIReasoningSettings {
  const reasoningDeployments = list(env.text('OPENAI_REASONING_DEPLOYMENTS'));
  const nonReasoningDeployments = list(env.text('OPENAI_NON_REASONING_DEPLOYMENTS'));
  const both = reasoningDeployments.filter((name) => nonReasoningDeployments.includes(name));
  if (both.length > 0) {
    env.problems.push(
      `OPENAI_REASONING_DEPLOYMENTS and OPENAI_NON_REASONING_DEPLOYMENTS both list ${both.join(', ')}; keep each name in one`,
    );
  }
  return { reasoningDeployments, nonReasoningDeployments };
}
