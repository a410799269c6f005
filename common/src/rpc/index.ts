export * from './envelope';
export * from './client';
export * from './server';
