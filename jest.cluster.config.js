/**
 * Cluster drills (`npm run test:cluster`): each starts a throwaway RabbitMQ cluster of real nodes
 * beside the shared broker (test/support/rabbit-cluster.ts) and stops and restarts its nodes, so they
 * run alone, in band, with time for nodes to boot on a small machine.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 180000,
};
