export * from './constants';
export * from './input';
export * from './progress';
export * from './error-policy';
export * from './search-attributes';
