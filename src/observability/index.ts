export * from './activity';
export * from './logger';
export * from './metrics';
export * from './runtime';
