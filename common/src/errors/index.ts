export * from './app-error';
export * from './catalogue';
export * from './validation';
export * from './problem';
