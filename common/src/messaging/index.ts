export * from './connection';
export * from './queues';
export * from './channel';
export * from './context';
export * from './delayed';
export * from './raw';
