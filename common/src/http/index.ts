export * from './request-context';
export * from './read-json-body';
export * from './token-headers';
export * from './listen';
