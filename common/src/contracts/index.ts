export * from './common';
export * from './money';
export * from './users';
export * from './listings';
export * from './orders';
export * from './payments';
export * from './events';
export * from './callers';
