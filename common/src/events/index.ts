export * from './outbox';
export * from './subscriber';
