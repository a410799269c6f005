export * from './jwt';
export * from './keys';
export * from './service-identity';
