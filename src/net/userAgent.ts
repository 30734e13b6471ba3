/** The `User-Agent` of the app's own outbound page fetches (`fetch_url`, file URL references). */
export const DEFAULT_USER_AGENT = 'durable-agents-fetch/0.1 (+https://github.com/durable-agents)';
