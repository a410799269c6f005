export * from './app-error';
export * from './validation';
export * from './problem';
