/** Jest runs the TypeScript sources directly through ts-jest's ESM mode. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Every test file removes the temporary folders it made (test/support/temp.ts).
  setupFilesAfterEnv: ['<rootDir>/test/cleanup.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'test/tsconfig.json' }],
  },
  testTimeout: 30000,
};
