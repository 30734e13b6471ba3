export { htmlToReadableText, type ReadableText } from './htmlToText.js';
export {
  createFetchUrlTool,
  fetchUrlSpec,
  FETCH_URL_TOOL_NAME,
  type FetchUrlToolDeps,
} from './fetchUrlTool.js';
export {
  createSearchProvider,
  createWebSearchTool,
  webSearchSpec,
  WEB_SEARCH_TOOL_NAME,
  type SearchProviderDeps,
  type WebSearchToolDeps,
} from './webSearchTool.js';
export {
  SearchProviderError,
  type SearchOptions,
  type SearchProvider,
  type SearchResult,
} from './webSearch.js';
export { createTavilyProvider } from './tavily.js';
export { createBraveProvider } from './brave.js';
export { createClaudeServerSearchProvider, type MessagesCreate } from './claudeServerSearch.js';
export type { WebToolsConfig } from '../../config/web.js';
export type { WebTool } from './toolOutput.js';
