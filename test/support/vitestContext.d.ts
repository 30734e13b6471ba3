export {};

declare module 'vitest' {
  interface ProvidedContext {
    /** Connection string of the run-wide in-memory Azurite started by test/support/globalSetup.ts. */
    azuriteConnectionString: string;
  }
}
